"""Benchmark: import a 10,000-row roster into a fresh school, then import the same file again.

    .venv/bin/python bench/roster.py [--rows 10000]

Runs on ``DATABASE_URL`` when it is set (PostgreSQL), otherwise on a new SQLite file under /tmp (WAL, as in
production). Prints one JSON line: {"db", "rows", "seconds", "rows_per_s", "reimport_seconds", ...}.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def setup() -> str:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehou.settings.base")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if not os.environ.get("DATABASE_URL"):
        tmp = tempfile.mkdtemp(prefix="kehou-bench-roster-", dir="/tmp")
        os.environ["SQLITE_PATH"] = os.path.join(tmp, "bench.sqlite3")
        os.environ.setdefault("KEHOU_VAR_DIR", tmp)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    return connection.vendor


def build_file(rows: int, run: int) -> bytes:
    """Pupils with valid G numbers; each pupil has a mother, and pairs of siblings share their father."""
    from openpyxl import Workbook

    from kehou.people import roster

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(roster.ROSTER_SHEET)
    ws.append(roster.HEADERS)
    region = f"99{run % 10000:04d}"  # no real area ("99"), one per run: numbers stay unique on a reused DB
    births = [datetime(2014 + y, m, d) for y in range(6) for m in range(1, 13) for d in (3, 17)]
    phone_base = 13_000_000_000 + (run % 9) * 100_000_000  # names follow phones: a reused phone is the same person
    for i in range(rows):
        birth = births[(i // 1000) % len(births)]
        first17 = f"{region}{birth:%Y%m%d}{i % 1000:03d}"
        mother = phone_base + 2 * i
        father = phone_base + 50_000_000 + i // 2
        ws.append(
            [
                "G" + first17 + roster.id_check_digit(first17),
                f"学生{i}",
                "男" if i % 2 else "女",
                birth,
                1 + i % 6,
                f"{1 + i % 10}班",
                f"母亲{mother}",
                "母亲",
                str(mother),
                f"父亲{father}",
                "父亲",
                str(father),
            ]
        )
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    vendor = setup()

    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from kehou.orgs.models import Region, School
    from kehou.people.models import Role, RoleAssignment, User
    from kehou.people.roster_services import roster_import

    settings.KEHOU_ROSTER_MAX_ROWS = max(settings.KEHOU_ROSTER_MAX_ROWS, args.rows)
    settings.KEHOU_ROSTER_MAX_BYTES = max(settings.KEHOU_ROSTER_MAX_BYTES, 64 * 1024 * 1024)
    run = random.SystemRandom().randrange(10_000)
    now = timezone.now()
    city, _ = Region.objects.get_or_create(code="360100", defaults={"name": "南昌市", "kind": "city"})
    district, _ = Region.objects.get_or_create(
        code="360199", defaults={"name": "基准测试区", "kind": "district", "parent": city}
    )
    school = School.objects.create(
        code=f"36019{run:05d}",
        name=f"基准测试学校{run}",
        stage=School.Stage.PRIMARY,
        authority=School.Authority.DISTRICT,
        district=district,
        latitude="28.682000",
        longitude="115.858000",
        joined_at=now,
    )
    admin = User.objects.create(username=f"bench-roster-{run}", full_name="基准测试管理员", date_joined=now)
    RoleAssignment.objects.create(user=admin, role=Role.SCHOOL_ADMIN, school=school, granted_at=now)

    started = time.perf_counter()
    data = build_file(args.rows, run)
    build_seconds = time.perf_counter() - started

    def run_import() -> tuple[float, object]:
        t0 = time.perf_counter()
        upload = SimpleUploadedFile("bench.xlsx", data)
        report = roster_import(actor=admin, school=school, file=upload, now=timezone.now())
        return time.perf_counter() - t0, report

    seconds, first = run_import()
    reimport_seconds, again = run_import()
    assert first.created == args.rows, first.as_dict()  # type: ignore[attr-defined]
    assert again.unchanged == args.rows, again.as_dict()  # type: ignore[attr-defined]
    print(
        json.dumps(
            {
                "db": vendor,
                "rows": args.rows,
                "file_bytes": len(data),
                "build_seconds": round(build_seconds, 2),
                "seconds": round(seconds, 2),
                "rows_per_s": round(args.rows / seconds),
                "accounts_created": first.accounts_created,  # type: ignore[attr-defined]
                "guardians_linked": first.guardians_linked,  # type: ignore[attr-defined]
                "reimport_seconds": round(reimport_seconds, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
