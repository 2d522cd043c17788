"""The dashboards' reads: one level (the city, a district, a school) and the level below it, from the rollup tables
only (a few grouped queries whatever the number of attendance rows). A level outside the caller's scope is the same
``None`` (404) as a missing one."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Max, Sum
from django.db.models.functions import TruncWeek
from django.utils.translation import gettext as _

from kehou.core.scope import Scope
from kehou.enrolment.models import CourseClass
from kehou.orgs.models import Region, School, Term

from .common import FIELDS, MARK, current_term
from .models import ClassDay, RollupMark, SchoolDay, SchoolTerm

LEVELS = ("city", "district", "school")
SORTS = ("attendance", "delivery", "roll_call", "check_in", "participation")
OUTSIDE_CAP = 0.30  # the province's cap on a school's items taught by outside teachers


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def figures(day: dict[str, Any], term: dict[str, Any] | None = None) -> dict[str, Any]:
    """The dashboard's figures of one node, from its summed rollups."""
    day = {k: int(day.get(k) or 0) for k in FIELDS}
    out: dict[str, Any] = {
        **day,
        "attendance": _rate(day["pupil_sessions_attended"], day["pupil_sessions_expected"]),
        "delivery": _rate(day["sessions_delivered"], day["sessions_planned"]),
        "roll_call": _rate(day["roll_calls_on_time"], day["sessions_planned"]),
        "check_in": _rate(day["check_ins_on_time"], day["sessions_planned"]),
    }
    if term is not None:
        t = {k: int(term.get(k) or 0) for k in TERM_FIELDS}
        out.update(t)
        out["participation"] = _rate(t["pupils_taking_part"], t["pupils"])
        out["outside_share"] = _rate(t["classes_outside"], t["classes"])
        out["over_outside_cap"] = bool(t["classes"]) and t["classes_outside"] / t["classes"] > OUTSIDE_CAP
    return out


TERM_FIELDS = (
    "pupils",
    "pupils_taking_part",
    "teachers_staff",
    "teachers_outside",
    "classes",
    "classes_outside",
    "schools_providing",
)


def _sums(rows: Any, key: str) -> dict[Any, dict[str, Any]]:
    return {r[key]: r for r in rows.values(key).annotate(**{f: Sum(f) for f in FIELDS}).order_by()}


SUMMED = [f for f in TERM_FIELDS if f != "schools_providing"]


def _term_sums(rows: Any, key: str) -> dict[Any, dict[str, Any]]:
    out = {r[key]: r for r in rows.values(key).annotate(**{f"{f}": Sum(f) for f in SUMMED}).order_by()}
    providing = rows.filter(classes__gt=0).values(key).annotate(n=Count("pk")).order_by()
    for r in providing:
        out.setdefault(r[key], {})["schools_providing"] = r["n"]
    return out


def _term_total(rows: Any) -> dict[str, Any]:
    total = rows.aggregate(**{f: Sum(f) for f in SUMMED})
    total["schools_providing"] = rows.filter(classes__gt=0).count()
    return total


def _rank(rows: list[dict[str, Any]], sort: str) -> None:
    """Each row's rank among its peers by ``sort`` (best first; equal values share a rank; no figure: last)."""
    ordered = sorted(rows, key=lambda r: (r["figures"].get(sort) is None, -(r["figures"].get(sort) or 0)))
    rank, previous = 0, object()
    for n, row in enumerate(ordered, start=1):
        value = row["figures"].get(sort)
        if value != previous:
            rank, previous = n, value
        row["rank"] = rank if value is not None else None
    rows[:] = ordered


