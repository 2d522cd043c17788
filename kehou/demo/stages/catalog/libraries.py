"""The catalog stage's libraries: districts adopt from the city library, schools pick from theirs, entries are
suspended and withdrawn, and the city acknowledges filings, through ``library_adopt``, ``library_pick``,
``library_set_status`` and ``filing_acknowledge``."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta
from typing import Any

from django.db.models import Count

from kehou.demo import data
from kehou.demo.common import TZ, seeded_rng

from .base import LoaderBase
from .reference import DISTRICT_SUSPENSION, SCHOOL_WITHDRAWAL
from .timeline import (
    ACK_ALL_BEFORE,
    ACK_SOME_BEFORE,
    ADOPT_DAYS,
    DISTRICT_SUSPENSION_AT,
    PICK_DAYS,
    SCHOOL_WITHDRAWAL_AT,
    SECOND_ROUND,
    TIMELINE_END,
    time_between,
)


class LibrariesMixin(LoaderBase):
    def city_entries(self) -> list[Any]:
        from kehou.catalog.models import LibraryEntry

        return list(
            LibraryEntry.objects.filter(level="city", status="active")
            .select_related("item__category", "item__version", "item__provider_school")
            .order_by("item__kind", "item__category__order", "item__name", "pk")
        )

    def fee_ok(self, entry: Any, region: Any) -> bool:
        from kehou.catalog.services.submissions import fee_standard_for

        fee = entry.item.version.fee_per_hour_fen
        if entry.item.kind != "course" or fee is None:
            return True
        key = (region.pk, entry.item.category_id)
        if key not in self.standards:
            self.standards[key] = fee_standard_for(region, entry.item.category)
        standard = self.standards[key]
        return standard is not None and standard.min_fee_fen <= fee <= standard.max_fee_fen

    def course_teachers(self) -> dict[int, set[int]]:
        """Catalog item id → the teachers of its admitted version."""
        from kehou.catalog.models import CatalogItem, SubmissionVersion

        through = SubmissionVersion.teachers.through
        by_version: dict[int, set[int]] = defaultdict(set)
        for version_id, teacher_id in through.objects.values_list("submissionversion_id", "teacherprofile_id"):
            by_version[version_id].add(teacher_id)
        return {pk: by_version[v] for pk, v in CatalogItem.objects.values_list("pk", "version_id")}

    def adopt(self, wave: int) -> None:
        """Districts adopt from the city library: their own schools' courses, and a good part of the rest."""
        from kehou.catalog.models import LibraryEntry
        from kehou.catalog.services import libraries

        entries = self.city_entries()
        if wave == 2:
            adopted = set(LibraryEntry.objects.filter(level="district").values_list("upstream_id", flat=True))
            entries = [e for e in entries if e.pk not in adopted and e.item.admitted_at > SECOND_ROUND]
        teachers_of = self.course_teachers()
        districts = list(data.DISTRICTS)
        wave_rng = seeded_rng(self.seed, f"catalog:adopt:{wave}")
        if wave == 2:
            districts = sorted(wave_rng.sample(districts, 7), key=lambda d: d.code)
        for n, spec in enumerate(districts):
            district = self.regions[spec.code]
            rng = seeded_rng(self.seed, f"catalog:adopt:{wave}:{spec.code}")
            share = 0.35 if spec.code == "360123" else rng.uniform(0.55, 0.85)
            usable = [e for e in entries if self.fee_ok(e, district)]
            courses = [
                e
                for e in usable
                if e.item.kind == "course"
                and (e.item.provider_school is None or e.item.provider_school.district_id == district.pk)
            ]
            own = [e for e in courses if e.item.provider_school is not None]
            rest = [e for e in courses if e.item.provider_school is None]
            chosen = own + rng.sample(rest, round(share * len(rest)))
            wanted_teachers = {t for e in chosen for t in teachers_of[e.item_id]}
            teacher_entries = [e for e in usable if e.item.kind == "teacher"]
            named = [e for e in teacher_entries if e.item.teacher_id in wanted_teachers]
            others = [e for e in teacher_entries if e.item.teacher_id not in wanted_teachers]
            chosen += named + rng.sample(others, round(share * 0.5 * len(others)))
            chosen.sort(key=lambda e: (e.item.kind, e.item.category.order, e.item.name, e.pk))
            first, last = ADOPT_DAYS[wave]
            day = first + timedelta(days=n % ((last - first).days + 1))
            self.adopted_on[spec.code] = day
            at = datetime.combine(day, time(9, 0), tzinfo=TZ) + timedelta(minutes=rng.randint(0, 90))
            actor = self.users[f"district-{spec.code}"]
            for entry in chosen:
                at += timedelta(minutes=rng.randint(1, 6))
                libraries.library_adopt(actor=actor, district=district, city_entry=entry, now=at)

    def allowed_entries(self, school: Any) -> list[Any]:
        from kehou.catalog import selectors
        from kehou.catalog.models import LibraryEntry

        if school.uses_city_library:
            qs = LibraryEntry.objects.filter(level="city", region=self.city)
        else:
            qs = LibraryEntry.objects.filter(level="district", region_id=school.district_id)
        return list(
            qs.filter(selectors.usable_q())
            .select_related("item__category", "item__version", "item__provider_school", "upstream")
            .order_by("item__kind", "item__category__order", "item__name", "pk")
        )

    def pick(self, wave: int) -> None:
        """Joined schools pick from the library they may use: their own courses first, then others of their grades,
        then the admitted teachers of the courses they picked (5 to 15 entries in all)."""
        from kehou.catalog.models import LibraryEntry
        from kehou.catalog.services import libraries

        teachers_of = self.course_teachers()
        joined = sorted((s for s in self.schools.values() if s.has_joined), key=lambda s: s.code)
        rng = seeded_rng(self.seed, f"catalog:pick:{wave}")
        submitters = {self.schools[s.spec.by.split(":", 1)[1]].pk for s in self.subs if s.spec.by.startswith("school:")}
        if wave == 1:
            waiting = [s for s in joined if s.pk not in submitters and s.name != data.NAMED_TEACHER_SCHOOL]
            later = {s.pk for s in rng.sample(waiting, 3)}  # schools that have not picked yet
            schools = [s for s in joined if s.pk not in later]
        else:
            schools = sorted(rng.sample(joined, 14), key=lambda s: s.code)
        have: dict[int, set[int]] = defaultdict(set)
        for school_id, item_id in LibraryEntry.objects.filter(level="school").values_list("school_id", "item_id"):
            have[school_id].add(item_id)
        for school in schools:
            srng = seeded_rng(self.seed, f"catalog:pick:{wave}:{school.code}")
            allowed = [e for e in self.allowed_entries(school) if e.item_id not in have[school.pk]]
            grades = set(school.grade_range)
            courses = [
                e
                for e in allowed
                if e.item.kind == "course"
                and set(e.item.version.grades) & grades
                and e.item.provider_school_id in (None, school.pk)
            ]
            if wave == 1:
                own = [e for e in courses if e.item.provider_school_id == school.pk]
                rest = [e for e in courses if e.item.provider_school_id is None]
                target = srng.randint(4, 10)
                chosen = own + srng.sample(rest, max(0, min(len(rest), target - len(own))))
            else:
                recent = [e for e in courses if e.item.admitted_at > SECOND_ROUND]
                chosen = srng.sample(recent, max(0, min(len(recent), srng.randint(1, 3), 15 - len(have[school.pk]))))
            wanted = {t for e in chosen for t in teachers_of[e.item_id]}
            teacher_entries = [e for e in allowed if e.item.kind == "teacher"]
            room = 15 - len(have[school.pk]) - len(chosen)
            chosen += [e for e in teacher_entries if e.item.teacher_id in wanted][: max(0, room)]
            if wave == 1 and len(chosen) < 5:
                spare = [e for e in teacher_entries if e not in chosen]
                chosen += spare[: 5 - len(chosen)]
            first, last = PICK_DAYS[wave]
            start = max(first, self.adopted_on.get(school.district.code, first) + timedelta(days=2))
            at = time_between(srng, min(start, last), last, hours=(9, 16))
            actor = self.users[f"school-{school.code}"]
            for entry in chosen:
                at += timedelta(minutes=srng.randint(1, 8))
                libraries.library_pick(actor=actor, school=school, entry=entry, now=at)
                have[school.pk].add(entry.item_id)

    def set_city_status(self, status: str, at: datetime) -> None:
        from kehou.catalog.models import LibraryEntry
        from kehou.catalog.services import libraries

        for sub in self.subs:
            if sub.spec.later and sub.spec.later[0] == status:
                entry = LibraryEntry.objects.get(item__submission=sub.submission, level="city")
                libraries.library_set_status(
                    actor=self.users["city"], entry=entry, status=status, reason=sub.spec.later[1], now=at
                )

    def district_suspension(self) -> None:
        from kehou.catalog.models import LibraryEntry
        from kehou.catalog.services import libraries

        code, reason = DISTRICT_SUSPENSION
        entry = (
            LibraryEntry.objects.filter(level="district", region__code=code, status="active", item__kind="course")
            .filter(item__category__code="arts", upstream__status="active")
            .annotate(used=Count("downstream"))
            .order_by("-used", "item__name", "pk")
            .first()
        )
        if entry is not None:
            libraries.library_set_status(
                actor=self.users[f"district-{code}"],
                entry=entry,
                status="suspended",
                reason=reason,
                now=DISTRICT_SUSPENSION_AT,
            )

    def school_withdrawal(self) -> None:
        from kehou.catalog.models import LibraryEntry
        from kehou.catalog.services import libraries

        name, reason = SCHOOL_WITHDRAWAL
        school = self.schools[name]
        entry = (
            LibraryEntry.objects.filter(level="school", school=school, status="active", item__kind="course")
            .order_by("item__name", "pk")
            .first()
        )
        if entry is not None:
            libraries.library_set_status(
                actor=self.users[f"school-{school.code}"],
                entry=entry,
                status="withdrawn",
                reason=reason,
                now=SCHOOL_WITHDRAWAL_AT,
            )

    def acknowledge(self) -> None:
        """The city acknowledges most filings within a week; the latest ones are still waiting."""
        from kehou.catalog.models import Filing
        from kehou.catalog.services import libraries

        rng = seeded_rng(self.seed, "catalog:acknowledge")
        city = self.users["city"]
        filings = Filing.objects.filter(status="filed").select_related("entry__item", "entry__school", "entry__region")
        for filing in filings.order_by("filed_at", "pk"):
            chance = 0.9 if filing.filed_at < ACK_ALL_BEFORE else 0.4 if filing.filed_at < ACK_SOME_BEFORE else 0
            if rng.random() >= chance:
                continue
            at = filing.filed_at + timedelta(days=rng.randint(1, 6), hours=rng.randint(0, 5))
            libraries.filing_acknowledge(actor=city, filing=filing, now=min(at, TIMELINE_END))
