"""What each role's home page shows, composed from the other apps' selectors."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, F, Q

from kehou.core.pages import grades_of
from kehou.core.scope import Scope
from kehou.orgs import selectors as org_selectors
from kehou.orgs.models import School
from kehou.people import selectors as people_selectors
from kehou.people.models import Role, RoleAssignment


def _school_totals(schools: list[Any]) -> dict[str, int]:
    return {
        "schools": len(schools),
        "joined": sum(1 for s in schools if s.joined_at),
        "pupils": sum(s.pupil_count for s in schools),
    }


def role_labels(*, user: Any) -> list[str]:
    """What the person acts as, e.g. "区县教体局 · 东湖区", for the greeting on the home page."""
    labels: list[str] = []
    if user.is_superuser:
        labels.append(str(Role.SUPERUSER.label))
    assignments = RoleAssignment.objects.filter(user=user).select_related("district", "school", "operator")
    for ra in assignments.order_by("pk"):
        target = ra.district or ra.school or ra.operator
        label = str(ra.get_role_display())
        text = f"{label} · {target}" if target else label
        if text not in labels:
            labels.append(text)
    return labels


def home_sections(*, user: Any, scope: Scope) -> list[dict[str, Any]]:
    sections: list[dict[str, Any]] = []
    roles = scope.roles
    assignments = RoleAssignment.objects.filter(user=user).select_related("district", "school", "operator")
    if scope.everything:
        districts: list[Any] = list(org_selectors.district_list(scope=scope))
        sections.append(
            {
                "kind": "city",
                "districts": districts,
                "totals": {
                    "districts": len(districts),
                    "schools": sum(d.school_count for d in districts),
                    "joined": sum(d.joined_count for d in districts),
                    "pupils": sum(d.pupil_count for d in districts),
                },
            }
        )
    for ra in assignments.order_by("pk"):
        if ra.role == Role.DISTRICT_ADMIN and ra.district:
            schools = list(org_selectors.school_list(scope=scope, district_code=ra.district.code))
            sections.append(
                {"kind": "district", "district": ra.district, "schools": schools, "totals": _school_totals(schools)}
            )
        elif ra.role == Role.SCHOOL_ADMIN and ra.school:
            classes = people_selectors.school_class_summary(scope=scope, school_id=ra.school.pk)
            grades = grades_of(classes)
            teachers = people_selectors.teacher_list(scope=scope).filter(schools=ra.school).count()
            sections.append(
                {
                    "kind": "school",
                    "school": ra.school,
                    "classes": classes,
                    "grades": grades,
                    "totals": {
                        "grades": len(grades),
                        "classes": len(classes),
                        "pupils": sum(c["pupils"] for c in classes),
                        "teachers": teachers,
                    },
                }
            )
        elif ra.role == Role.OPERATOR_STAFF and ra.operator:
            qs = scope.filter(School.objects.filter(operators=ra.operator).select_related("district"))
            schools = list(qs.annotate(pupil_count=Count("pupils")).order_by("district__code", "code"))
            sections.append(
                {"kind": "operator", "operator": ra.operator, "schools": schools, "totals": _school_totals(schools)}
            )
    if Role.TEACHER in roles:
        profile = getattr(user, "teacher_profile", None)
        taught = list(profile.schools.select_related("district").order_by("code")) if profile else []
        sections.append({"kind": "teacher", "profile": profile, "schools": taught})
    if Role.PARENT in roles:
        sections.append({"kind": "parent", "children": list(people_selectors.children_of(user=user))})
    if Role.EXPERT in roles:
        from kehou.catalog import selectors as catalog_selectors

        waiting = list(
            catalog_selectors.my_seats(scope=scope, state="pending").select_related("panel__submission")[:20]
        )
        sections.append({"kind": "expert", "profile": getattr(user, "expert_profile", None), "waiting": waiting})
    sections += library_sections(scope=scope, assignments=list(assignments.order_by("pk")))
    return sections


def library_sections(*, scope: Scope, assignments: list[Any]) -> list[dict[str, Any]]:
    """Libraries and review at a glance: for the city bureau and each district bureau, what waits for it in its
    library's review and the filings; for a school admin, the size of its school library."""
    from kehou.catalog import selectors as catalog_selectors
    from kehou.orgs.models import Region

    sections: list[dict[str, Any]] = []
    regions: list[Any] = []
    if scope.everything:
        regions += list(Region.objects.filter(kind=Region.Kind.CITY)[:1])
    regions += [ra.district for ra in assignments if ra.role == Role.DISTRICT_ADMIN and ra.district]
    for region in regions:
        open_panels = (
            catalog_selectors.panel_list(scope=scope, status="open")
            .filter(region=region)
            .annotate(scored=Count("members__score", filter=Q(members__status="active")))
        )
        awaiting_decision = open_panels.filter(scored__gte=F("size")).count()
        filings = catalog_selectors.filing_list(scope=scope, status="filed")
        if not region.is_city:
            filings = filings.filter(district=region)
        level = "city" if region.is_city else "district"
        entries = catalog_selectors.library_list(scope=scope, level=level, region_code=region.code)
        sections.append(
            {
                "kind": "library_review",
                "region": region,
                "totals": {
                    "awaiting_panel": catalog_selectors.submission_list(
                        scope=scope, status="submitted", library=region.code
                    ).count(),
                    "scoring": open_panels.count() - awaiting_decision,
                    "awaiting_decision": awaiting_decision,
                    "filings": filings.count(),
                    "entries": entries.count(),
                },
            }
        )
    for ra in assignments:
        if ra.role == Role.SCHOOL_ADMIN and ra.school:
            entries = catalog_selectors.library_list(scope=scope, level="school", school_id=ra.school.pk)
            sections.append(
                {
                    "kind": "school_library",
                    "school": ra.school,
                    "totals": {
                        "entries": entries.count(),
                        "usable": entries.filter(catalog_selectors.usable_q()).count(),
                        "filings": catalog_selectors.filing_list(scope=scope, status="filed")
                        .filter(school=ra.school)
                        .count(),
                    },
                }
            )
    return sections
