"""Reads of classes, windows, enrolments, waivers and draws. Every list goes through a scope; the API and the
pages call these (DESIGN.md: selectors own reads)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet

from kehou.catalog.models import LibraryEntry
from kehou.catalog.selectors import usable_q
from kehou.core.scope import Scope
from kehou.people.models import Pupil

from .models import (
    ClassSession,
    CourseClass,
    Enrolment,
    HardshipWaiver,
    LotteryDraw,
    SelectionWindow,
)

S = Enrolment.Status


def _with_counts(qs: QuerySet[CourseClass]) -> QuerySet[CourseClass]:
    usable = LibraryEntry.objects.filter(pk=OuterRef("entry_id")).filter(usable_q())
    return qs.annotate(
        waiting_count=Count("enrolments", filter=Q(enrolments__status=S.WAITING), distinct=True),
        held_count=Count("enrolments", filter=Q(enrolments__status=S.HELD), distinct=True),
        confirmed_count=Count("enrolments", filter=Q(enrolments__status=S.CONFIRMED), distinct=True),
        applied_count=Count("enrolments", filter=Q(enrolments__status=S.APPLIED), distinct=True),
        entry_usable=Exists(usable),
    )


def class_list(
    *,
    scope: Scope,
    school_id: int | None = None,
    district_code: str = "",
    term_id: int | None = None,
    grade: int | None = None,
    kind: str = "",
    status: str = "",
    teacher_id: int | None = None,
    search: str = "",
    flagged: bool = False,
) -> QuerySet[CourseClass]:
    """Classes with their live counts; ``flagged`` keeps only courses whose library entry is no longer usable
    (suspended or withdrawn somewhere up the chain)."""
    qs = scope.filter(
        CourseClass.objects.select_related("school", "school__district", "term", "teacher__user", "entry__item")
    )
    if school_id:
        qs = qs.filter(school_id=school_id)
    if district_code:
        qs = qs.filter(school__district__code=district_code)
    if term_id:
        qs = qs.filter(term_id=term_id)
    if grade:
        qs = qs.filter(grade_min__lte=grade, grade_max__gte=grade)
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    if teacher_id:
        qs = qs.filter(teacher_id=teacher_id)
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(teacher__user__full_name__icontains=search))
    qs = _with_counts(qs)
    if flagged:
        qs = qs.filter(kind=CourseClass.Kind.COURSE).exclude(usable_q("entry__"))
    return qs.order_by("school__code", "grade_min", "name", "pk")


def class_detail(*, scope: Scope, pk: int) -> CourseClass | None:
    return class_list(scope=scope).filter(pk=pk).prefetch_related("slots").first()


def class_sessions(*, course_class: CourseClass) -> QuerySet[ClassSession]:
    return ClassSession.objects.filter(course_class=course_class).order_by("number")


def children_of(user: Any) -> QuerySet[Pupil]:
    """A parent's children (any school), each once."""
    return Pupil.objects.filter(guardians__user=user).select_related("school", "school__district").distinct()


@dataclass(frozen=True)
class WindowView:
    window: SelectionWindow
    state: str  # "upcoming" | "open" | "closed"
    seconds_to_open: int
    seconds_to_close: int


def window_state(window: SelectionWindow, now: datetime) -> WindowView:
    to_open = int((window.opens_at - now).total_seconds())
    to_close = int((window.closes_at - now).total_seconds())
    state = "upcoming" if to_open > 0 else ("open" if to_close > 0 else "closed")
    return WindowView(window, state, max(to_open, 0), max(to_close, 0))


def windows_for_pupil(*, pupil: Pupil, now: datetime) -> list[WindowView]:
    """The published windows of the child's grade at the child's school: open, upcoming, or closed in the last
    week (so that lottery results stay visible)."""
    from datetime import timedelta

    qs = SelectionWindow.objects.filter(
        school_id=pupil.school_id,
        grade=pupil.grade,
        status=SelectionWindow.Status.PUBLISHED,
        closes_at__gt=now - timedelta(days=7),
    ).select_related("term", "school")
    return [window_state(w, now) for w in qs.order_by("opens_at")]


@dataclass(frozen=True)
class OfferedClass:
    course_class: CourseClass
    seats_left: int
    place: Enrolment | None  # the child's live place in it, if any
    position: int | None  # waitlist position of that place


