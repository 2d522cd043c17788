"""The classes stage's selection: who wants which class, then the selections replayed as events in time order (a
parent selects, pays within the hold or not, cancels; the tick expires holds and promotes the waitlist; the lotteries
are drawn), each through the enrolment services with its own ``now``."""

from __future__ import annotations

import heapq
import random
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from kehou.core.errors import Conflict, KehouError

from .base import LoaderBase, PlanClass
from .reference import (
    CARE_SHARE,
    LOTTERY,
    OPEN,
    PARTICIPATION,
    STAGGERED,
    SUSPENDING_DISTRICT,
    SUSPENSION_REASON,
    WindowPlan,
    lottery_seed,
)


class SelectionMixin(LoaderBase):
    # --- who wants what --------------------------------------------------------------------------------------
    def plan_demand(self, plans: list[tuple[Any, str]]) -> None:
        from kehou.people.models import Pupil

        for school, kind in plans:
            if kind == STAGGERED:
                continue
            rng = self.rng(f"demand:{school.code}")
            offered = [c for c in self.classes if c.school.pk == school.pk]
            pupils = Pupil.objects.filter(school=school).exclude(pk__in=self.named_children).order_by("student_number")
            pupils_here = [(pk, grade) for pk, grade in pupils.values_list("pk", "grade") if pk in self.guardian]
            busy: dict[int, set[tuple[int, int]]] = {}  # pupil → (weekday, period) of the courses planned
            for pk, grade in pupils_here:
                if rng.random() >= PARTICIPATION[kind]:
                    continue
                care = [c for c in offered if c.kind == "care" and c.covers(grade)]
                courses = [c for c in offered if c.kind == "course" and c.covers(grade)]
                if care and (rng.random() < CARE_SHARE or not courses):
                    care[0].demand.append(pk)
                    continue
                wanted = 2 if rng.random() < 0.45 else 1
                taken = busy.setdefault(pk, set())
                pool = list(courses)
                while pool and wanted:
                    weights = [{"full": 5, "nearly_full": 3, "drawn": 6}.get(c.role, 1) for c in pool]
                    choice = rng.choices(pool, weights=weights)[0]
                    pool.remove(choice)
                    if taken & set(choice.cells):
                        continue
                    taken.update(choice.cells)
                    choice.demand.append(pk)
                    wanted -= 1
            # In a small city the story's classes may draw too few: pupils who have room for one more join them.
            for c in offered:
                least = {"full": 4, "nearly_full": 2, "drawn": 4}.get(c.role, 0)
                for pk, grade in pupils_here:
                    if len(c.demand) >= least:
                        break
                    taken = busy.get(pk, set())
                    if pk in c.demand or not c.covers(grade) or len(taken) >= 2 or taken & set(c.cells):
                        continue
                    if any(pk in other.demand for other in offered if other.kind == "care"):
                        continue
                    busy.setdefault(pk, set()).update(c.cells)
                    c.demand.append(pk)
        for c in self.classes:
            n = len(c.demand)
            if c.role == "full":
                c.capacity = max(1, n - min(5, max(2, n // 5)))
            elif c.role == "nearly_full":
                c.capacity = n + 2
            elif c.role == "drawn":
                c.capacity = max(1, n - max(2, n // 3))

    # --- the selections, as events in time order ------------------------------------------------------------
    def schedule(self, plans: list[tuple[Any, str]], windows: dict[int, WindowPlan]) -> None:
        for school, kind in plans:
            if kind == STAGGERED:
                continue
            plan = windows[school.pk]
            rng = self.rng(f"times:{school.code}")
            end = min(plan.closes_at, self.base) - timedelta(minutes=1)
            span = (end - plan.opens_at).total_seconds()
            picks: dict[int, list[PlanClass]] = defaultdict(list)
            for c in self.classes:
                if c.school.pk == school.pk:
                    for pk in c.demand:
                        picks[pk].append(c)
            for pk in sorted(picks):
                if pk in self.waived or any(c.role in ("full", "nearly_full") for c in picks[pk]):
                    offset = rng.uniform(30, min(span, 20 * 60))  # the keen ones: in the first twenty minutes
                elif rng.random() < 0.55:
                    offset = rng.uniform(30, min(span, 15 * 60 if kind == OPEN else 3 * 3600))  # the rush
                else:
                    offset = rng.uniform(30, span)
                at = plan.opens_at + timedelta(seconds=round(offset))
                for i, c in enumerate(picks[pk]):
                    self.push(at + timedelta(seconds=40 * i), "select", pk, c, False)
            if kind == LOTTERY:
                for grade in school.grade_range:
                    self.push(plan.closes_at + timedelta(minutes=2), "draw", school, grade)
        suspend = [
            c
            for c in self.classes
            if c.school.district.code == SUSPENDING_DISTRICT
            and c.kind == "course"
            and not c.role
            and c.demand
            and c.entry.upstream is not None
            and c.entry.upstream.level == "district"
        ]
        if suspend:
            self.suspended_class = sorted(suspend, key=lambda c: (c.school.code, c.name))[0]
            self.push(self.base - timedelta(hours=5), "suspend", self.suspended_class)

    def replay(self) -> None:
        from kehou.enrolment.models import Enrolment
        from kehou.enrolment.services.lottery import lottery_draw
        from kehou.enrolment.services.selection import enrolment_select
        from kehou.enrolment.services.waitlist import holds_expire

        rng = self.rng("fates")
        self.places.begin(self.base)
        while self.events:
            event = heapq.heappop(self.events)
            t = event.at
            if event.kind == "select":
                pk, c, join = event.args
                actor = self.guardian[pk]
                try:
                    result = enrolment_select(
                        actor=actor, pupil_id=pk, class_id=c.obj.pk, request_key=self.key(), now=t, join_waitlist=join
                    )
                except KehouError as exc:
                    self.refusals[exc.code] += 1
                    if exc.code == "class_full" and (c.role == "full" or rng.random() < 0.6):
                        self.push(t + timedelta(seconds=rng.randint(10, 60)), "select", pk, c, True)
                    continue
                row = result.enrolment
                self.pupil_of[row.pk] = pk
                if row.status == Enrolment.Status.HELD:
                    self.fate(rng, row, t, protected=c.role in ("full", "nearly_full"))
                elif row.status == Enrolment.Status.WAITING and c.role != "full" and rng.random() < 0.12:
                    self.push(t + timedelta(minutes=rng.randint(10, 24 * 60)), "cancel", row.pk, "不再排队")
            elif event.kind == "confirm":
                (enrolment_id,) = event.args
                try:
                    row = self.places.confirm(enrolment_id=enrolment_id, now=t, actor=self.actor_of(enrolment_id))
                except Conflict as exc:
                    self.refusals[exc.code] += 1
                    continue
                if row.course_class_id not in self.protected and rng.random() < 0.05:
                    self.push(t + timedelta(minutes=rng.randint(60, 3 * 24 * 60)), "cancel", row.pk, "时间冲突，退课")
            elif event.kind == "cancel":
                enrolment_id, reason = event.args
                row = Enrolment.objects.select_related("course_class__school").get(pk=enrolment_id)
                self.places.cancel(enrolment=row, now=t, actor=self.actor_of(enrolment_id), reason=reason)
                self.promoted(rng, t)
            elif event.kind == "sweep":
                self.sweeps.discard(t)
                if holds_expire(now=t):
                    self.promoted(rng, t)
            elif event.kind == "draw":
                school, grade = event.args
                from kehou.enrolment.models import SelectionWindow

                window = SelectionWindow.objects.select_related("school").get(
                    school=school, term=self.term, grade=grade, mode="lottery"
                )
                lottery_draw(window=window, now=t, seed=lottery_seed(self.seed, school.code, grade))
                for row in Enrolment.objects.filter(window=window, status=Enrolment.Status.HELD).order_by("pk"):
                    self.seen_holds.add(row.pk)
                    self.pupil_of[row.pk] = row.pupil_id
                    self.lottery_fate(rng, row, t)
            elif event.kind == "suspend":
                (c,) = event.args
                from kehou.catalog.services.libraries import library_set_status

                upstream = c.entry.upstream
                library_set_status(
                    actor=self.users[f"district-{c.school.district.code}"],
                    entry=upstream,
                    status="suspended",
                    reason=SUSPENSION_REASON,
                    now=t,
                )
        # A last sweep just before the load: no hold past its time is left behind.
        holds_expire(now=self.base - timedelta(seconds=1))

    def actor_of(self, enrolment_id: int) -> Any:
        """The guardian who acts for a place (the replay remembers each place's child as it sees it)."""
        from kehou.enrolment.models import Enrolment

        pupil_id = self.pupil_of.get(enrolment_id)
        if pupil_id is None:
            pupil_id = self.pupil_of[enrolment_id] = Enrolment.objects.values_list("pupil_id", flat=True).get(
                pk=enrolment_id
            )
        return self.guardian[pupil_id]

    def fate(self, rng: random.Random, row: Any, t: datetime, *, protected: bool = False) -> None:
        """A held seat: the parent pays within the hold, cancels, or lets it expire."""
        self.seen_holds.add(row.pk)
        expires = row.hold_expires_at
        hold = (expires - t).total_seconds()
        roll = rng.random()
        if protected or roll < 0.8:
            self.push(t + timedelta(seconds=rng.randint(60, int(hold * 0.8))), "confirm", row.pk)
        elif roll < 0.85:
            self.push(t + timedelta(seconds=rng.randint(60, int(hold * 0.7))), "cancel", row.pk, "家长取消")
        else:
            self.sweep_after(expires)

    def sweep_after(self, expires: datetime) -> None:
        """The ticker's sweep a minute after a hold that nobody acts on expires. Holds paid or cancelled in time
        need none: the ticker's other runs find nothing to do, so the replay leaves them out."""
        sweep = min(expires + timedelta(minutes=1), self.base - timedelta(seconds=1))
        if sweep not in self.sweeps:  # a second sweep at the same moment would find nothing more to expire
            self.sweeps.add(sweep)
            self.push(sweep, "sweep")

    def lottery_fate(self, rng: random.Random, row: Any, t: datetime) -> None:
        roll = rng.random()
        if roll < 0.6:
            self.push(t + timedelta(minutes=rng.randint(20, 14 * 60)), "confirm", row.pk)
        elif roll < 0.68:
            self.push(t + timedelta(minutes=rng.randint(30, 12 * 60)), "cancel", row.pk, "摇中后放弃")
        else:
            self.sweep_after(row.hold_expires_at)

    def promoted(self, rng: random.Random, t: datetime) -> None:
        """Holds handed to the head of a waitlist at ``t`` (a cancellation or an expiry freed a seat)."""
        from kehou.enrolment.models import Enrolment

        rows = Enrolment.objects.filter(status=Enrolment.Status.HELD, status_changed_at=t, queued_at__isnull=False)
        for row in rows.exclude(pk__in=self.seen_holds).order_by("pk"):
            self.pupil_of[row.pk] = row.pupil_id
            self.fate(rng, row, t)
