"""The classes stage's selection windows (first come, lottery, staggered by the bureau) and hardship waivers,
through ``window_create``, ``windows_stagger``, ``waiver_request`` and ``waiver_decide``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from kehou.demo import data

from .base import LoaderBase
from .reference import DAYS, OPEN, STAGGERED, STAGGERED_DISTRICT, WAIVER_REASONS, stagger_first_opens, window_times


class WindowsMixin(LoaderBase):
    def make_windows(self, plans: list[tuple[Any, str]]) -> dict[int, Any]:
        """Windows per school and grade; returns {school id: WindowPlan} for the schools that select now."""
        from kehou.enrolment.services.windows import window_create, windows_stagger

        created_at = self.base - timedelta(days=10)
        times: dict[int, Any] = {}
        for school, kind in plans:
            if kind == STAGGERED:
                continue
            plan = window_times(kind, self.base)
            times[school.pk] = plan
            for grade in school.grade_range:
                window_create(
                    actor=self.admin(school),
                    school=school,
                    term=self.term,
                    grade=grade,
                    opens_at=plan.opens_at,
                    closes_at=plan.closes_at,
                    now=created_at,
                    mode=plan.mode,
                    max_classes=2,
                    hold_minutes=plan.hold_minutes,
                    publish=True,
                )
        district = self.regions[STAGGERED_DISTRICT]
        windows_stagger(
            actor=self.users[f"district-{district.code}"],
            district=district,
            term=self.term,
            first_opens_at=stagger_first_opens(self.base),
            step_minutes=30,
            length_minutes=6 * 24 * 60,
            now=self.base - timedelta(days=1),
        )
        return times

    def waivers(self, plans: list[tuple[Any, str]]) -> None:
        """Two approved waivers (pupils who then select at no fee) in 东湖区, one pending in 西湖区."""
        from kehou.enrolment.services.waivers import waiver_decide, waiver_request
        from kehou.people.models import Pupil

        self.waived: set[int] = set()
        chosen: list[tuple[Any, str]] = [
            (s, k) for s, k in plans if k == OPEN and s.name not in data.NAMED_PARENT_SCHOOLS
        ]
        chosen = [*chosen[:2], next((s, k) for s, k in plans if k == DAYS)]
        for n, (school, kind) in enumerate(chosen):
            candidates = sorted(
                {
                    pk
                    for c in self.classes
                    if c.school.pk == school.pk and c.kind == "course" and not c.role
                    for pk in c.demand
                }
            )
            if not candidates:
                continue
            pupil = Pupil.objects.get(pk=self.rng(f"waiver:{school.code}").choice(candidates))
            pending = kind == DAYS
            at = self.base - (timedelta(hours=20) if pending else timedelta(days=12))
            waiver = waiver_request(
                actor=self.admin(school), pupil=pupil, term=self.term, reason=WAIVER_REASONS[n], now=at
            )
            if not pending:
                waiver_decide(
                    actor=self.users[f"district-{school.district.code}"],
                    waiver=waiver,
                    approve=True,
                    now=at + timedelta(days=1, hours=2),
                )
                self.waived.add(pupil.pk)