def classes_for_pupil(*, pupil: Pupil, term_id: int | None = None) -> list[OfferedClass]:
    """The classes open to a child (its school, its grade, active, course still usable), with seats left and
    the child's own place in each."""
    qs = (
        CourseClass.objects.filter(
            school_id=pupil.school_id,
            status=CourseClass.Status.ACTIVE,
            grade_min__lte=pupil.grade,
            grade_max__gte=pupil.grade,
        )
        .filter(Q(entry__isnull=True) | usable_q("entry__"))
        .select_related("teacher__user", "entry__item__category", "term")
        .prefetch_related("slots")
    )
    if term_id:
        qs = qs.filter(term_id=term_id)
    classes = list(qs.order_by("kind", "name", "pk"))
    places = {
        e.course_class_id: e
        for e in Enrolment.objects.filter(
            pupil=pupil, course_class_id__in=[c.pk for c in classes], status__in=list(_LIVE)
        )
    }
    positions = _positions([e for e in places.values() if e.status == S.WAITING])
    return [
        OfferedClass(c, c.seats_left, places.get(c.pk), positions.get(places[c.pk].pk) if c.pk in places else None)
        for c in classes
    ]


_LIVE = (S.APPLIED, S.WAITING, S.HELD, S.CONFIRMED)


def _positions(waiting: list[Enrolment]) -> dict[int, int]:
    """Waitlist positions of several waiting enrolments, one query per class."""
    result: dict[int, int] = {}
    for class_id in {e.course_class_id for e in waiting}:
        ids = list(
            Enrolment.objects.filter(course_class_id=class_id, status=S.WAITING)
            .order_by(F("wait_rank").asc(nulls_last=True), "queued_at", "pk")
            .values_list("pk", flat=True)
        )
        for i, pk in enumerate(ids, start=1):
            result[pk] = i
    return {e.pk: result[e.pk] for e in waiting if e.pk in result}


def enrolments_of_user(*, user: Any, scope: Scope, status: str = "") -> list[tuple[Enrolment, int | None]]:
    """A parent's children's places, newest first, with waitlist positions."""
    qs = scope.filter(
        Enrolment.objects.filter(pupil__guardians__user=user).select_related(
            "pupil", "course_class", "course_class__school", "course_class__teacher__user", "window"
        )
    )
    if status:
        qs = qs.filter(status=status)
    rows = list(qs.order_by("-created_at", "-pk")[:200])
    positions = _positions([e for e in rows if e.status == S.WAITING])
    return [(e, positions.get(e.pk)) for e in rows]


def enrolment_list(
    *,
    scope: Scope,
    class_id: int | None = None,
    school_id: int | None = None,
    pupil_id: int | None = None,
    status: str = "",
    search: str = "",
) -> QuerySet[Enrolment]:
    qs = scope.filter(Enrolment.objects.select_related("pupil", "course_class", "course_class__school", "window"))
    if class_id:
        qs = qs.filter(course_class_id=class_id)
    if school_id:
        qs = qs.filter(course_class__school_id=school_id)
    if pupil_id:
        qs = qs.filter(pupil_id=pupil_id)
    if status:
        qs = qs.filter(status=status)
    if search:
        qs = qs.filter(Q(pupil__name__contains=search) | Q(course_class__name__icontains=search))
    return qs.order_by(
        "course_class_id", "status", F("wait_rank").asc(nulls_last=True), "queued_at", "created_at", "pk"
    )


def waitlist(*, course_class: CourseClass) -> QuerySet[Enrolment]:
    return (
        Enrolment.objects.filter(course_class=course_class, status=S.WAITING)
        .select_related("pupil")
        .order_by(F("wait_rank").asc(nulls_last=True), "queued_at", "pk")
    )


def window_list(
    *,
    scope: Scope,
    school_id: int | None = None,
    district_code: str = "",
    term_id: int | None = None,
    grade: int | None = None,
    status: str = "",
) -> QuerySet[SelectionWindow]:
    qs = scope.filter(SelectionWindow.objects.select_related("school", "school__district", "term")).annotate(
        enrolment_count=Count("enrolments")
    )
    if school_id:
        qs = qs.filter(school_id=school_id)
    if district_code:
        qs = qs.filter(school__district__code=district_code)
    if term_id:
        qs = qs.filter(term_id=term_id)
    if grade:
        qs = qs.filter(grade=grade)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("opens_at", "school__code", "grade")


def waiver_list(
    *, scope: Scope, school_id: int | None = None, term_id: int | None = None, status: str = ""
) -> QuerySet[HardshipWaiver]:
    qs = scope.filter(
        HardshipWaiver.objects.select_related("pupil", "pupil__school", "term", "requested_by", "decided_by")
    )
    if school_id:
        qs = qs.filter(pupil__school_id=school_id)
    if term_id:
        qs = qs.filter(term_id=term_id)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-requested_at", "-pk")


def draw_list(*, scope: Scope, window_id: int | None = None, school_id: int | None = None) -> QuerySet[LotteryDraw]:
    qs = scope.filter(LotteryDraw.objects.select_related("window", "course_class", "course_class__school"))
    if window_id:
        qs = qs.filter(window_id=window_id)
    if school_id:
        qs = qs.filter(course_class__school_id=school_id)
    return qs.order_by("-drawn_at", "pk")
