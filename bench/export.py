"""Benchmark: the city bureau's Excel exports of every pupil and of the audit log, streamed (the pages' writer)
beside the whole workbook built in memory with openpyxl's write-only mode (the writer they had before).

    .venv/bin/python bench/export.py [--sqlite /tmp/demo.sqlite3] [--rounds 3]

Needs a loaded demo: ``--sqlite`` names a SQLite file that holds one (``SQLITE_PATH=... manage.py migrate &&
manage.py load_demo``), or ``DATABASE_URL`` points at one; without either it loads the demo into a new file under
/tmp first (about two minutes). Each export is requested through Django's test client as the city bureau, the two
writers alternating within each round. Prints one JSON line per run: for each page and writer the median seconds to
the first byte and to the last, the bytes, and the peak of Python memory allocated while it ran (tracemalloc).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def setup(sqlite: str | None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehou.settings.base")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    fresh = False
    if not os.environ.get("DATABASE_URL"):
        if not sqlite:
            sqlite = os.path.join(tempfile.mkdtemp(prefix="kehou-bench-export-", dir="/tmp"), "demo.sqlite3")
        fresh = not os.path.exists(sqlite)
        os.environ["SQLITE_PATH"] = sqlite
    import django

    django.setup()
    if fresh:
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        call_command("load_demo", verbosity=0)


def in_memory(**kwargs: Any) -> Any:
    """The writer the pages had before: the whole workbook in memory, then one response."""
    from django.http import HttpResponse

    from kehou.core.excel import XLSX_MIME, workbook_bytes

    kwargs.pop("asynchronous", None)
    filename = kwargs.pop("filename")
    response = HttpResponse(workbook_bytes(**kwargs), content_type=XLSX_MIME)
    response["Content-Disposition"] = f"attachment; filename={filename}"
    return response


def measure(client: Any, path: str) -> dict[str, float]:
    tracemalloc.start()
    t0 = time.perf_counter()
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    if response.streaming:
        chunks = iter(response.streaming_content)
        first = next(chunks)
        ttfb = time.perf_counter() - t0
        size = len(first) + sum(len(c) for c in chunks)
    else:
        ttfb = time.perf_counter() - t0
        size = len(response.content)
    total = time.perf_counter() - t0
    _now, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"ttfb_s": ttfb, "total_s": total, "bytes": size, "peak_mib": peak / 2**20}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sqlite")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    setup(args.sqlite)
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from kehou.people.models import Pupil

    client = Client()
    client.force_login(get_user_model().objects.get(username="city"))
    pages = {"pupils": "/pupils/?format=xlsx", "audit": "/audit/?format=xlsx"}
    runs: dict[str, dict[str, list[dict[str, float]]]] = {p: {"streamed": [], "in_memory": []} for p in pages}
    client.get(pages["pupils"])  # warm: imports, translations, the first query plans
    for _ in range(args.rounds):
        for name, path in pages.items():
            runs[name]["streamed"].append(measure(client, path))
            with mock.patch("kehou.core.pages.xlsx_response", in_memory):
                runs[name]["in_memory"].append(measure(client, path))
    out: dict[str, Any] = {"bench": "export", "db": connection.vendor, "pupils": Pupil.objects.count()}
    for name, writers in runs.items():
        for writer, samples in writers.items():
            out[f"{name}_{writer}"] = {
                k: round(statistics.median(s[k] for s in samples), 3) for k in ("ttfb_s", "total_s", "peak_mib")
            } | {"bytes": samples[0]["bytes"]}
        s, m = out[f"{name}_streamed"], out[f"{name}_in_memory"]
        out[f"{name}_ratios"] = {
            "ttfb": round(s["ttfb_s"] / m["ttfb_s"], 3),
            "total": round(s["total_s"] / m["total_s"], 3),
            "peak_memory": round(s["peak_mib"] / m["peak_mib"], 3),
        }
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
