"""Turning a courseware file into PNG pages, in processes of its own, each with a time limit.

* An Office file: LibreOffice headless converts it to PDF, with a fresh profile in a fresh temporary directory
  (``-env:UserInstallation``) for every conversion, so that conversions share nothing and a crashed one leaves
  nothing behind; then as a PDF.
* A PDF: :mod:`kehou.teaching.rasterize` draws its pages with PDFium, under memory and CPU limits.
* An image: drawn again as one page by Pillow in the same child process.

Each child runs in its own process group and is killed with it when the time (``CONVERT_SECONDS`` in all) runs out.
Whatever the file does, the caller gets a :class:`Converted` or a :class:`ConversionFailed` with a stable code:
``conversion_timeout``, ``converter_missing``, ``conversion_failed``, ``too_many_pages``, ``pdf_unreadable``,
``image_unreadable``, ``no_pages``, ``too_large`` (the pages would take more than ``PAGES_MAX_BYTES``, or 20 times
the file, whichever is more). Every child has its address space capped (``CONVERT_MEMORY_MB``) and is the first the
kernel's out-of-memory killer takes.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings


@dataclass(frozen=True)
class Converted:
    pages: list[Path]
    seconds: float


class ConversionFailed(Exception):
    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail[:300]


def rules() -> dict[str, int | str]:
    return dict(settings.KEHOU_TEACHING)


def soffice() -> str | None:
    configured = str(rules().get("SOFFICE") or "")
    if configured:
        return configured if Path(configured).exists() else None
    return shutil.which("soffice") or shutil.which("libreoffice")


def _confiner(limit: int) -> Callable[[], None]:
    def confine() -> None:
        """In the child, before it runs: a cap on its address space (a document that unpacks into gigabytes fails
        in the child, not in the machine), and first in line for the out-of-memory killer (never the worker)."""
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        with contextlib.suppress(OSError), open("/proc/self/oom_score_adj", "w") as adj:
            adj.write("1000")

    return confine


def _run(command: list[str], *, deadline: float, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    left = deadline - time.monotonic()
    if left <= 0:
        raise ConversionFailed("conversion_timeout")
    child = subprocess.Popen(  # noqa: S603 - fixed programs, arguments of our own
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,
        preexec_fn=_confiner(int(rules().get("CONVERT_MEMORY_MB", 2048)) * 1024 * 1024),
    )
    try:
        out, err = child.communicate(timeout=left)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)
        child.communicate()
        raise ConversionFailed("conversion_timeout") from None
    finally:
        with contextlib.suppress(
            ProcessLookupError, PermissionError
        ):  # whatever the child left running in its group (LibreOffice's helpers)
            os.killpg(child.pid, signal.SIGKILL)
    return subprocess.CompletedProcess(command, child.returncode, out, err)


def _office_to_pdf(source: Path, work: Path, *, deadline: float) -> Path:
    program = soffice()
    if program is None:
        raise ConversionFailed("converter_missing", "LibreOffice (soffice) is not installed on this server")
    profile = work / "profile"
    out = work / "pdf"
    out.mkdir()
    env = {"HOME": str(work), "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "TMPDIR": str(work)}
    command = [
        program,
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--invisible",
        "--norestore",
        "--nolockcheck",
        "--nodefault",
        "--nologo",
        "--convert-to",
        "pdf",
        "--outdir",
        str(out),
        str(source),
    ]
    done = _run(command, deadline=deadline, cwd=work, env=env)
    made = out / (source.stem + ".pdf")
    if done.returncode != 0 or not made.exists() or made.stat().st_size == 0:
        raise ConversionFailed("conversion_failed", (done.stderr or done.stdout or "").strip())
    return made


def _rasterize(kind: str, source: Path, out: Path, *, deadline: float) -> list[Path]:
    r = rules()
    command = [
        sys.executable,
        "-m",
        "kehou.teaching.rasterize",
        kind,
        str(source),
        str(out),
        str(int(r["MAX_PAGES"])),
        str(int(r["PAGE_WIDTH"])),
        str(max(int(r["PAGES_MAX_BYTES"]), 20 * source.stat().st_size)),
    ]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = _run(command, deadline=deadline, cwd=out, env=env)
    try:
        answer = json.loads((done.stdout or "").strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise ConversionFailed("conversion_failed", (done.stderr or "")[-300:]) from None
    if "error" in answer:
        raise ConversionFailed(str(answer["error"]))
    pages = sorted(out.glob("*.png"))
    if not pages or len(pages) != int(answer.get("pages", 0)):
        raise ConversionFailed("conversion_failed", "the pages were not all drawn")
    return pages


def convert(kind: str, data_path: Path, work: Path) -> Converted:
    """Pages (PNG files in ``work``) of a stored file of ``kind`` (pdf, office, image)."""
    started = time.monotonic()
    deadline = started + int(rules()["CONVERT_SECONDS"])
    suffix = {"pdf": ".pdf", "image": ".img"}.get(kind, data_path.suffix or ".pptx")
    source = work / f"source{suffix}"
    shutil.copyfile(data_path, source)
    if kind == "office":
        source = _office_to_pdf(source, work, deadline=deadline)
        kind = "pdf"
    out = work / "pages"
    out.mkdir()
    pages = _rasterize(kind, source, out, deadline=deadline)
    return Converted(pages=pages, seconds=time.monotonic() - started)


def workspace() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="kehou-convert-")
