"""Pay and release races, run for real on PostgreSQL (threads released together by a barrier, each with its own
connection; see catalog/tests/test_concurrency.py): two school admins approving a month at once, two operator
approvals, two payout batches, and a refund racing the release of the same place's last share.

PostgreSQL only: these are row-lock and unique-index races (``SELECT … FOR UPDATE``, conditional UPDATEs that wait
for a concurrent writer and re-read the row, a partial unique index that makes a second inserter wait), which
SQLite's single writer serialises anyway."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import OperationalError

from kehou.attendance.models import SessionSubstitute
from kehou.attendance.services.common import session_bounds
from kehou.catalog.tests.test_concurrency import Race
from kehou.conftest import City
from kehou.core.errors import KehouError
from kehou.core.models import AuditEntry
from kehou.ledger.models import LedgerTransaction
from kehou.ledger.selectors import balances, verify
from kehou.ledger.services import TEACHER_PAY_PAYABLE
from kehou.orgs.models import OperatorCompany
from kehou.payments.models import Order, OrderLine
from kehou.payments.services.refunds import refund_request
from kehou.payments.services.releases import release_session
from kehou.payroll.models import PayLine, Payout, PayoutBatch
from kehou.payroll.services import lines as pl
from kehou.payroll.services import payouts as po
from kehou.people.models import Role, User
from kehou.testing import factories as f

from .factories import RATE, bind_payee, deliver, paid_class, sessions, standard_for
from .test_pay_machine import simulator_payments

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
        reason="row-lock races need PostgreSQL: run with DATABASE_URL=postgres://…",
    ),
]


@pytest.fixture
def race(tmp_path: Path) -> Iterator[Race]:
    r = Race(tmp_path)
    yield r
    r.stop()


@pytest.fixture
def payout_simulator(settings: Any, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path
    settings.KEHOU_PAYMENT_CHANNELS = ["simulator"]
    settings.KEHOU_PAYROLL = {**settings.KEHOU_PAYROLL, "PAYOUT_CHANNEL": "simulator"}


def outcome(results: list[Any]) -> list[str]:
    """ "ok" for a success, the error code for a refusal; anything else (a crash, a deadlock) fails the test."""
    for r in results:
        if isinstance(r, OperationalError) and "deadlock" in str(r):
            pytest.fail(f"two racing calls deadlocked: {str(r).splitlines()[0:3]}")
        if isinstance(r, Exception) and not isinstance(r, KehouError):
            raise r
    return sorted("ok" if not isinstance(r, KehouError) else str(r.code) for r in results)


def second(role: str, **where: Any) -> User:
    user = f.UserFactory()
    f.grant(user, role, **where)
    return user


def operator_of(city: City) -> OperatorCompany:
    return OperatorCompany.objects.get(staff__user=city.users["operator_staff"])


def delivered_month(city: City, *, held: int = 3, substitute: Any = None) -> tuple[str, Any]:
    """A paid class of A1 whose first ``held`` sessions (one month) were delivered and computed, the first by
    ``substitute`` when given: (period, after)."""
    cls, _orders = paid_class(city.a1, 4, teacher=city.users["teacher"].teacher_profile)
    standard_for(cls)
    every = sessions(cls)[:held]
    if substitute is not None:
        SessionSubstitute.objects.create(
            session=every[0],
            teacher=substitute,
            reason="病假",
            named_by=city.users["school_admin"],
            named_at=cls.created_at,
        )
    after = max(deliver(s, teacher=substitute if i == 0 and substitute else None) for i, s in enumerate(every))
    pl.pay_lines_compute(now=after, since=after.date() - timedelta(days=400))
    periods = set(PayLine.objects.values_list("period", flat=True))
    assert len(periods) == 1 and PayLine.objects.count() == held
    return periods.pop(), after


# --- (a) the school ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("round_", range(3))
def test_two_school_admins_approving_a_month_at_once_approve_it_once(city: City, race: Race, round_: int) -> None:
    # Given a month of three computed lines and two administrators of the school
    period, after = delivered_month(city)
    admins = [city.users["school_admin"], second(Role.SCHOOL_ADMIN, school=city.a1)]
    race.start()
    # When both approve it at the same moment
    results = race.run(
        *(lambda a=a: pl.pay_school_approve(actor=a, school=city.a1, period=period, now=after) for a in admins)
    )
    # Then one approves the three lines and the other is told nothing awaits the school
    assert outcome(results) == ["ok", "pay_nothing_to_approve"]
    assert sorted(r for r in results if not isinstance(r, Exception)) == [3]

    def state() -> tuple[list[str], int]:
        return (
            list(PayLine.objects.values_list("status", flat=True)),
            AuditEntry.objects.filter(action="payroll.school_approve").count(),
        )

    statuses, audits = race.read(state)
    assert statuses == ["school_approved"] * 3
    assert audits == 1


# --- (b) the operator -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("round_", range(3))
def test_two_operator_approvals_at_once_accrue_the_month_once(city: City, race: Race, round_: int) -> None:
    # Given a month the school approved, and two of the operator's staff
    period, after = delivered_month(city)
    pl.pay_school_approve(actor=city.users["school_admin"], school=city.a1, period=period, now=after)
    staff = [city.users["operator_staff"], second(Role.OPERATOR_STAFF, operator=operator_of(city))]
    race.start()
    results = race.run(
        *(lambda s=s: pl.pay_operator_approve(actor=s, school=city.a1, period=period, now=after) for s in staff)
    )
    assert outcome(results) == ["ok", "pay_nothing_to_approve"]
    assert sorted(r for r in results if not isinstance(r, Exception)) == [3]

    def state() -> tuple[list[tuple[str, str]], list[str], int, bool]:
        return (
            list(PayLine.objects.values_list("status", "accrual_key")),
            list(LedgerTransaction.objects.filter(kind="accrual").values_list("key", flat=True)),
            balances()[TEACHER_PAY_PAYABLE],
            verify().balanced,
        )

    lines, accruals, payable, balanced = race.read(state)
    assert len(accruals) == 1, accruals
    assert lines == [("approved", accruals[0])] * 3
    assert payable == 3 * RATE and balanced


# --- (c) payout batches -----------------------------------------------------------------------------------------


def approved_month_of_two_teachers(city: City) -> tuple[str, Any, OperatorCompany]:
    """An approved month of A1: two lines of its teacher and one of a substitute, both with a payout account."""
    substitute = f.teacher_at(city.a1).teacher_profile
    period, after = delivered_month(city, substitute=substitute)
    pl.pay_school_approve(actor=city.users["school_admin"], school=city.a1, period=period, now=after)
    pl.pay_operator_approve(actor=city.users["operator_staff"], school=city.a1, period=period, now=after)
    bind_payee(city.users["teacher"].teacher_profile)
    bind_payee(substitute)
    return period, after, operator_of(city)


@pytest.mark.parametrize("who", ["same staff, two request keys", "two staff"])
def test_two_payout_batches_at_once_pay_each_line_once(
    city: City, race: Race, payout_simulator: None, who: str
) -> None:
    # Given an approved month of two teachers, both with a payout account
    period, after, operator = approved_month_of_two_teachers(city)
    staff = city.users["operator_staff"]
    actors = [staff, staff if who.startswith("same") else second(Role.OPERATOR_STAFF, operator=operator)]
    race.start()
    # When two batches for the same operator and month start at the same moment (the send tasks run on commit)
    results = race.run(
        *(
            lambda a=a, k=k: po.payout_batch_start(
                actor=a, operator=operator, period=period, request_key=f"race-batch-{k}", now=after
            )
            for k, a in enumerate(actors)
        )
    )
    codes = outcome(results)
    # Then one batch pays, the other is refused: running (or, had the first finished, nothing left to pay)
    assert codes in (["ok", "payout_batch_running"], ["ok", "payout_nothing"]), codes

    def state() -> tuple[int, list[tuple[int, list[int], str]], list[tuple[str, int | None]], bool]:
        return (
            PayoutBatch.objects.count(),
            list(Payout.objects.values_list("batch_id", "line_ids", "status")),
            list(PayLine.objects.values_list("status", "payout_id")),
            verify().balanced,
        )

    batches, payouts, lines, balanced = race.read(state)
    # one batch, one payout per teacher, each line carried once and bound to the payout carrying it
    assert batches == 1 and len(payouts) == 2 and len({b for b, _ids, _s in payouts}) == 1 and balanced
    carried = [i for _b, ids, _s in payouts for i in ids]
    assert len(carried) == len(set(carried)) == 3
    assert {s for s, _p in lines} <= {"paying", "paid"} and None not in {p for _s, p in lines}
    assert len({p for _s, p in lines}) == 2


def test_the_same_payout_request_twice_at_once_answers_with_one_batch(
    city: City, race: Race, payout_simulator: None
) -> None:
    """A double click: the same request key twice at the same moment. The key makes the request idempotent ("the
    same request key answers with the same batch"), so both answers are that batch."""
    period, after, operator = approved_month_of_two_teachers(city)
    staff = city.users["operator_staff"]
    race.start()
    results = race.run(
        *(
            lambda: po.payout_batch_start(
                actor=staff, operator=operator, period=period, request_key="race-batch-once", now=after
            )
            for _ in range(2)
        )
    )
    codes = outcome(results)
    assert race.read(lambda: (PayoutBatch.objects.count(), Payout.objects.count())) == (1, 2)
    assert codes == ["ok", "ok"], codes
    assert len({batch.pk for batch, _skipped in results}) == 1


# --- (d) a refund racing a release ------------------------------------------------------------------------------


def _share_open(city: City, *, materials: int = 0) -> tuple[list[Order], Any, Any, Any, dict[int, User]]:
    """A paid class of A1 (four places, simulator payments) and a session held (its roll call closed) and not yet
    computed: without materials the last, every earlier session delivered and released; with materials the first.
    (orders, the session, a moment before it began, one after its roll call closed, each order's guardian)."""
    cls, orders = paid_class(city.a1, 4, teacher=city.users["teacher"].teacher_profile, materials=materials)
    standard_for(cls)
    simulator_payments(orders)
    guardians = {order.pk: f.guardian_of(order.pupil) for order in orders}
    every = sessions(cls)
    if materials:
        session = every[0]
    else:
        session = every[-1]
        done = max(deliver(s) for s in every[:-1])
        pl.pay_lines_compute(now=done, since=done.date() - timedelta(days=400))
    before = session_bounds(session)[0] - timedelta(minutes=5)
    return orders, session, before, deliver(session), guardians


@pytest.mark.parametrize("round_", range(2))
@pytest.mark.parametrize(
    ("share", "releaser"),
    [
        ("last course share", "release_session"),
        ("last course share", "pay_lines_compute"),
        ("materials with the first session", "release_session"),
        ("materials with the first session", "pay_lines_compute"),
    ],
)
def test_a_refund_racing_the_release_of_the_same_share_never_takes_it_twice(
    city: City, race: Race, payout_simulator: None, share: str, releaser: str, round_: int
) -> None:
    # Given four places whose last undelivered share (or the materials, handed out with the first session) is
    # both what a refund quoted now would take and what the session's release takes
    orders, session, before, after, guardians = _share_open(
        city, materials=50_00 if share.startswith("materials") else 0
    )
    release: Callable[[], Any]
    if releaser == "release_session":
        release = lambda: release_session(session=session, now=after)  # noqa: E731
    else:
        release = lambda: pl.pay_lines_compute(  # noqa: E731
            now=after, since=session.date - timedelta(days=400), until=session.date
        )
    refunds = [
        lambda o=o: refund_request(
            actor=guardians[o.pk], order=Order.objects.get(pk=o.pk), request_key=f"race-refund-{o.pk}", now=before
        )
        for o in orders
    ]
    race.start()
    # When every guardian cancels at the moment the session's release runs (a refund quoted after the release
    # finds nothing left, or only what the release left; one quoted before it is refused if the release took the
    # room first)
    results = race.run(release, *refunds)
    codes = outcome(results)
    assert set(codes) <= {"ok", "refund_exceeds_paid"}, codes

    # Then no place is refunded and released beyond its charge, and the ledger balances
    def state() -> tuple[list[tuple[int, str, int, int, int]], list[str]]:
        lines = OrderLine.objects.order_by("pk").values_list("pk", "kind", "amount_fen", "refunded_fen", "released_fen")
        return list(lines), verify().breaches

    lines, breaches = race.read(state)
    assert breaches == []
    for pk, kind, amount, refunded, released in lines:
        assert refunded + released <= amount, (pk, kind, amount, refunded, released)
    if share.startswith("last"):
        # The last share went one way, to the refund or to the release, and none of it was lost
        assert all(r + s == a for _pk, _k, a, r, s in lines), lines
    else:
        # The materials were either refunded whole (not handed out yet) or released whole (handed out), not both
        assert all(sorted((r, s)) == [0, a] for _pk, k, a, r, s in lines if k == "materials"), lines
