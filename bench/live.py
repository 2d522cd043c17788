"""Benchmark: the operator's live view for an operator authorised for many schools.

    .venv/bin/python bench/live.py [--schools 200] [--classes 5] [--rounds 5]

Builds a city in a new SQLite file under /tmp (or in the database of ``DATABASE_URL``, which it empties first):
``--schools`` schools, all authorised for one operator company, each with ``--classes`` classes whose session is
today at 16:00 with a check-in (on time, late, outside, none in turn) and a roll call, plus an open follow-up on each
session without a check-in. Then, through Django's test client as the operator (no HTTP), it requests
``GET /api/v1/operator/live/`` and the page ``/operations/live/`` ``--rounds`` times each and prints one JSON line:
the median and worst seconds of each, the number of sessions on the board and the queries each request made.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehou.settings.base")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if not os.environ.get("DATABASE_URL"):
        folder = tempfile.mkdtemp(prefix="kehou-bench-live-", dir="/tmp")
        os.environ["SQLITE_PATH"] = os.path.join(folder, "live.sqlite3")
    import django

    django.setup()
    from django.core.management import call_command

    if os.environ.get("DATABASE_URL"):
        call_command("flush", verbosity=0, interactive=False)
    call_command("migrate", verbosity=0, interactive=False)


def build(schools: int, classes: int, now: datetime) -> Any:
    from django.utils import timezone

    from kehou.attendance.models import CheckIn, FollowUp, RollCall, ensure_builtin_statuses
    from kehou.core.roles import Role
    from kehou.enrolment.models import ClassSession, CourseClass
    from kehou.enrolment.tests import factories as ef
    from kehou.orgs.models import OperatorAuthorisation
    from kehou.testing import factories as f

    ensure_builtin_statuses()
    district = f.RegionFactory(code="360102", name="东湖区")
    made = [f.SchoolFactory(district=district, name=f"测试学校{i:04d}", code=f"36010{i:05d}") for i in range(schools)]
    user = f.UserFactory(username="operator")
    op = f.operator_for(made[0])
    OperatorAuthorisation.objects.bulk_create(
        [OperatorAuthorisation(operator=op, school=s, granted_at=now) for s in made[1:]]
    )
    f.grant(user, Role.OPERATOR_STAFF, operator=op)
    today = timezone.localdate(now)
    start = timezone.make_aware(datetime.combine(today, dtime(16, 0)))
    sessions: list[ClassSession] = []
    for school in made:
        for c in range(classes):
            teacher = f.teacher_at(school).teacher_profile  # one class each: they all meet at 16:00
            cls = ef.make_class(school, teacher=teacher, name=f"课程{c}")
            CourseClass.objects.filter(pk=cls.pk).update(taken=20)
            first = ClassSession.objects.filter(course_class=cls).order_by("number").first()
            assert first is not None
            ClassSession.objects.filter(pk=first.pk).update(date=today, starts_at=dtime(16, 0), ends_at=dtime(16, 45))
            sessions.append(first)
    outcomes = [("inside", "on_time"), ("inside", "late"), ("outside", "on_time"), None]
    check_ins, roll_calls, follow_ups = [], [], []
    for i, s in enumerate(sessions):
        school_id = s.course_class.school_id
        picked = outcomes[i % len(outcomes)]
        if picked is None:
            follow_ups.append(
                FollowUp(session=s, school_id=school_id, kind="no_check_in", level="school", opened_at=start)
            )
        else:
            check_ins.append(
                CheckIn(
                    session=s,
                    teacher_id=s.course_class.teacher_id,
                    at=start + timedelta(minutes=-5 if picked[1] == "on_time" else 20),
                    outcome=picked[0],
                    timing=picked[1],
                    distance_m=40,
                    radius_m=300,
                )
            )
        roll_calls.append(
            RollCall(
                session=s, expected=20, present=17, absent=1, leave=1, unmarked=1, opened_at=start, updated_at=start
            )
        )
    CheckIn.objects.bulk_create(check_ins, batch_size=500)
    RollCall.objects.bulk_create(roll_calls, batch_size=500)
    FollowUp.objects.bulk_create(follow_ups, batch_size=500)
    return user, start + timedelta(minutes=20)


def measure(client: Any, url: str, rounds: int) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    queries = 0
    size = 0
    for _ in range(rounds):
        with CaptureQueriesContext(connection) as ctx:
            t = time.perf_counter()
            response = client.get(url)
            body = response.content
            times.append(time.perf_counter() - t)
        assert response.status_code == 200, (url, response.status_code)
        queries, size = len(ctx.captured_queries), len(body)
    return {
        "median_s": round(statistics.median(times), 3),
        "max_s": round(max(times), 3),
        "queries": queries,
        "bytes": size,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--schools", type=int, default=200)
    parser.add_argument("--classes", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    setup()
    from unittest import mock

    from django.test import Client
    from django.utils import timezone

    t = time.perf_counter()
    now = timezone.now()
    user, at = build(args.schools, args.classes, now)
    built = time.perf_counter() - t
    client = Client()
    client.force_login(user)
    with mock.patch("kehou.core.clock.now", lambda: at):
        client.get("/api/v1/operator/live/")  # warm the caches (templates, translations, schema of the serializer)
        client.get("/operations/live/")
        api = measure(client, "/api/v1/operator/live/", args.rounds)
        page = measure(client, "/operations/live/", args.rounds)
        sessions = client.get("/api/v1/operator/live/").json()["summary"]["sessions"]
    database = "postgresql" if os.environ.get("DATABASE_URL") else "sqlite"
    print(
        json.dumps(
            {
                "bench": "live",
                "database": database,
                "schools": args.schools,
                "sessions": sessions,
                "built_s": round(built, 1),
                "api": api,
                "page": page,
            }
        )
    )


if __name__ == "__main__":
    main()
