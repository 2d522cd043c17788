"""Reads of classes, windows, enrolments, waivers and draws. Every list goes through a scope; the API and the
pages call these (DESIGN.md: selectors own reads)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet

from kehou.catalog.models import LibraryEntry
from kehou.catalog.selectors import usable_q
from kehou.core.error_codes import ErrorCode
from kehou.core.scope import Scope
from kehou.people.models import Pupil
from kehou.people.selectors import shown_pupil_name  # noqa: F401  (the enrolment pages read names through it)

from .models import (
    WAITLIST_ORDER,
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


def next_sessions(*, class_ids: list[int], today: date) -> dict[int, date]:
    """The date of each class's next session from ``today`` on (a class with none left is absent): one query."""
    rows = (
        ClassSession.objects.filter(course_class_id__in=class_ids, date__gte=today)
        .values("course_class_id")
        .annotate(first=Min("date"))
    )
    return {r["course_class_id"]: r["first"] for r in rows}


def teacher_sessions_from(*, scope: Scope, day: date) -> QuerySet[ClassSession]:
    """The sessions the caller teaches from one day on (active classes only), by date and time: a teacher's day
    (and next session) on the home."""
    qs = ClassSession.objects.filter(
        date__gte=day, course_class__teacher__in=scope.teacher_ids, course_class__status=CourseClass.Status.ACTIVE
    )
    return scope.filter(qs.select_related("course_class", "course_class__school")).order_by(
        "date", "starts_at", "course_class__name", "pk"
    )


def family_places_open(*, user: Any, scope: Scope) -> QuerySet[Enrolment]:
    """A parent's children's places that still ask for something: held seats to pay for (the soonest deadline
    first), waitlist places and lottery applications."""
    qs = Enrolment.objects.filter(pupil__guardians__user=user, status__in=(S.HELD, S.WAITING, S.APPLIED))
    return scope.filter(qs.select_related("pupil", "course_class", "course_class__school")).order_by(
        "hold_expires_at", "created_at", "pk"
    )


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


def windows_open_without_place(*, pupils: list[Pupil], now: datetime) -> list[tuple[Pupil, SelectionWindow]]:
    """The published windows open now for each of these children (their school and grade) in which the child
    holds no live place yet, the soonest to close first: what a parent still has to choose. Two queries."""
    if not pupils:
        return []
    grades = Q(pk__in=[])
    for pupil in pupils:
        grades |= Q(school_id=pupil.school_id, grade=pupil.grade)
    windows = list(
        SelectionWindow.objects.filter(
            grades, status=SelectionWindow.Status.PUBLISHED, opens_at__lte=now, closes_at__gt=now
        ).order_by("closes_at", "pk")
    )
    if not windows:
        return []
    taken = set(
        Enrolment.objects.filter(pupil__in=pupils, window__in=windows, status__in=list(_LIVE)).values_list(
            "pupil_id", "window_id"
        )
    )
    return [
        (pupil, w)
        for w in windows
        for pupil in pupils
        if (pupil.school_id, pupil.grade) == (w.school_id, w.grade) and (pupil.pk, w.pk) not in taken
    ]


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
            .order_by(*WAITLIST_ORDER)
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
    return qs.order_by("course_class_id", "status", *WAITLIST_ORDER[:2], "created_at", "pk")


