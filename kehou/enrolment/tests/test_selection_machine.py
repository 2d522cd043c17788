"""A hypothesis state machine over selection: parents select (or join the waitlist), cancel, pay (confirm), time
passes and holds expire, the school changes capacity. After every step the invariants hold:

* ``taken`` is exactly the number of held and confirmed rows, and never above capacity;
* no child has two live places in one class, nor more counted places than the window allows;
* a class with anyone on its waitlist has no free seat (a freed seat always goes to the head first);
* a held seat's hold has not yet run out once the ticker has run.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from kehou.core.errors import KehouError
from kehou.enrolment.models import LIVE_STATUSES, CourseClass, Enrolment
from kehou.enrolment.services.classes import class_update
from kehou.enrolment.services.selection import enrolment_cancel, enrolment_confirm, enrolment_select
from kehou.enrolment.services.waitlist import holds_expire
from kehou.testing import factories as f

from .factories import MON_1600, NOW, TUE_1600, WED_1600, family, key, make_class, open_window, school_admin

pytestmark = pytest.mark.django_db

KIDS = 6
MAX_CLASSES = 2


class SelectionMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()  # every example rolls back to here
        school = f.SchoolFactory()
        self.admin = school_admin(school)
        self.classes = [
            make_class(school, admin=self.admin, capacity=2, slots=[slot], name=name)
            for slot, name in ((MON_1600, "甲"), (TUE_1600, "乙"), (WED_1600, "丙"))
        ]
        open_window(school, 3, max_classes=MAX_CLASSES, hold_minutes=15, hours=24 * 20)
        self.families = [family(school) for _ in range(KIDS)]
        self.now = NOW

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def _live(self) -> list[Enrolment]:
        return list(Enrolment.objects.filter(status__in=LIVE_STATUSES).order_by("pk"))

    @rule(kid=st.integers(0, KIDS - 1), which=st.integers(0, 2), wait=st.booleans(), retry=st.booleans())
    def select(self, kid: int, which: int, wait: bool, retry: bool) -> None:
        parent, [pupil] = self.families[kid]
        k = key()
        calls = 2 if retry else 1
        answers = []
        for _ in range(calls):
            try:
                answers.append(
                    enrolment_select(
                        actor=parent,
                        pupil_id=pupil.pk,
                        class_id=self.classes[which].pk,
                        request_key=k,
                        now=self.now,
                        join_waitlist=wait,
                    ).enrolment.pk
                )
            except KehouError as refusal:
                answers.append(refusal.code)
        assert len(set(answers)) == 1, f"a retried request answered differently: {answers}"

    @rule(pick=st.integers(0, 1000))
    def cancel(self, pick: int) -> None:
        live = self._live()
        if live:
            row = live[pick % len(live)]
            parent, _kids = self.families[[k[0].pk for _p, k in self.families].index(row.pupil_id)]
            enrolment_cancel(actor=parent, enrolment=row, now=self.now)

    @rule(pick=st.integers(0, 1000))
    def pay(self, pick: int) -> None:
        held = [e for e in self._live() if e.status == "held"]
        if held:
            row = held[pick % len(held)]
            try:
                enrolment_confirm(enrolment_id=row.pk, now=self.now)
            except KehouError as refusal:
                assert refusal.code == "hold_expired" and row.hold_expires_at <= self.now

    @rule(minutes=st.integers(1, 20))
    def time_passes(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)
        holds_expire(now=self.now)

    @rule(which=st.integers(0, 2), capacity=st.integers(1, 4))
    def change_capacity(self, which: int, capacity: int) -> None:
        course_class = CourseClass.objects.get(pk=self.classes[which].pk)
        try:
            class_update(actor=self.admin, course_class=course_class, capacity=capacity, now=self.now)
        except KehouError as refusal:
            assert refusal.code == "capacity_below_taken" and capacity < course_class.taken

    @invariant()
    def seats_are_exactly_the_held_and_confirmed_rows(self) -> None:
        for c in CourseClass.objects.filter(pk__in=[c.pk for c in self.classes]):
            seats = Enrolment.objects.filter(course_class=c, status__in=["held", "confirmed"]).count()
            assert c.taken == seats <= c.capacity
            waiting = Enrolment.objects.filter(course_class=c, status="waiting").exists()
            stale = Enrolment.objects.filter(course_class=c, status="held", hold_expires_at__lte=self.now).exists()
            assert not waiting or c.taken == c.capacity or stale, "a seat is free while children wait"

    @invariant()
    def one_place_per_child_and_class_and_the_window_limit(self) -> None:
        pairs = [(e.course_class_id, e.pupil_id) for e in self._live()]
        assert len(pairs) == len(set(pairs))
        counted: dict[int, int] = {}
        for e in self._live():
            if e.status in ("applied", "held", "confirmed"):
                counted[e.pupil_id] = counted.get(e.pupil_id, 0) + 1
        assert all(n <= MAX_CLASSES for n in counted.values())


def test_selection_state_machine(db: Any) -> None:
    run_state_machine_as_test(
        SelectionMachine, settings=settings(max_examples=30, stateful_step_count=30, deadline=None)
    )
