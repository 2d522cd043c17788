"""The catalog stage's submissions: who submits (a school, an organisation or a teacher), the course or dossier
fields, and revisions, through ``submission_create`` and ``submission_revise``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from kehou.demo.common import random_day, seeded_rng
from kehou.people.validators import id_check_digit

from .base import LoaderBase, Sub
from .reference import ID_AREAS, QUALIFICATIONS, SUBJECT_CATEGORY
from .specs import Course, Revision


class SubmissionsMixin(LoaderBase):
    # --- people ---------------------------------------------------------------------------------------------
    def provider(self, by: str) -> tuple[Any, Any, list[Any]]:
        """(acting user, submitting school or None, the teachers this submitter may put forward)."""
        if by.startswith("school:"):
            school = self.schools[by.split(":", 1)[1]]
            staff = [t for t in self.teachers if t.kind == "staff" and school in t.schools.all()]
            return self.users[f"school-{school.code}"], school, staff
        if by.startswith("org:"):
            org = self.orgs[by.split(":", 1)[1]]
            members = [t for t in self.teachers if t.organisation_id == org.pk]
            contact = next((t for t in members if t.user.username == "teacher-outside"), members[0])
            return contact.user, None, members
        independents = [t for t in self.teachers if t.kind == "outside" and t.organisation_id is None]
        return None, None, independents  # the teacher submits for themselves: see teacher_for

    @staticmethod
    def _matches(candidates: list[Any], wanted: str) -> list[Any]:
        if wanted.startswith("@"):
            return [t for t in candidates if t.user.username == wanted[1:]] or candidates
        subject, _, nth = wanted.partition("#")
        found = [t for t in candidates if subject in t.subjects] or candidates
        n = int(nth or 1) - 1
        return found[n % len(found) :] + found[: n % len(found)]

    # --- submitting ------------------------------------------------------------------------------------------
    def create(self, sub: Sub, at: datetime) -> None:
        from kehou.catalog.services import submissions

        spec = sub.spec
        actor, school, candidates = self.provider(spec.by)
        matches = self._matches(candidates, spec.teacher)
        rng = seeded_rng(self.seed, f"catalog:sub:{sub.index}")
        if spec.course is None:  # a teacher dossier: a teacher who has none yet
            teacher = next((t for t in matches if t.pk not in self.dossier_teachers), matches[0])
            self.dossier_teachers.add(teacher.pk)
            sub.teacher = teacher
            actor = actor or teacher.user
            fields: Any = self.dossier_fields(rng, teacher)
        else:
            teachers = matches[:2] if spec.two_teachers else matches[:1]
            actor = actor or teachers[0].user
            fields = self.course_fields(spec.course, school, [t.pk for t in teachers])
        sub.actor, sub.school = actor, school
        sub.submission = submissions.submission_create(
            actor=actor, school=school, library=spec.library, fields=fields, now=at
        )

    def course_fields(self, course: Course, school: Any, teacher_ids: list[int], rev: Revision | None = None) -> Any:
        from kehou.catalog.services import submissions

        grades = list(range(course.grades[0], course.grades[1] + 1))
        if school is not None:
            grades = [g for g in grades if g in school.grade_range] or list(school.grade_range)
        fee, hours, materials, intro = course.fee, course.hours, course.materials, course.intro
        if rev is not None:
            fee = rev.fee or fee
            hours = rev.hours or hours
            materials = rev.materials or materials
            intro = f"{intro}{rev.intro_add}"
        return submissions.CourseFields(
            name=course.name,
            category=self.categories[course.category],
            introduction=intro,
            grades=grades,
            minutes_per_hour=course.minutes,
            hours_per_term=hours,
            fee_per_hour_fen=fee * 100,
            teacher_ids=teacher_ids,
            materials_description=materials[0] if materials else "",
            materials_price_fen=materials[1] * 100 if materials else None,
        )

    def dossier_fields(self, rng: Any, teacher: Any) -> Any:
        from kehou.catalog.services import submissions

        subjects = teacher.subjects.split("、")
        category = self.categories[SUBJECT_CATEGORY.get(subjects[0], "humanities")]
        qualification, certificate = rng.choice(QUALIFICATIONS[category.code])
        birth = random_day(rng, date(1972, 1, 1), date(1999, 12, 31))
        body = f"{rng.choice(ID_AREAS)}{birth:%Y%m%d}{rng.randrange(1000):03d}"
        school = teacher.schools.all()[0] if teacher.schools.all() else None
        district = school.district.name if school else "东湖区"
        return submissions.DossierFields(
            teacher_id=teacher.pk,
            category=category,
            identity_number=body + id_check_digit(body),
            qualifications=qualification,
            certificates=certificate,
            subjects=teacher.subjects,
            background_checked_on=random_day(rng, date(2026, 6, 1), date(2026, 8, 14)),
            background_check_result=(
                "经全国教职员工准入查询系统核查，无性侵害、虐待、拐卖、暴力伤害等违法犯罪记录；"
                f"南昌市公安局{district}分局出具无犯罪记录证明。"
            ),
        )

    def revise(self, sub: Sub, at: datetime) -> None:
        from kehou.catalog.services import submissions

        spec = sub.spec
        assert spec.course is not None and spec.revision is not None
        version = sub.submission.versions.get(number=sub.submission.version_count)
        teacher_ids = sorted(version.teachers.values_list("pk", flat=True))
        fields = self.course_fields(spec.course, sub.school, teacher_ids, spec.revision)
        submissions.submission_revise(
            actor=sub.actor, submission=sub.submission, fields=fields, note=spec.revision.note, now=at
        )
        sub.submission.refresh_from_db()
