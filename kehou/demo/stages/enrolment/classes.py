"""The classes stage's classes: which courses each school offers, their teachers, times and rooms, basic care, the
classes the story needs full or nearly full, through ``care_standard_for`` and ``class_create``."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

from kehou.demo import data
from kehou.demo.common import DemoError, natural_key
from kehou.demo.stages.catalog import SUBJECT_CATEGORY

from .base import P1, P2, LoaderBase, PlanClass, period_times
from .reference import (
    CARE_ROOMS,
    COURSES_PER_SCHOOL,
    GRADE_NAMES,
    LOTTERY,
    LOTTERY_COURSES_PER_GRADE,
    ROOMS,
    ROOMS_BY_NAME,
    SCHOOLS,
    STAGGERED,
    STAGGERED_DISTRICT,
)


class ClassesMixin(LoaderBase):
    def plan_schools(self) -> list[tuple[Any, str]]:
        plans = [(self.schools[name], kind) for name, kind in SCHOOLS]
        staggered = sorted(
            (s for s in self.schools.values() if s.district.code == STAGGERED_DISTRICT and s.joined_at),
            key=lambda s: s.code,
        )
        plans += [(s, STAGGERED) for s in staggered]
        for school, kind in plans:
            self.plan_school(school, kind)
        self.designate()
        return plans

    def eligible_teachers(self, school: Any) -> list[Any]:
        return [
            t
            for t in self.teachers
            if school.pk in self.teacher_schools[t.pk]
            and (t.kind == "staff" or (school.pk, t.pk) in self.library_teachers)
        ]

    def plan_school(self, school: Any, kind: str) -> None:
        from kehou.catalog.selectors import usable_entries
        from kehou.catalog.services.submissions import fee_standard_for
        from kehou.enrolment.services.classes import care_standard_for

        rng = self.rng(f"school:{school.code}")
        teachers = self.eligible_teachers(school)
        if not teachers:
            return
        rooms_used: set[tuple[str, int, int]] = set()
        entries = sorted(
            usable_entries(school=school)
            .filter(item__kind="course")
            .select_related("item__version", "item__category")
            .prefetch_related("item__version__teachers"),
            key=lambda e: e.item.name,
        )
        named_school = school.name in data.NAMED_PARENT_SCHOOLS
        grades = list(school.grade_range)
        offers: list[tuple[Any, tuple[int, int]]] = []  # (entry, grades)
        for entry in entries:
            wanted = [g for g in (entry.item.version.grades or grades) if g in school.grade_range]
            if wanted:
                offers.append((entry, (min(wanted), max(wanted))))
        if kind == LOTTERY:  # one class per grade, so that each class is drawn in one window
            per_grade = []
            for g in grades:
                fit = [(e, (g, g)) for e, span in offers if span[0] <= g <= span[1]]
                per_grade += rng.sample(fit, min(LOTTERY_COURSES_PER_GRADE, len(fit)))
            offers = per_grade
        elif not named_school and len(offers) > COURSES_PER_SCHOOL:
            offers = sorted(rng.sample(offers, COURSES_PER_SCHOOL), key=lambda o: o[0].item.name)
        child_grade = self.named_grades.get(school.pk)
        sections: dict[int, int] = {}  # offer index → section number, for a course that runs a second class
        if child_grade is not None:
            # The named child needs at least three courses to choose from (one full, one nearly full, one free):
            # where the library has fewer for the grade, the popular ones run a second class.
            covering = [o for o in offers if o[1][0] <= child_grade <= o[1][1]]
            for n in range(max(0, 3 - len(covering)) if covering else 0):
                sections[len(offers)] = 2 + n // len(covering)
                offers.append(covering[n % len(covering)])
        child_days: set[int] = set()  # days already taken by courses the named child could choose

        def subject_fit(teacher: Any, category: str) -> bool:
            subjects = teacher.subjects.replace("，", "、").split("、")
            return any(SUBJECT_CATEGORY.get(s.strip()) == category for s in subjects)

        # Basic care first: one teacher every afternoon.
        own_teachers = {t.pk for entry, _span in offers for t in entry.item.version.teachers.all()}
        care_teacher = min(
            teachers,
            key=lambda t: (t.pk in own_teachers, t.kind != "staff", len(self.busy[t.pk]), natural_key(t.user.username)),
        )
        if not self.busy[care_teacher.pk]:
            care = care_standard_for(school.district)
            assert care is not None
            per_month = rng.random() < 0.5
            if per_month:
                price = care.max_per_month_fen - rng.choice((0, 20, 40, 60)) * 100
            else:
                price = care.max_per_day_fen - rng.choice((0, 2, 3, 5)) * 100
            cells = [(d, p) for d in range(5) for p in (P1, P2)]
            self.busy[care_teacher.pk].update(cells)
            self.classes.append(
                PlanClass(
                    school=school,
                    kind="care",
                    name="基础托管（作业辅导）",
                    grades=(grades[0], grades[-1]),
                    teacher=care_teacher,
                    room=rng.choice(CARE_ROOMS),
                    cells=[(d, P1) for d in range(5)],
                    minutes=90,
                    capacity=rng.randint(40, 45),
                    price_fen=price,
                    pricing="month" if per_month else "day",
                    introduction="放学后在校看护，完成书面作业，教师答疑；不讲授新课。",
                )
            )
        for index, (entry, span) in enumerate(offers):
            item = entry.item
            version = item.version
            category = item.category.code
            own = {t.pk for t in version.teachers.all()}
            ranked = sorted(
                teachers,
                key=lambda t: (
                    t.pk not in own,
                    not subject_fit(t, category),
                    len(self.busy[t.pk]),
                    natural_key(t.user.username),
                ),
            )
            weekly = 2 if rng.random() < 0.3 else 1
            placed = None
            for teacher in ranked:
                days = list(range(5))
                rng.shuffle(days)
                if child_grade is not None and span[0] <= child_grade <= span[1]:
                    days.sort(key=lambda d: d in child_days)  # the child's courses on different days, if possible
                periods = [P1, P2] if rng.random() < 0.5 else [P2, P1]
                for day in days:
                    for period in periods:
                        cells = [(day, period)] + ([((day + 2) % 5, period)] if weekly == 2 else [])
                        if any(c in self.busy[teacher.pk] for c in cells):
                            continue
                        placed = (teacher, cells)
                        break
                    if placed:
                        break
                if placed:
                    break
            if placed is None:
                continue
            teacher, cells = placed
            self.busy[teacher.pk].update(cells)
            if child_grade is not None and span[0] <= child_grade <= span[1]:
                child_days.update(d for d, _p in cells)
            room = self.room(item.name, category, cells, rooms_used)
            standard = fee_standard_for(school.district, item.category)
            assert standard is not None
            fee = version.fee_per_hour_fen or standard.max_fee_fen
            fee = max(standard.min_fee_fen, min(standard.max_fee_fen, fee)) // 100 * 100
            materials = None
            if version.materials_description and version.materials_price_fen:
                materials = (version.materials_description[:60], version.materials_price_fen)
            name = item.name if kind != LOTTERY else f"{item.name}（{GRADE_NAMES[span[0]]}）"
            if index in sections:
                name = f"{item.name}（{'一二三四五'[sections[index] - 1]}班）"
            self.classes.append(
                PlanClass(
                    school=school,
                    kind="course",
                    name=name[:80],
                    grades=span,
                    teacher=teacher,
                    room=room,
                    cells=sorted(cells),
                    minutes=version.minutes_per_hour or 45,
                    capacity=rng.randint(20, 45),
                    price_fen=fee,
                    entry=entry,
                    introduction=version.introduction,
                    materials=materials,
                )
            )

    def room(self, name: str, category: str, cells: list[tuple[int, int]], used: set) -> str:
        """A room that suits the course and is free at its times (numbered general rooms as the last resort)."""
        by_name = next((rooms for words, rooms in ROOMS_BY_NAME if any(w in name for w in words)), ())
        options = list(by_name) + [r for r in ROOMS.get(category, ()) if r not in by_name]
        for name in options + [f"综合楼{200 + n}" for n in range(1, 20)]:
            if all((name, *c) not in used for c in cells):
                used.update((name, *c) for c in cells)
                return name
        return options[0]

    def designate(self) -> None:
        """In each named child's school: a class open to the child's grade that will be full with a waitlist, and
        another (at other times) that will be nearly full. In the lottery school: one class per grade drawn."""
        from kehou.people.models import Pupil

        for child in Pupil.objects.filter(pk__in=self.named_children).select_related("school").order_by("pk"):
            open_to = [
                c
                for c in self.classes
                if c.school.pk == child.school_id and c.kind == "course" and c.covers(child.grade)
            ]
            pair = next(
                (
                    (a, b)
                    for a in open_to
                    for b in open_to
                    if a is not b and not {d for d, _p in a.cells} & {d for d, _p in b.cells}
                ),
                None,
            )
            if pair is None:
                raise DemoError(f"No two classes at different times for the named parent's child at {child.school}.")
            pair[0].role, pair[1].role = "full", "nearly_full"
        lottery = {self.schools[name].pk for name, kind in SCHOOLS if kind == LOTTERY}
        first_of_grade: dict[tuple[int, int], PlanClass] = {}
        for c in self.classes:
            if c.school.pk in lottery and c.kind == "course":
                first_of_grade.setdefault((c.school.pk, c.grades[0]), c)
        for c in first_of_grade.values():
            c.role = "drawn"

    def make_classes(self) -> None:
        from kehou.enrolment.services.classes import Slot, class_create

        at = self.base - timedelta(days=14)
        for i, c in enumerate(self.classes):
            slots = [Slot(d, *period_times(p, c.minutes)) for d, p in c.cells]
            if c.kind == "care":
                slots = [Slot(d, time(16, 0), time(17, 30)) for d in range(5)]
            materials = c.materials or ("", 0)
            c.obj = class_create(
                actor=self.admin(c.school),
                school=c.school,
                term=self.term,
                teacher=c.teacher,
                room=c.room,
                capacity=c.capacity,
                grade_min=c.grades[0],
                grade_max=c.grades[1],
                unit_price_fen=c.price_fen,
                slots=slots,
                now=at + timedelta(minutes=7 * i),
                entry=c.entry,
                kind=c.kind,
                pricing=c.pricing if c.kind == "care" else None,
                name=c.name,
                introduction=c.introduction,
                materials_name=materials[0],
                materials_fee_fen=materials[1],
                first_date=self.first_date,
            )
            if c.role in ("full", "nearly_full"):
                self.protected.add(c.obj.pk)