def dashboard(
    scope: Scope,
    *,
    level: str,
    code: str = "",
    today: date,
    term: Term | None = None,
    sort: str = "attendance",
    stage: str = "",
    week: date | None = None,
) -> dict[str, Any] | None:
    """One level's figures and its rows (the level below), or None when missing or outside the scope. ``stage``
    keeps one school type (primary, junior, nine-year); ``week`` (any day of it) one week of the term."""
    if level not in LEVELS:
        return None
    sort = sort if sort in SORTS else "attendance"
    stage = stage if stage in School.Stage.values else ""
    term = term or current_term(today)
    first = term.starts_on if term else today
    last = min(today, term.ends_on) if term else today
    if week is not None:
        monday = week - timedelta(days=week.weekday())
        first, last = max(first, monday), min(last, monday + timedelta(days=6))
    days = SchoolDay.objects.filter(date__gte=first, date__lte=last)
    terms = SchoolTerm.objects.filter(term=term) if term else SchoolTerm.objects.none()
    if stage:
        days, terms = days.filter(school__stage=stage), terms.filter(school__stage=stage)
    crumbs: list[dict[str, str]] = []
    city = Region.objects.filter(kind=Region.Kind.CITY).first()
    if city is not None and scope.everything:
        crumbs.append({"level": "city", "code": city.code, "name": city.name})
    rows: list[dict[str, Any]]
    if level == "city":
        if not scope.everything or city is None:
            return None
        node = {"level": "city", "code": city.code, "name": city.name}
        day_total = days.aggregate(**{f: Sum(f) for f in FIELDS})
        term_total = _term_total(terms)
        by_day, by_term = _sums(days, "district_id"), _term_sums(terms, "district_id")
        rows = [
            {
                "level": "district",
                "code": d.code,
                "name": d.name,
                "figures": figures(by_day.get(d.pk, {}), by_term.get(d.pk, {})),
            }
            for d in Region.objects.exclude(kind=Region.Kind.CITY).order_by("code")
        ]
    elif level == "district":
        # a district, a county or a development zone: each has a bureau of its own
        district = Region.objects.exclude(kind=Region.Kind.CITY).filter(code=code).first()
        if district is None or not (scope.everything or district.pk in scope.district_ids):
            return None
        node = {"level": "district", "code": district.code, "name": district.name}
        crumbs.append(node)
        mine, mine_terms = days.filter(district=district), terms.filter(district=district)
        day_total = mine.aggregate(**{f: Sum(f) for f in FIELDS})
        term_total = _term_total(mine_terms)
        by_day, by_term = _sums(mine, "school_id"), _term_sums(mine_terms, "school_id")
        rows = [
            {
                "level": "school",
                "code": s.code,
                "name": s.name,
                "figures": figures(by_day.get(s.pk, {}), by_term.get(s.pk, {})),
            }
            for s in School.objects.filter(district=district, **({"stage": stage} if stage else {})).order_by("code")
        ]
    else:
        school = School.objects.filter(code=code).select_related("district").first()
        if school is None or not (
            scope.everything or school.district_id in scope.district_ids or school.pk in scope.school_ids
        ):
            return None
        if scope.everything or school.district_id in scope.district_ids:
            crumbs.append({"level": "district", "code": school.district.code, "name": school.district.name})
        node = {"level": "school", "code": school.code, "name": school.name}
        crumbs.append(node)
        day_total = days.filter(school=school).aggregate(**{f: Sum(f) for f in FIELDS})
        one = terms.filter(school=school).first()
        term_total = {f: getattr(one, f, 0) for f in SUMMED}
        term_total["schools_providing"] = int(bool(one and one.classes))
        by_class = _sums(ClassDay.objects.filter(school=school, date__gte=first, date__lte=last), "course_class_id")
        classes = CourseClass.objects.filter(school=school, term=term) if term else CourseClass.objects.none()
        rows = [
            {
                "level": "class",
                "code": str(c.pk),
                "name": c.name,
                "teacher": c.teacher.user.full_name if c.teacher_id else "",
                "figures": figures(by_class.get(c.pk, {})),
            }
            for c in classes.select_related("teacher__user").order_by("name")
        ]
    _rank(rows, sort)
    own = {"city": days, "district": days.filter(district__code=code), "school": days.filter(school__code=code)}[level]
    mark = RollupMark.objects.filter(name=MARK).first()
    fresh = days.aggregate(at=Max("computed_at"))["at"]
    return {
        "level": level,
        "code": node["code"],
        "name": node["name"],
        "breadcrumb": crumbs,
        "term": {"id": term.pk, "name": term.name, "first_day": first, "last_day": last} if term else None,
        "sort": sort,
        "stage": stage,
        "week": first if week is not None else None,
        "weeks": _weeks(term, today),
        "figures": figures(day_total, term_total),
        "rows": rows,
        "rows_level": {"city": "district", "district": "school", "school": "class"}[level],
        "trend": weekly(own),
        "fresh_at": mark.upto if mark else fresh,
        "computed_at": fresh,
        "method": _(
            "Attendance: pupil-sessions present ÷ expected on the roll calls. Delivery: sessions with a check-in or "
            "a marked roll call ÷ sessions planned. Roll call (check-in) compliance: sessions whose roll call was "
            "complete by their end plus the grace (whose check-in was on time) ÷ sessions planned. Participation: "
            "pupils with a confirmed place ÷ the school's pupils."
        ),
    }


def nothing(today: date) -> dict[str, Any]:
    """The answer to someone who supervises nothing (a teacher, a parent, an operator): no level, no rows."""
    term = current_term(today)
    return {
        "level": None,
        "code": "",
        "name": "",
        "breadcrumb": [],
        "term": {"id": term.pk, "name": term.name, "first_day": term.starts_on, "last_day": term.ends_on}
        if term
        else None,
        "sort": "attendance",
        "stage": "",
        "week": None,
        "weeks": [],
        "figures": figures({}),
        "rows": [],
        "rows_level": "",
        "trend": [],
        "fresh_at": None,
        "computed_at": None,
        "method": "",
    }


def _weeks(term: Term | None, today: date) -> list[date]:
    """The Mondays of the term so far (for the week filter)."""
    if term is None:
        return []
    monday = term.starts_on - timedelta(days=term.starts_on.weekday())
    out = []
    while monday <= min(today, term.ends_on):
        out.append(monday)
        monday += timedelta(days=7)
    return out


def weekly(days: Any) -> list[dict[str, Any]]:
    """The level's figures week by week (Monday to Sunday) over the term so far: one grouped query."""
    rows = days.annotate(week=TruncWeek("date")).values("week").annotate(**{f: Sum(f) for f in FIELDS}).order_by("week")
    out = []
    for r in rows:
        f = figures(r)
        week = r["week"].date() if hasattr(r["week"], "date") else r["week"]
        out.append(
            {
                "week": week,
                "attendance": f["attendance"],
                "delivery": f["delivery"],
                "roll_call": f["roll_call"],
                "check_in": f["check_in"],
                "sessions_planned": f["sessions_planned"],
            }
        )
    return out


def home_level(scope: Scope) -> tuple[str, str] | None:
    """Where a person's dashboard starts: the city, their district, or their school."""
    if scope.everything:
        return ("city", "")
    if scope.district_ids:
        region = Region.objects.filter(pk__in=scope.district_ids).order_by("code").first()
        return ("district", region.code) if region else None
    if scope.school_ids:
        school = School.objects.filter(pk__in=scope.school_ids).order_by("code").first()
        return ("school", school.code) if school else None
    return None
