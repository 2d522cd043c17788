"""Profile the selection request in one process: seeds like bench/rush.py, then sends selection requests through
Django's test client (the same middleware, DRF view and service as the server, without uvicorn) under
pyinstrument, and prints where the time goes and the queries per request.

    .venv/bin/python bench/_profile_rush.py [--db sqlite|postgres] [--requests 300] [--kind created|sold_out]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import rush  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--kind", choices=["created", "sold_out"], default="sold_out")
    parser.add_argument("--profile", choices=["pyinstrument", "cprofile", "none"], default="pyinstrument")
    parser.add_argument("--queries", action="store_true", help="print the queries of one request")
    parser.add_argument(
        "--ab-module",
        default="",
        help="A/B: a module (an earlier copy of the service) whose enrolment_select replaces the current one",
    )
    parser.add_argument(
        "--touch-when-stale",
        action="store_true",
        help="A/B: token_touch skips its UPDATE when the token it was given was used less than 5 minutes ago",
    )
    args = parser.parse_args()
    ns = argparse.Namespace(
        db=args.db,
        clients=args.requests,
        classes=40,
        capacity=500,
        hot_capacity=1,
        max_classes=10,
        pool=4,
        pg_db="kehou_bench_rush_profile",
    )
    tmp = tempfile.mkdtemp(prefix="kehou-bench-profile-", dir="/tmp")
    env = rush.setup_env(ns, tmp)
    env["ALLOWED_HOSTS"] += ",testserver"
    os.environ.update(env)
    os.environ.pop("DB_POOL_MAX_SIZE", None)
    if args.db == "postgres":
        rush.pg_recreate(ns.pg_db)
    try:
        world = rush.seed(ns)
        from django.db import connection, reset_queries
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        if args.ab_module:
            import importlib

            from kehou.enrolment.services import selection

            selection.enrolment_select = importlib.import_module(args.ab_module).enrolment_select  # type: ignore[assignment]
        if args.touch_when_stale:
            from datetime import timedelta

            from kehou.people import services as people_services

            touch = people_services.token_touch

            def touch_when_stale(*, token, now):  # type: ignore[no-untyped-def]
                fresh = now - timedelta(seconds=people_services.TOKEN_TOUCH_SECONDS)
                if token.last_used_at is None or token.last_used_at < fresh:
                    touch(token=token, now=now)

            people_services.token_touch = touch_when_stale
        client = Client(raise_request_exception=True)
        # the hot class (capacity 1) is sold out by pupil 0 first
        r = client.post(
            "/api/v1/enrolments/",
            {"pupil": world.pupils[0], "course_class": world.hot_id, "join_waitlist": False},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {world.tokens[0]}",
            HTTP_IDEMPOTENCY_KEY="profile-first",
        )
        assert r.status_code == 201, r.content

        def one(i: int) -> int:
            # Parents come back with the same token, as in the rush: each asks for up to 9 classes (distinct slots).
            if args.kind == "sold_out":
                class_id, c = world.hot_id, 1 + i % 20
            else:
                class_id, c = world.ordinary[i % 9], 1 + i // 9
            resp = client.post(
                "/api/v1/enrolments/",
                {"pupil": world.pupils[c], "course_class": class_id, "join_waitlist": False},
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {world.tokens[c]}",
                HTTP_IDEMPOTENCY_KEY=f"profile-{i:06d}",
            )
            return resp.status_code

        with CaptureQueriesContext(connection) as ctx:
            status = one(0)
        print(f"status {status}; {len(ctx.captured_queries)} queries in one request")
        if args.queries:
            for q in ctx.captured_queries:
                print("  ", q["sql"][:300])
        reset_queries()
        n = args.requests - 2
        if args.profile == "pyinstrument":
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005)
            profiler.start()
        elif args.profile == "cprofile":
            import cProfile

            prof = cProfile.Profile()
            prof.enable()
        t0, c0 = time.perf_counter(), time.process_time()
        statuses = [one(i) for i in range(1, n + 1)]
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        if args.profile == "pyinstrument":
            profiler.stop()
            print(profiler.output_text(unicode=True, color=False, show_all=False))
        elif args.profile == "cprofile":
            import pstats

            prof.disable()
            pstats.Stats(prof).sort_stats("cumulative").print_stats(40)
        print(
            f"{n} requests in {seconds:.2f}s: {n / seconds:.0f}/s, {1000 * seconds / n:.2f} ms each, "
            f"{1000 * cpu / n:.2f} ms CPU; {set(statuses)}"
        )
        connection.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if args.db == "postgres":
            rush.pg_recreate(ns.pg_db, drop_only=True)


if __name__ == "__main__":
    main()
