"""What each role's home page shows, composed from the other apps' selectors."""

from __future__ import annotations

from typing import Any

from django.db.models import Count

from kehou.core.scope import Scope
from kehou.orgs import selectors as org_selectors
from kehou.orgs.models import School
from kehou.people import selectors as people_selectors
from kehou.people.models import Role, RoleAssignment


def home_sections(*, user: Any, scope: Scope) -> list[dict[str, Any]]:
    sections: list[dict[str, Any]] = []
    roles = scope.roles
    assignments = RoleAssignment.objects.filter(user=user).select_related("district", "school", "operator")
    if scope.everything:
        sections.append({"kind": "city", "districts": list(org_selectors.district_list(scope=scope))})
    for ra in assignments:
        if ra.role == Role.DISTRICT_ADMIN and ra.district:
            schools = org_selectors.school_list(scope=scope, district_code=ra.district.code)
            sections.append({"kind": "district", "district": ra.district, "schools": list(schools)})
        elif ra.role == Role.SCHOOL_ADMIN and ra.school:
            sections.append(
                {
                    "kind": "school",
                    "school": ra.school,
                    "classes": people_selectors.school_class_summary(scope=scope, school_id=ra.school.pk),
                }
            )
        elif ra.role == Role.OPERATOR_STAFF and ra.operator:
            schools = scope.filter(School.objects.filter(operators=ra.operator).select_related("district"))
            sections.append(
                {
                    "kind": "operator",
                    "operator": ra.operator,
                    "schools": list(schools.annotate(pupil_count=Count("pupils"))),
                }
            )
    if Role.TEACHER in roles:
        profile = getattr(user, "teacher_profile", None)
        taught = list(profile.schools.select_related("district")) if profile else []
        sections.append({"kind": "teacher", "profile": profile, "schools": taught})
    if Role.PARENT in roles:
        sections.append({"kind": "parent", "children": list(people_selectors.children_of(user=user))})
    if Role.EXPERT in roles:
        sections.append({"kind": "expert", "profile": getattr(user, "expert_profile", None)})
    return sections
