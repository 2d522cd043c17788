"""The teaching platform's background work (run by the task worker)."""

from __future__ import annotations

from kehou.core import clock
from kehou.core.jobs import job


@job()
def convert_rendition(rendition_id: int) -> str:
    """One courseware file converted to pages (LibreOffice for Office files, PDFium for PDFs, Pillow for images)."""
    from .services.courseware import rendition_convert

    return rendition_convert(rendition_id=rendition_id, now=clock.now())


@job()
def sweep_conversions() -> dict[str, int]:
    """Conversions left behind by a worker that died, queued again."""
    from .services.courseware import renditions_sweep

    return {"conversions_requeued": renditions_sweep(now=clock.now())}
