"""Benchmark: computing class-hour pay lines (and releasing each session's fees from escrow) for many sessions.

    .venv/bin/python bench/pay.py [--classes 200] [--pupils 20]

Builds, in a new SQLite file under /tmp (or in the database of ``DATABASE_URL``, which it empties first),
``--classes`` classes over 20 schools, each with ``--pupils`` paid places (orders, lines and their payment postings)
and every session of the term delivered (a check-in inside the radius, a closed roll call). Then it runs
:func:`kehou.payroll.services.lines.pay_lines_compute` over the term twice: first (every line created and every
session's share of the fees released: the ledger posting, one Release row and one conditional UPDATE per place),
then again (nothing to do: what the scheduled job costs every five minutes once the month is computed). Prints one
JSON line: sessions, lines, seconds and lines per second of the first run, seconds of the second, queries per
session of the first, and whether ``ledger_verify`` is balanced after.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehou.settings.base")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if not os.environ.get("DATABASE_URL"):
        folder = tempfile.mkdtemp(prefix="kehou-bench-pay-", dir="/tmp")
        os.environ["SQLITE_PATH"] = os.path.join(folder, "pay.sqlite3")
    import django

    django.setup()
    from django.core.management import call_command

    if os.environ.get("DATABASE_URL"):
        call_command("flush", verbosity=0, interactive=False)
    call_command("migrate", verbosity=0, interactive=False)


def build(classes: int, pupils: int) -> Any:
    from django.utils import timezone

    from kehou.attendance.models import CheckIn, RollCall, ensure_builtin_statuses
    from kehou.attendance.services.common import session_bounds
    from kehou.enrolment.models import ClassSession, CourseClass, Enrolment
    from kehou.enrolment.tests import factories as ef
    from kehou.ledger.models import Account, LedgerTransaction, Posting
    from kehou.ledger.services import ESCROW, Leg, account, clearing_code, post, prepaid_code
    from kehou.payments.models import Order, OrderLine, PaymentAttempt
    from kehou.payroll.models import PayStandard
    from kehou.testing import factories as f

    ensure_builtin_statuses()
    district = f.RegionFactory(code="360102", name="东湖区")
    schools = [f.SchoolFactory(district=district, name=f"测试学校{i:03d}", code=f"36010{i:05d}") for i in range(20)]
    made = []
    for c in range(classes):
        school = schools[c % len(schools)]
        teacher = f.teacher_at(school).teacher_profile
        made.append(ef.make_class(school, teacher=teacher, name=f"课程{c}"))
    now = timezone.now()
    window = ef.open_window(schools[0], 3)
    orders, lines, check_ins, roll_calls = [], [], [], []
    for cls in made:
        kids = [f.PupilFactory(school=cls.school, grade=3) for _ in range(pupils)]
        enrolments = Enrolment.objects.bulk_create(
            [
                Enrolment(
                    course_class=cls,
                    pupil=kid,
                    window=window,
                    status="confirmed",
                    fee_fen=cls.fee_fen,
                    requested_by=window.created_by,
                    created_at=now,
                    status_changed_at=now,
                    confirmed_at=now,
                )
                for kid in kids
            ]
        )
        CourseClass.objects.filter(pk=cls.pk).update(taken=pupils)
        for i, e in enumerate(enrolments):
            orders.append(
                Order(
                    order_no=f"KHB{cls.pk:05d}{i:04d}",
                    enrolment=e,
                    school_id=cls.school_id,
                    pupil_id=e.pupil_id,
                    payer=window.created_by,
                    description=cls.name,
                    total_fen=cls.fee_fen,
                    paid_fen=cls.fee_fen,
                    status="paid",
                    channel="simulator",
                    request_key=f"b-{cls.pk}-{i}",
                    created_at=now,
                    expires_at=now,
                    paid_at=now,
                )
            )
        post(
            key=f"settlement:bench:{cls.pk}",
            kind="settlement",
            legs=[Leg(ESCROW, clearing_code("simulator"), cls.fee_fen * pupils)],
            now=now,
        )
    Order.objects.bulk_create(orders, batch_size=500)
    for order in Order.objects.all():
        lines.append(OrderLine(order=order, kind="course", description=order.description, amount_fen=order.total_fen))
    OrderLine.objects.bulk_create(lines, batch_size=500)
    # Each order paid through the simulator: its attempt and its payment posting, as the payments app writes them.
    attempts = PaymentAttempt.objects.bulk_create(
        [
            PaymentAttempt(
                order=o,
                channel="simulator",
                out_trade_no=f"KPB{o.pk:09d}",
                amount_fen=o.total_fen,
                status="paid",
                created_at=now,
                finished_at=now,
            )
            for o in Order.objects.all()
        ],
        batch_size=500,
    )
    for school in schools:  # the accounts, opened as the first posting would
        account(prepaid_code(school.pk))
    account(clearing_code("simulator"))
    accounts = {a.code: a for a in Account.objects.all()}
    school_of = dict(Order.objects.values_list("pk", "school_id"))
    txns = LedgerTransaction.objects.bulk_create(
        [
            LedgerTransaction(key=f"payment:{a.out_trade_no}", kind="payment", at=now, school_id=school_of[a.order_id])
            for a in attempts
        ],
        batch_size=500,
    )
    Posting.objects.bulk_create(
        [
            Posting(
                transaction=t,
                debit=accounts[clearing_code("simulator")],
                credit=accounts[prepaid_code(school_of[a.order_id])],
                amount_fen=a.amount_fen,
            )
            for t, a in zip(txns, attempts, strict=True)
        ],
        batch_size=500,
    )
    sessions = list(ClassSession.objects.filter(course_class__in=made).select_related("course_class"))
    for s in sessions:
        start, end = session_bounds(s)
        check_ins.append(
            CheckIn(
                session=s,
                teacher_id=s.course_class.teacher_id,
                at=start,
                outcome="inside",
                timing="on_time",
                distance_m=40,
                radius_m=300,
            )
        )
        roll_calls.append(
            RollCall(
                session=s,
                expected=pupils,
                present=pupils,
                opened_at=start,
                updated_at=end,
                closed_at=end + timedelta(hours=2),
            )
        )
    CheckIn.objects.bulk_create(check_ins, batch_size=500)
    RollCall.objects.bulk_create(roll_calls, batch_size=500)
    cls0 = made[0]
    PayStandard.objects.create(
        region=district, category_id=cls0.entry.item.category_id, teacher_kind="staff", rate_fen=8000, set_at=now
    )
    dates = sorted(s.date for s in sessions)
    return dates[0], dates[-1], len(sessions)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--classes", type=int, default=200)
    parser.add_argument("--pupils", type=int, default=20)
    args = parser.parse_args()
    setup()
    from django.db import connection
    from django.utils import timezone

    from kehou.ledger.selectors import verify
    from kehou.payroll.services.lines import pay_lines_compute

    built = time.perf_counter()
    first, last, sessions = build(args.classes, args.pupils)
    built = time.perf_counter() - built
    now = timezone.make_aware(timezone.datetime.combine(last + timedelta(days=1), timezone.datetime.min.time()))
    queries = [0]

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        queries[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        t = time.perf_counter()
        if os.environ.get("BENCH_PROFILE"):
            import cProfile
            import pstats

            profile = cProfile.Profile()
            result = profile.runcall(pay_lines_compute, now=now, since=first, until=last)
            pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(25)
        else:
            result = pay_lines_compute(now=now, since=first, until=last)
        first_s = time.perf_counter() - t
    t = time.perf_counter()
    again = pay_lines_compute(now=now, since=first, until=last)
    second_s = time.perf_counter() - t
    verified = verify()
    print(
        json.dumps(
            {
                "bench": "pay_lines_compute",
                "database": connection.vendor,
                "classes": args.classes,
                "pupils_per_class": args.pupils,
                "sessions": sessions,
                "lines_created": result.created,
                "fees_released_fen": result.released_fen,
                "first_run_s": round(first_s, 3),
                "lines_per_s": round(result.created / first_s, 1) if first_s else None,
                "queries_per_session": round(queries[0] / max(sessions, 1), 1),
                "second_run_s": round(second_s, 3),
                "second_run_created": again.created,
                "ledger_balanced": verified.balanced,
                "ledger_breaches": verified.breaches[:3],
                "build_s": round(built, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
