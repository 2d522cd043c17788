"""Presentation helpers of the enrolment pages (schedules, fees, the school and term choices)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from kehou.core import clock
from kehou.core.pages import (
    yuan,
)
from kehou.core.scope import Scope
from kehou.core.templatetags.kehou_ui import grade_name
from kehou.orgs import selectors as org_selectors
from kehou.orgs.models import School, Term

from ..forms import WEEKDAY_SHORT
from ..models import CourseClass, Enrolment

S = Enrolment.Status


def schedule(course_class: CourseClass) -> str:
    """The weekly time slots: "Mon 16:00–17:00, Wed 16:00–17:00"."""
    return ", ".join(
        f"{WEEKDAY_SHORT[s.weekday]} {s.starts_at:%H:%M}–{s.ends_at:%H:%M}" for s in course_class.slots.all()
    )


def schedule_short(course_class: CourseClass) -> str:
    """The weekly slots with the days that share a time together: "Mon, Tue, Wed 16:00–17:30"."""
    times: dict[tuple[Any, Any], list[str]] = {}
    for s in course_class.slots.all():
        times.setdefault((s.starts_at, s.ends_at), []).append(str(WEEKDAY_SHORT[s.weekday]))
    sep = pgettext("list separator", ", ")
    return "; ".join(f"{sep.join(days)} {a:%H:%M}–{b:%H:%M}" for (a, b), days in times.items())


def grades_text(course_class: CourseClass) -> str:
    if course_class.grade_min == course_class.grade_max:
        return str(grade_name(course_class.grade_min))
    return f"{grade_name(course_class.grade_min)}–{grade_name(course_class.grade_max)}"


def unit_label(course_class: CourseClass) -> str:
    labels: dict[str, str] = {
        CourseClass.Pricing.PER_HOUR: _("per class hour"),
        CourseClass.Pricing.PER_DAY: _("per day"),
        CourseClass.Pricing.PER_MONTH: _("per month"),
    }
    return labels.get(course_class.pricing, "")


def fee_text(course_class: CourseClass) -> str:
    """Price × sessions = fee, in yuan."""
    if course_class.pricing == CourseClass.Pricing.PER_HOUR:
        return _("%(price)s per class hour × %(n)s sessions = %(fee)s") % {
            "price": yuan(course_class.unit_price_fen),
            "n": course_class.session_count,
            "fee": yuan(course_class.fee_fen),
        }
    return _("%(price)s %(unit)s, %(n)s sessions: %(fee)s for the term") % {
        "price": yuan(course_class.unit_price_fen),
        "unit": unit_label(course_class),
        "n": course_class.session_count,
        "fee": yuan(course_class.fee_fen),
    }


def is_flagged(course_class: Any) -> bool:
    """A course whose library entry is no longer usable (suspended or withdrawn somewhere up the chain)."""
    return course_class.kind == CourseClass.Kind.COURSE and not getattr(course_class, "entry_usable", True)


def _school_choices(scope: Scope, district: str = "") -> list[tuple[str, str]]:
    schools = scope.filter(School.objects.all())
    if district:
        schools = schools.filter(district__code=district)
    return [(str(pk), name) for pk, name in schools.order_by("code").values_list("pk", "name")]


def _term_choices() -> list[tuple[str, str]]:
    return [(str(pk), name) for pk, name in Term.objects.order_by("-starts_on").values_list("pk", "name")]


def _district_filter(scope: Scope, value: str) -> list[dict[str, Any]]:
    if scope.everything or len(scope.district_ids) > 1:
        districts = [(d.code, d.name) for d in org_selectors.district_list(scope=scope)]
        return [{"name": "district", "label": _("District"), "choices": districts, "value": value}]
    return []


def _admin_schools(scope: Scope) -> list[School]:
    return list(School.objects.filter(pk__in=scope.school_ids).select_related("district").order_by("code"))


def _chosen_school(scope: Scope, wanted: Any) -> tuple[School | None, list[School]]:
    schools = _admin_schools(scope)
    chosen = next((s for s in schools if str(s.pk) == str(wanted or "")), schools[0] if schools else None)
    return chosen, schools


def _default_term() -> Term | None:
    return org_selectors.current_term(today=timezone.localdate(clock.now()))
