"""The demo accounts that still log in with the demo password, for ``manage.py demo_accounts``."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.hashers import check_password

from kehou.demo.common import NAMED_USERNAMES, USERNAME_RE, natural_key
from kehou.demo.data import DEMO_PASSWORD

ROLE_ORDER = (
    "superuser",
    "city_admin",
    "district_admin",
    "school_admin",
    "teacher",
    "operator_staff",
    "expert",
    "parent",
)


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    role: str
    district_code: str | None
    school_code: str | None
    full_name: str = ""
    phone: str = ""
    district_name: str = ""
    school_name: str = ""
    detail: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "password": self.password,
            "role": self.role,
            "district_code": self.district_code,
            "school_code": self.school_code,
        }


def collect_accounts() -> tuple[list[Account], int]:
    """Every demo account that still logs in with the demo password, one entry per role it holds; and the
    number of demo accounts whose password was changed (left out). Named accounts come first in each role."""
    from kehou.people.models import ExpertProfile, Guardian, RoleAssignment, TeacherProfile, User

    users = list(User.objects.filter(username__regex=USERNAME_RE, is_active=True))
    verified = {h: check_password(DEMO_PASSWORD, h) for h in sorted({u.password for u in users})}
    good = {u.pk: u for u in users if verified[u.password]}
    changed = len(users) - len(good)

    staff_school: dict[int, Any] = {}
    outside_schools: dict[int, int] = {}
    subjects: dict[int, str] = {}
    for t in TeacherProfile.objects.filter(user_id__in=list(good)).prefetch_related("schools__district"):
        schools = list(t.schools.all())
        subjects[t.user_id] = t.subjects
        if t.kind == "staff" and len(schools) == 1:
            staff_school[t.user_id] = schools[0]
        else:
            outside_schools[t.user_id] = len(schools)
    experts = {e.user_id: e for e in ExpertProfile.objects.filter(user_id__in=list(good))}
    children: dict[int, list[Any]] = defaultdict(list)
    for g in Guardian.objects.filter(user_id__in=list(good)).select_related("pupil__school__district"):
        children[g.user_id].append(g.pupil)

    accounts: list[Account] = []
    assignments = RoleAssignment.objects.filter(user_id__in=list(good)).select_related(
        "district", "school__district", "operator"
    )
    for ra in assignments:
        user = good[ra.user_id]
        district = ra.district
        school = ra.school
        detail = ""
        if ra.role == "teacher":
            school = staff_school.get(user.pk)
            detail = "staff" if school else f"outside, {outside_schools.get(user.pk, 0)} schools"
            detail += f" · {subjects[user.pk]}" if subjects.get(user.pk) else ""
        elif ra.role == "parent":
            kids = children.get(user.pk, [])
            kid_schools = {p.school_id: p.school for p in kids}
            school = next(iter(kid_schools.values())) if len(kid_schools) == 1 else None
            detail = f"{len(kids)} {'child' if len(kids) == 1 else 'children'}"
            detail += f", {len(kid_schools)} schools" if len(kid_schools) > 1 else ""
        elif ra.role == "operator_staff" and ra.operator:
            detail = ra.operator.name
        elif ra.role == "expert" and user.pk in experts:
            expert = experts[user.pk]
            detail = f"{'、'.join(expert.specialities)} · {expert.affiliation}"
        if school is not None:
            district = school.district
        accounts.append(
            Account(
                username=user.username,
                password=DEMO_PASSWORD,
                role=ra.role,
                district_code=district.code if district else None,
                school_code=school.code if school else None,
                full_name=user.full_name,
                phone=user.phone or "",
                district_name=district.name if district else "",
                school_name=school.name if school else "",
                detail=detail,
            )
        )
    accounts.sort(
        key=lambda a: (
            ROLE_ORDER.index(a.role) if a.role in ROLE_ORDER else len(ROLE_ORDER),
            a.username not in NAMED_USERNAMES,
            natural_key(a.username),
        )
    )
    return accounts, changed
