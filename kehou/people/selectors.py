"""Reads of people. Every list goes through a scope."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from kehou.core.masking import mask_name, mask_phone, mask_student_number
from kehou.core.scope import Scope

from .models import Guardian, Pupil, Role, RoleAssignment, TeacherProfile, User


def build_scope(user: Any) -> Scope:
    """Turn a user's role assignments (and profiles) into the union scope of all their roles."""
    from kehou.orgs.models import OperatorAuthorisation

    roles: set[str] = set()
    district_ids: set[int] = set()
    school_ids: set[int] = set()
    operator_ids: set[int] = set()
    everything = bool(user.is_superuser)
    if user.is_superuser:
        roles.add(Role.SUPERUSER)
    for ra in RoleAssignment.objects.filter(user=user).only("role", "district_id", "school_id", "operator_id"):
        roles.add(ra.role)
        if ra.role in (Role.SUPERUSER, Role.CITY_ADMIN):
            everything = True
        elif ra.role == Role.DISTRICT_ADMIN and ra.district_id:
            district_ids.add(ra.district_id)
        elif ra.role == Role.SCHOOL_ADMIN and ra.school_id:
            school_ids.add(ra.school_id)
        elif ra.role == Role.OPERATOR_STAFF and ra.operator_id:
            operator_ids.add(ra.operator_id)
    operator_school_ids = (
        set(OperatorAuthorisation.objects.filter(operator_id__in=operator_ids).values_list("school_id", flat=True))
        if operator_ids
        else set()
    )
    teacher_ids: set[int] = set()
    if Role.TEACHER in roles:
        teacher_ids = set(TeacherProfile.objects.filter(user=user).values_list("pk", flat=True))
    pupil_ids: set[int] = set()
    if Role.PARENT in roles:
        pupil_ids = set(Guardian.objects.filter(user=user).values_list("pupil_id", flat=True))
    expert_ids: set[int] = set()
    if Role.EXPERT in roles:
        from .models import ExpertProfile

        expert_ids = set(ExpertProfile.objects.filter(user=user).values_list("pk", flat=True))
    return Scope(
        user_id=user.pk,
        everything=everything,
        district_ids=frozenset(district_ids),
        school_ids=frozenset(school_ids),
        operator_ids=frozenset(operator_ids),
        operator_school_ids=frozenset(operator_school_ids),
        teacher_ids=frozenset(teacher_ids),
        pupil_ids=frozenset(pupil_ids),
        expert_ids=frozenset(expert_ids),
        roles=frozenset(roles),
    )


def pupil_list(
    *,
    scope: Scope,
    search: str = "",
    school_id: int | None = None,
    district_code: str = "",
    grade: int | None = None,
    class_name: str = "",
) -> QuerySet[Pupil]:
    qs = scope.filter(Pupil.objects.select_related("school", "school__district"))
    if search:
        qs = qs.filter(Q(name__contains=search) | Q(student_number=search.upper()))
    if school_id:
        qs = qs.filter(school_id=school_id)
    if district_code:
        qs = qs.filter(school__district__code=district_code)
    if grade:
        qs = qs.filter(grade=grade)
    if class_name:
        qs = qs.filter(class_name=class_name)
    guardians = Prefetch("guardians", queryset=Guardian.objects.select_related("user").order_by("pk"))
    return qs.prefetch_related(guardians).order_by("school__code", "grade", "class_name", "name", "pk")


def children_of(*, user: User) -> QuerySet[Pupil]:
    return (
        Pupil.objects.filter(guardians__user=user)
        .select_related("school", "school__district")
        .order_by("birth_date", "pk")
    )


def teacher_list(*, scope: Scope, search: str = "", kind: str = "") -> QuerySet[TeacherProfile]:
    # A teacher may also teach at schools outside the caller's scope: list only the schools the caller may see.
    from kehou.orgs.models import School

    schools = Prefetch("schools", queryset=scope.filter(School.objects.order_by("code")))
    qs = scope.filter(TeacherProfile.objects.select_related("user", "organisation")).prefetch_related(schools)
    if search:
        qs = qs.filter(Q(user__full_name__contains=search) | Q(subjects__contains=search))
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("user__full_name", "pk")


def school_class_summary(*, scope: Scope, school_id: int) -> list[dict[str, Any]]:
    """Grades and administrative classes of one school with pupil counts."""
    from django.db.models import Count

    rows = (
        scope.filter(Pupil.objects.filter(school_id=school_id))
        .values("grade", "class_name")
        .annotate(pupils=Count("pk"))
        .order_by("grade", "class_name")
    )
    return list(rows)


