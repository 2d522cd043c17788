"""Draw a PDF's pages, or an image, as PNG pages: run as its own process by the conversion
(``python -m kehou.teaching.rasterize <pdf|image> <source> <out dir> <max pages> <width> [<max bytes>]``), under
memory and CPU limits, so that a hostile file can crash or hang only this process. Prints one JSON line:
``{"pages": n}`` or ``{"error": code}``. Imports nothing of Django."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import sys
from pathlib import Path

MEMORY_BYTES = 2 * 1024 * 1024 * 1024
CPU_SECONDS = 300
MAX_PIXELS = 60_000_000


def _limits() -> None:
    for limit, value in ((resource.RLIMIT_AS, MEMORY_BYTES), (resource.RLIMIT_CPU, CPU_SECONDS)):
        with contextlib.suppress(ValueError, OSError):  # a platform without the limit
            resource.setrlimit(limit, (value, value))


def pdf_pages(source: Path, out: Path, max_pages: int, width: int, max_bytes: int) -> int:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(str(source))
    except pdfium.PdfiumError:
        raise ValueError("pdf_unreadable") from None
    count = len(document)
    if count == 0:
        raise ValueError("no_pages")
    if count > max_pages:
        raise ValueError("too_many_pages")
    written = 0
    for index in range(count):
        page = document[index]
        page_width, page_height = page.get_size()
        if page_width <= 0 or page_height <= 0:
            raise ValueError("pdf_unreadable")
        scale = width / page_width
        if width * page_height * scale > MAX_PIXELS:
            scale = (MAX_PIXELS / (page_width * page_height)) ** 0.5
        image = page.render(scale=scale).to_pil()
        target = out / f"{index + 1:04d}.png"
        image.save(target, format="PNG")
        page.close()
        written += target.stat().st_size
        if written > max_bytes:  # a small file whose pages would fill the disk
            raise ValueError("too_large")
    document.close()
    return count


def image_page(source: Path, out: Path, width: int) -> int:
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(source) as image:
            image.seek(0)  # an animated GIF or WebP: its first frame
            image.load()
            drawn = image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValueError("image_unreadable") from None
    if drawn.width > width:
        drawn = drawn.resize((width, max(1, round(drawn.height * width / drawn.width))))
    drawn.save(out / "0001.png", format="PNG")  # drawn again: no metadata, nothing but pixels
    return 1


def main(argv: list[str]) -> int:
    kind, source, out, max_pages, width = argv[1], Path(argv[2]), Path(argv[3]), int(argv[4]), int(argv[5])
    max_bytes = int(argv[6]) if len(argv) > 6 else 300 * 1024 * 1024
    _limits()
    try:
        drawn = pdf_pages(source, out, max_pages, width, max_bytes) if kind == "pdf" else None
        pages = drawn if drawn is not None else image_page(source, out, width)
    except ValueError as exc:
        print(json.dumps({"error": str(exc)}))
        return 2
    except MemoryError:
        print(json.dumps({"error": "too_large"}))
        return 2
    print(json.dumps({"pages": pages}))
    return 0


if __name__ == "__main__":
    sys.stdout.flush()
    code = main(sys.argv)
    sys.stdout.flush()
    os._exit(code)
