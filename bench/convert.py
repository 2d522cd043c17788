"""Benchmark: converting courseware to pages, as the task worker does (kehou.teaching.convert).

    .venv/bin/python bench/convert.py [--slides 30] [--rounds 5]

Makes a real PowerPoint deck of ``--slides`` slides (python-pptx, Chinese text and shapes) and a PDF of as many
pages (ReportLab), then times, ``--rounds`` times each: the deck's whole conversion (LibreOffice headless with a
fresh profile → PDF → PDFium draws every page as a PNG 1600 pixels wide, each in its own process), its two halves
apart, the PDF's pages alone, and two decks converted at once (two workers on two cores). Prints one JSON line: the
median and worst seconds of each, and seconds per page. Needs LibreOffice (``apt-get install libreoffice-impress``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--slides", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehou.settings.base")
    import django

    django.setup()
    from kehou.teaching import convert, samples

    if convert.soffice() is None:
        print(json.dumps({"bench": "convert", "error": "LibreOffice (soffice) is not installed"}))
        sys.exit(1)
    base = Path(tempfile.mkdtemp(prefix="kehou-bench-convert-"))
    deck = base / "deck.pptx"
    deck.write_bytes(samples.deck(args.slides))
    pdf = base / "pages.pdf"
    pdf.write_bytes(samples.pdf(args.slides))

    def whole(source: Path, kind: str) -> float:
        with convert.workspace() as work:
            result = convert.convert(kind, source, Path(work))
            assert len(result.pages) == args.slides, len(result.pages)
            return result.seconds

    def office_half() -> float:
        with convert.workspace() as work:
            source = Path(work) / "source.pptx"
            source.write_bytes(deck.read_bytes())
            started = time.monotonic()
            convert._office_to_pdf(source, Path(work), deadline=time.monotonic() + 300)
            return time.monotonic() - started

    figures: dict[str, list[float]] = {"deck": [], "deck_libreoffice": [], "pdf_pages": [], "two_decks_at_once": []}
    whole(deck, "office")  # warm the disk cache of LibreOffice's own files
    for _ in range(args.rounds):
        figures["deck"].append(whole(deck, "office"))
        figures["deck_libreoffice"].append(office_half())
        figures["pdf_pages"].append(whole(pdf, "pdf"))
        started = time.monotonic()
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda _: whole(deck, "office"), range(2)))
        figures["two_decks_at_once"].append(time.monotonic() - started)
    out: dict[str, object] = {"bench": "convert", "slides": args.slides, "rounds": args.rounds}
    for name, values in figures.items():
        out[f"{name}_median_s"] = round(statistics.median(values), 3)
        out[f"{name}_max_s"] = round(max(values), 3)
    out["deck_s_per_slide"] = round(statistics.median(figures["deck"]) / args.slides, 4)
    out["two_at_once_vs_one"] = round(
        statistics.median(figures["two_decks_at_once"]) / statistics.median(figures["deck"]), 2
    )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
