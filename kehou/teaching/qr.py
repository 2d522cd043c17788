"""QR codes made on the server (segno): a data: URI of an SVG, shown as an image, so nothing in it can run."""

from __future__ import annotations

import segno


def qr_data_uri(payload: str) -> str:
    return str(segno.make_qr(payload, error="m").svg_data_uri(scale=6, border=2, dark="#102a24"))