def waitlist(*, course_class: CourseClass) -> QuerySet[Enrolment]:
    return (
        Enrolment.objects.filter(course_class=course_class, status=S.WAITING)
        .select_related("pupil")
        .order_by(*WAITLIST_ORDER)
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


# --- reads of the pages (kehou/enrolment/views/) ------------------------------------
def pupil_by_student_number(*, scope: Scope, student_number: str) -> Pupil | None:
    """A pupil the viewer may see, by student number (the waiver form types it)."""
    number = student_number.strip()
    if not number:
        return None
    return (
        scope.filter(Pupil.objects.select_related("school", "school__district")).filter(student_number=number).first()
    )


def pupils_named(*, scope: Scope, pupil_ids: list[int]) -> dict[int, Pupil]:
    """Of the given pupils, those the viewer may see (a lottery's applicants), by id."""
    return {p.pk: p for p in scope.filter(Pupil.objects.filter(pk__in=pupil_ids).select_related("school"))}


def live_places_by_pupil(*, pupil_ids: list[int]) -> dict[int, int]:
    """How many live places (applied, waiting, held, confirmed) each child holds."""
    rows = (
        Enrolment.objects.filter(pupil_id__in=pupil_ids, status__in=list(_LIVE))
        .values("pupil_id")
        .annotate(n=Count("pk"))
        .values_list("pupil_id", "n")
    )
    return dict(rows)


# --- reads the API adds (kehou/enrolment/api/) ----------------------------------------------------------------
def waitlist_positions(enrolments: list[Enrolment]) -> dict[int, int]:
    """Waitlist positions (1 = next) of the waiting ones among ``enrolments``, by enrolment id."""
    return _positions([e for e in enrolments if e.status == S.WAITING])


def waived_terms(*, pupil: Pupil) -> set[int]:
    """The terms in which the pupil has an approved hardship waiver (selects at zero fee)."""
    return set(
        HardshipWaiver.objects.filter(pupil=pupil, status=HardshipWaiver.Status.APPROVED).values_list(
            "term_id", flat=True
        )
    )


def care_standards(*, scope: Scope) -> QuerySet[Any]:
    """The care fee standards the viewer applies: the city's and those of their own districts (the city: all)."""
    from kehou.catalog.selectors import standards_in_view

    from .models import CareFeeStandard

    return CareFeeStandard.objects.select_related("region").filter(standards_in_view(scope)).order_by("region__code")


@dataclass(frozen=True)
class ClassRefs:
    school: Any
    term: Any
    teacher: Any
    entry: LibraryEntry | None


def class_refs(*, scope: Scope, school_id: int, term_id: int, teacher_id: int, entry_id: int | None) -> ClassRefs:
    """The rows a new class names: the school through the caller's scope (404 when not visible), the term, the
    teacher and the library entry (their fit with the school is the service's to check)."""
    from django.utils.translation import gettext as _

    from kehou.core.errors import KehouError, NotFound
    from kehou.people.models import TeacherProfile

    school = school_in_scope(scope=scope, school_id=school_id)
    term = term_named(term_id=term_id)
    teacher = TeacherProfile.objects.filter(pk=teacher_id).first()
    if teacher is None:
        raise KehouError(_("No such teacher."), code=ErrorCode.UNKNOWN_TEACHER, fields={"teacher": teacher_id})
    entry = None
    if entry_id is not None:
        entry = LibraryEntry.objects.select_related("item", "item__category").filter(pk=entry_id).first()
        if entry is None:
            raise NotFound(_("The course is not in this school's library."), code=ErrorCode.ENTRY_NOT_FOUND)
    return ClassRefs(school=school, term=term, teacher=teacher, entry=entry)


def school_in_scope(*, scope: Scope, school_id: int) -> Any:
    """A school the caller may see (404 otherwise), with its district."""
    from django.utils.translation import gettext as _

    from kehou.core.errors import NotFound
    from kehou.orgs.models import School

    school = scope.filter(School.objects.select_related("district")).filter(pk=school_id).first()
    if school is None:
        raise NotFound(_("Not found."))
    return school


def pupil_in_scope(*, scope: Scope, pupil_id: int) -> Pupil:
    """A pupil the caller may see (404 otherwise), with the school."""
    from django.utils.translation import gettext as _

    from kehou.core.errors import NotFound

    pupil = scope.filter(Pupil.objects.select_related("school", "school__district")).filter(pk=pupil_id).first()
    if pupil is None:
        raise NotFound(_("Not found."))
    return pupil


def term_named(*, term_id: int) -> Any:
    from django.utils.translation import gettext as _

    from kehou.core.errors import KehouError
    from kehou.orgs.models import Term

    term = Term.objects.filter(pk=term_id).first()
    if term is None:
        raise KehouError(_("No such term."), code=ErrorCode.UNKNOWN_TERM, fields={"term": term_id})
    return term


def school_teachers(*, school: Any) -> QuerySet[Any]:
    """The teachers a school may give a class to (its own and the outside teachers who teach there)."""
    from kehou.people.models import TeacherProfile

    return TeacherProfile.objects.filter(schools=school).select_related("user").order_by("user__full_name", "pk")