# --- personal data as a viewer may see it (full or masked): the one place pages, exports and the API ask -------
def shown_student_number(*, scope: Scope, pupil: Pupil) -> str:
    if scope.may_see_personal_data(school_id=pupil.school_id, pupil_id=pupil.pk):
        return pupil.student_number
    return mask_student_number(pupil.student_number)


def shown_guardian_phone(*, scope: Scope, guardian: Guardian, pupil: Pupil) -> str:
    if scope.may_see_personal_data(school_id=pupil.school_id, pupil_id=pupil.pk):
        return guardian.user.phone or ""
    return mask_phone(guardian.user.phone)


def shown_teacher_phone(*, scope: Scope, teacher: TeacherProfile) -> str:
    """A teacher's phone is shown in full to the admins of a school they teach at."""
    if any(scope.may_see_personal_data(school_id=s.pk) for s in teacher.schools.all()):
        return teacher.user.phone or ""
    return mask_phone(teacher.user.phone)


# --- what each role may read of a pupil (docs/privacy.md) ----------------------------------------------------
@dataclass(frozen=True)
class PupilShown:
    """A pupil as one viewer may see them. ``None`` means the field is withheld, not unknown."""

    name: str
    student_number: str
    gender: str | None
    birth_date: date | None
    guardians: list[dict[str, str]] = field(default_factory=list)
    level: str = "masked"  # full · teacher · bureau · operator


def shown_pupil_name(*, scope: Scope, pupil: Pupil, teacher_id: int | None = None) -> str:
    """A pupil's name as a viewer may see it (the rule of :func:`pupil_shown`, without reading the guardians): in
    full for the pupil's school and guardians (and superusers) and the teacher of the class it is shown in; masked
    (``张**``) for the bureaus, operators and other parents."""
    if scope.may_see_personal_data(school_id=pupil.school_id, pupil_id=pupil.pk):
        return pupil.name
    if teacher_id is not None and teacher_id in scope.teacher_ids:
        return pupil.name
    return mask_name(pupil.name)


def pupil_shown(*, scope: Scope, pupil: Pupil, teacher_id: int | None = None) -> PupilShown:
    """The one place that decides which of a minor's fields a viewer reads (API, pages, exports):

    * the pupil's own school and guardians (and superusers): everything;
    * the teacher of a class the pupil is in (``teacher_id``): the name, gender and class, the student number
      masked, no birth date, the guardians' names and phones masked (messages go through the platform);
    * the bureaus of the pupil's district and the city: the masked name and number, gender, grade and class (for
      statistics), no birth date, the guardians masked;
    * an operator's staff (a private company) and anyone else who may see the row: the masked name, grade and
      class, the guardians masked; no gender or birth date.
    """
    guardians = list(pupil.guardians.all())
    if scope.may_see_personal_data(school_id=pupil.school_id, pupil_id=pupil.pk):
        return PupilShown(
            name=pupil.name,
            student_number=pupil.student_number,
            gender=pupil.gender,
            birth_date=pupil.birth_date,
            guardians=[
                {"id": str(g.pk), "name": g.user.full_name, "relation": g.relation, "phone": g.user.phone or ""}
                for g in guardians
            ],
            level="full",
        )
    if teacher_id is not None and teacher_id in scope.teacher_ids:
        return PupilShown(
            name=pupil.name,
            student_number=mask_student_number(pupil.student_number),
            gender=pupil.gender,
            birth_date=None,
            guardians=[
                {
                    "id": str(g.pk),
                    "name": mask_name(g.user.full_name),
                    "relation": g.relation,
                    "phone": mask_phone(g.user.phone),
                }
                for g in guardians
            ],
            level="teacher",
        )
    bureau = scope.everything or pupil.school.district_id in scope.district_ids
    return PupilShown(
        name=shown_pupil_name(scope=scope, pupil=pupil),
        student_number=mask_student_number(pupil.student_number),
        gender=pupil.gender if bureau else None,
        birth_date=None,
        guardians=[
            {
                "id": str(g.pk),
                "name": mask_name(g.user.full_name),
                "relation": g.relation,
                "phone": mask_phone(g.user.phone),
            }
            for g in guardians
        ],
        level="bureau" if bureau else "operator",
    )
