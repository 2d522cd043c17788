"""Reads of organisations. Every list goes through a scope."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from kehou.core.error_codes import ErrorCode
from kehou.core.errors import KehouError
from kehou.core.scope import Scope

from .models import CalendarDay, Region, School, Term


def school_list(
    *, scope: Scope, search: str = "", district_code: str = "", stage: str = "", authority: str = "", joined: str = ""
) -> QuerySet[School]:
    qs = scope.filter(School.objects.select_related("district")).annotate(pupil_count=Count("pupils"))
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(code__startswith=search))
    if district_code:
        qs = qs.filter(district__code=district_code)
    if stage:
        qs = qs.filter(stage=stage)
    if authority:
        qs = qs.filter(authority=authority)
    if joined in {"yes", "no"}:
        qs = qs.filter(joined_at__isnull=(joined == "no"))
    return qs.order_by("district__code", "code")


def district_list(*, scope: Scope) -> QuerySet[Region]:
    return (
        scope.filter(Region.objects.exclude(kind=Region.Kind.CITY))
        .annotate(
            school_count=Count("schools", distinct=True),
            joined_count=Count("schools", filter=Q(schools__joined_at__isnull=False), distinct=True),
            pupil_count=Count("schools__pupils", distinct=True),
        )
        .order_by("code")
    )


def current_term(*, today: date) -> Term | None:
    return (
        Term.objects.filter(starts_on__lte=today, ends_on__gte=today).first()
        or Term.objects.filter(starts_on__gt=today).order_by("starts_on").first()
    )


def teaching_days(*, term: Term, school: School | None = None) -> list[tuple[date, int]]:
    """Every teaching day of a term for a school, as (date, weekday whose timetable applies).

    Monday–Friday are teaching days unless a holiday; a make-up day (often a Saturday or Sunday) is a teaching
    day following the timetable of ``follows_weekday``. A school's own days override the city's on the same date.
    """
    days = CalendarDay.objects.filter(term=term).filter(Q(school__isnull=True) | Q(school=school))
    by_date: dict[date, CalendarDay] = {}
    for d in days:  # a school's own day wins over the city's, whichever comes first
        if d.school_id is None and d.date in by_date:
            continue
        by_date[d.date] = d
    result: list[tuple[date, int]] = []
    day = term.starts_on
    while day <= term.ends_on:
        special = by_date.get(day)
        if special is not None:
            if special.kind == CalendarDay.Kind.MAKEUP and special.follows_weekday is not None:
                result.append((day, special.follows_weekday))
        elif day.weekday() < 5:
            result.append((day, day.weekday()))
        day += timedelta(days=1)
    return result


def region_named(*, scope: Scope, code: str | None) -> Region:
    """The region a standard or policy is set for: the one named by code, else the city for the city bureau, or the
    caller's own district when they administer exactly one (``region_required`` otherwise). Who may set it is the
    service's check (core.permissions)."""
    if code:
        region = Region.objects.filter(code=code).first()
        if region is None:
            raise KehouError(_("No such region."), code=ErrorCode.UNKNOWN_REGION, fields={"region": code})
        return region
    if scope.everything:
        city = Region.objects.filter(kind=Region.Kind.CITY).first()
        if city is not None:
            return city
    if len(scope.district_ids) == 1:
        return Region.objects.get(pk=next(iter(scope.district_ids)))
    raise KehouError(_("Name the region."), code=ErrorCode.REGION_REQUIRED, fields={"region": None})


def district_named(*, scope: Scope, code: str | None) -> Region:
    """The district named, or the caller's own district when they administer exactly one."""
    if code:
        region = Region.objects.filter(code=code).exclude(kind=Region.Kind.CITY).first()
        if region is None:
            raise KehouError(_("No such district."), code=ErrorCode.UNKNOWN_DISTRICT, fields={"district": code})
        return region
    if len(scope.district_ids) == 1:
        return Region.objects.get(pk=next(iter(scope.district_ids)))
    raise KehouError(_("Name the district."), code=ErrorCode.DISTRICT_REQUIRED, fields={"district": None})


def school_named(*, scope: Scope, school_id: int | None) -> School:
    """The school named, or the caller's own school when they administer exactly one."""
    if school_id is None:
        if len(scope.school_ids) != 1:
            raise KehouError(_("Name the school."), code=ErrorCode.SCHOOL_REQUIRED, fields={"school": None})
        school_id = next(iter(scope.school_ids))
    school = School.objects.select_related("district").filter(pk=school_id).first()
    if school is None:
        raise KehouError(_("No such school."), code=ErrorCode.UNKNOWN_SCHOOL, fields={"school": school_id})
    return school
