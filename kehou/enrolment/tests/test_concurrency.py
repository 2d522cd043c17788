"""The rush, run for real: hundreds of selections from many threads, each with its own database connection, on
PostgreSQL and on a file SQLite with the project's settings (see catalog/tests/test_concurrency.py for why a file).

Exact counts after every race: no class holds more than its capacity, no child holds a class twice, one request key
is one row, and ``taken`` equals the number of held and confirmed rows (a seat is never both held and free).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

from kehou.catalog.tests.test_concurrency import Race
from kehou.core.errors import KehouError
from kehou.core.models import AuditEntry
from kehou.enrolment.models import CourseClass, Enrolment
from kehou.enrolment.services.selection import enrolment_cancel, enrolment_confirm, enrolment_select
from kehou.enrolment.services.waitlist import holds_expire
from kehou.testing import factories as f

from .factories import MON_1600, NOW, TUE_1600, WED_1600, family, key, make_class, open_window

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def race(tmp_path: Path) -> Iterator[Race]:
    r = Race(tmp_path)
    yield r
    r.stop()


WORKERS = 24  # simultaneous connections (PostgreSQL's default max_connections is 100; other tests run beside)


def run_many(racer: Race, calls: list[Callable[[], Any]], workers: int = WORKERS) -> list[Any]:
    """Run many calls from ``workers`` threads released together; each call's result or exception, in order."""
    results: list[Any] = [None] * len(calls)
    barrier = threading.Barrier(workers)
    lock = threading.Lock()
    pending = list(enumerate(calls))

    def worker() -> None:
        try:
            barrier.wait(timeout=60)
            while True:
                with lock:
                    if not pending:
                        return
                    i, call = pending.pop()
                try:
                    results[i] = call()
                except Exception as exc:
                    results[i] = exc
        finally:
            connections["default"].close()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert not any(t.is_alive() for t in threads), "a racing call never finished"
    return results


def codes(results: list[Any]) -> dict[str, int]:
    counted: dict[str, int] = {}
    for r in results:
        if isinstance(r, Exception) and not isinstance(r, KehouError):
            raise r
        code = r.code if isinstance(r, KehouError) else "ok"
        counted[code] = counted.get(code, 0) + 1
    return counted


def invariants(racer: Race, class_ids: list[int]) -> dict[int, tuple[int, int, int]]:
    """(taken, seat rows, capacity) per class, read where the racers wrote; asserts they agree."""

    def read() -> dict[int, tuple[int, int, int]]:
        out = {}
        for c in CourseClass.objects.filter(pk__in=class_ids):
            seats = Enrolment.objects.filter(course_class=c, status__in=["held", "confirmed"]).count()
            out[c.pk] = (c.taken, seats, c.capacity)
        dupes = (
            Enrolment.objects.filter(status__in=["applied", "waiting", "held", "confirmed"])
            .values("course_class_id", "pupil_id")
            .order_by()
        )
        pairs = [(d["course_class_id"], d["pupil_id"]) for d in dupes]
        assert len(pairs) == len(set(pairs)), "a child holds a class twice"
        return out

    state = racer.read(read)
    for taken, seats, capacity in state.values():
        assert taken == seats <= capacity
    return state


def test_three_hundred_selections_for_twenty_five_seats(race: Race) -> None:
    # Given a class of 25 seats and 300 families, each with one child in the open grade
    school = f.SchoolFactory()
    course_class = make_class(school, capacity=25)
    open_window(school, 3)
    families = [family(school) for _ in range(300)]
    race.start()
    # When all of them select at once
    results = run_many(
        race,
        [
            lambda p=p, k=k: enrolment_select(
                actor=p, pupil_id=k.pk, class_id=course_class.pk, request_key=key(), now=NOW
            )
            for p, [k] in families
        ],
    )
    # Then exactly 25 hold a seat and 275 are told the class is full; one audit row per seat
    assert codes(results) == {"ok": 25, "class_full": 275}
    assert invariants(race, [course_class.pk]) == {course_class.pk: (25, 25, 25)}
    assert race.read(lambda: AuditEntry.objects.filter(action="enrolment.held").count()) == 25


