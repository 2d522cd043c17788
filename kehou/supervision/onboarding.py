"""Onboarding progress (接入进度): each school's steps onto the platform with the date it took each, read from the
data the steps leave behind (one grouped query per step, whatever the number of schools). The city and each district
see who is behind: the schools with the fewest steps done come first."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Min, QuerySet
from django.utils.translation import gettext_lazy as _

from kehou.attendance.models import RollCall
from kehou.catalog.models import Filing
from kehou.core.scope import Scope
from kehou.enrolment.models import CourseClass, SelectionWindow
from kehou.orgs.models import School
from kehou.payroll.models import PayLine
from kehou.people.models import Pupil, RoleAssignment

# (key, label, the rows of the step, their school's path, their date field)
STEPS: tuple[tuple[str, Any, Any, str, str], ...] = (
    ("joined", _("Joined the platform"), lambda: School.objects.filter(joined_at__isnull=False), "pk", "joined_at"),
    (
        "accounts",
        _("Accounts opened"),
        lambda: RoleAssignment.objects.filter(school__isnull=False),
        "school",
        "granted_at",
    ),
    ("roster", _("Roster imported"), lambda: Pupil.objects.all(), "school", "created_at"),
    ("library", _("School library filed"), lambda: Filing.objects.filter(school__isnull=False), "school", "filed_at"),
    ("classes", _("First classes"), lambda: CourseClass.objects.all(), "school", "created_at"),
    (
        "window",
        _("First selection window"),
        lambda: SelectionWindow.objects.filter(status=SelectionWindow.Status.PUBLISHED),
        "school",
        "opens_at",
    ),
    ("roll_call", _("First roll call"), lambda: RollCall.objects.all(), "session__course_class__school", "opened_at"),
    ("pay_run", _("First pay run"), lambda: PayLine.objects.all(), "school", "computed_at"),
)


def _schools(scope: Scope, district: str = "") -> QuerySet[School]:
    rows = School.objects.select_related("district").order_by("district__code", "code")
    if not scope.everything:
        rows = rows.filter(district_id__in=scope.district_ids) if scope.district_ids else rows.none()
    if district:
        rows = rows.filter(district__code=district)
    return rows


def may_see(scope: Scope) -> bool:
    return bool(scope.everything or scope.district_ids)


def progress(scope: Scope, *, district: str = "", now: datetime) -> list[dict[str, Any]]:
    """Each school in scope with the date of each step (None: not yet), the steps done, and where it stands."""
    schools = list(_schools(scope, district))
    ids = [s.pk for s in schools]
    firsts: dict[str, dict[int, datetime]] = {}
    for key, _label, rows, path, field in STEPS:
        firsts[key] = dict(
            rows()
            .filter(**{f"{path}__in": ids})
            .values(path)
            .annotate(first=Min(field))
            .values_list(path, "first")
            .order_by()
        )
    out: list[dict[str, Any]] = []
    for s in schools:
        steps = [{"key": key, "label": label, "at": firsts[key].get(s.pk)} for key, label, *_rest in STEPS]
        done = sum(1 for x in steps if x["at"] is not None)
        nxt = next((x for x in steps if x["at"] is None), None)
        out.append(
            {
                "school": {"id": s.pk, "code": s.code, "name": s.name},
                "district": {"code": s.district.code, "name": s.district.name},
                "steps": steps,
                "done": done,
                "of": len(STEPS),
                "next": nxt["key"] if nxt else None,
                "next_label": nxt["label"] if nxt else "",
            }
        )
    out.sort(key=lambda r: (r["done"], r["district"]["code"], r["school"]["code"]))
    return out


def by_district(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each district's schools and how many have done every step (the behind first)."""
    totals: dict[str, dict[str, Any]] = {}
    for r in rows:
        t = totals.setdefault(r["district"]["code"], {**r["district"], "schools": 0, "complete": 0, "steps": 0})
        t["schools"] += 1
        t["complete"] += r["done"] == r["of"]
        t["steps"] += r["done"]
    out = list(totals.values())
    for t in out:
        t["share"] = round(t["complete"] / t["schools"], 4) if t["schools"] else None
    return sorted(out, key=lambda t: (t["share"] or 0, t["code"]))