def test_one_request_retried_many_times_at_once_is_one_selection(race: Race) -> None:
    school = f.SchoolFactory()
    course_class = make_class(school, capacity=5)
    open_window(school, 3)
    parent, [kid] = family(school)
    k = key()
    race.start()
    results = run_many(
        race,
        [
            lambda: enrolment_select(actor=parent, pupil_id=kid.pk, class_id=course_class.pk, request_key=k, now=NOW)
            for _ in range(40)
        ],
    )
    assert codes(results) == {"ok": 40}
    assert len({r.enrolment.pk for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert invariants(race, [course_class.pk]) == {course_class.pk: (1, 1, 5)}


def test_one_child_selecting_many_classes_at_once_gets_at_most_the_window_limit(race: Race) -> None:
    school = f.SchoolFactory()
    classes = [make_class(school, slots=[s], name=n) for s, n in ((MON_1600, "甲"), (TUE_1600, "乙"), (WED_1600, "丙"))]
    clashing = [make_class(school, slots=[MON_1600], name=f"同时{i}") for i in range(3)]
    open_window(school, 3, max_classes=2)
    parent, [kid] = family(school)
    race.start()
    calls = [
        lambda c=c: enrolment_select(actor=parent, pupil_id=kid.pk, class_id=c.pk, request_key=key(), now=NOW)
        for c in classes + clashing
        for _ in range(3)
    ]
    results = run_many(race, calls, workers=12)
    outcome = codes(results)
    assert outcome["ok"] == 2  # two places, never three, whatever the order
    assert set(outcome) <= {"ok", "too_many_classes", "time_clash", "already_selected"}
    live = race.read(lambda: Enrolment.objects.filter(pupil=kid, status="held").count())
    assert live == 2
    invariants(race, [c.pk for c in classes + clashing])


def test_cancellations_expiries_and_selections_racing_keep_the_count_exact(race: Race) -> None:
    # Given a full class of 10 with holds, a waitlist of 10, and 20 more families trying to get in
    school = f.SchoolFactory()
    course_class = make_class(school, capacity=10)
    open_window(school, 3, hold_minutes=15)
    holders = [family(school) for _ in range(10)]
    held = [
        enrolment_select(actor=p, pupil_id=k.pk, class_id=course_class.pk, request_key=key(), now=NOW).enrolment
        for p, [k] in holders
    ]
    waiters = [family(school) for _ in range(10)]
    for p, [k] in waiters:
        enrolment_select(
            actor=p, pupil_id=k.pk, class_id=course_class.pk, request_key=key(), now=NOW, join_waitlist=True
        )
    late = [family(school) for _ in range(20)]
    later = NOW + timedelta(minutes=16)  # the first holds have expired by now
    race.start()
    calls: list[Callable[[], Any]] = []
    calls += [
        lambda e=e, p=p: enrolment_cancel(actor=p, enrolment=e, now=later) for e, (p, _k) in zip(held[:5], holders)
    ]
    calls += [lambda e=e: enrolment_confirm(enrolment_id=e.pk, now=later) for e in held[5:]]
    calls += [lambda: holds_expire(now=later) for _ in range(4)]
    calls += [
        lambda p=p, k=k: enrolment_select(
            actor=p, pupil_id=k.pk, class_id=course_class.pk, request_key=key(), now=later, join_waitlist=True
        )
        for p, [k] in late
    ]
    results = run_many(race, calls)
    codes(results)  # no crash
    # Then the seats are exactly the held and confirmed rows, never above capacity, and the waiters went first
    state = invariants(race, [course_class.pk])
    assert state[course_class.pk][0] == 10  # every freed seat was taken again (the waitlist is long enough)
    promoted_waiters = race.read(
        lambda: Enrolment.objects.filter(pupil__in=[k for _p, [k] in waiters], status="held").count()
    )
    assert promoted_waiters == 10


def test_confirm_and_expiry_at_the_same_moment_one_wins(race: Race) -> None:
    school = f.SchoolFactory()
    course_class = make_class(school, capacity=3)
    open_window(school, 3, hold_minutes=15)
    parent, [kid] = family(school)
    row = enrolment_select(
        actor=parent, pupil_id=kid.pk, class_id=course_class.pk, request_key=key(), now=NOW
    ).enrolment
    at = NOW + timedelta(minutes=15) - timedelta(microseconds=1)
    later = NOW + timedelta(minutes=15)
    race.start()
    results = run_many(
        race,
        [lambda: enrolment_confirm(enrolment_id=row.pk, now=at), lambda: holds_expire(now=later)],
        workers=2,
    )
    codes(results)
    status = race.read(lambda: Enrolment.objects.get(pk=row.pk).status)
    assert status in {"confirmed", "expired"}
    invariants(race, [course_class.pk])
