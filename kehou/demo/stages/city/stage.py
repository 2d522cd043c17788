"""Loading the demo city: :func:`demo_state`, :func:`build_city` (unless it is there) and :func:`load` (a plan, in
bulk, in one transaction, with one audit entry)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from kehou.core import audit
from kehou.core.audit_actions import AuditAction
from kehou.demo import data
from kehou.demo.common import NAMED_USERNAMES, TZ, DemoError, LoadResult
from kehou.demo.data import DEMO_PASSWORD

from .digest import plan_digest
from .draw import plan_city
from .plan import Plan

GRANTED_AT = datetime(2026, 8, 24, 9, 0, tzinfo=TZ)  # accounts and roles of the demo were set up on this day


def demo_state(plan: Plan | None = None) -> str:
    """``"absent"``, ``"loaded"`` (all demo schools and named accounts are there) or ``"partial"``."""
    from kehou.orgs.models import School
    from kehou.people.models import User

    plan = plan or plan_city(pupils=0)
    codes = [s.code for s in plan.schools]
    schools = School.objects.filter(code__in=codes).count()
    named = User.objects.filter(username__in=NAMED_USERNAMES).count()
    if schools == 0 and named == 0:
        return "absent"
    if schools == len(codes) and named == len(NAMED_USERNAMES):
        return "loaded"
    return "partial"


def _chunks(items: Sequence[str], size: int = 500) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _conflicts(plan: Plan) -> list[str]:
    from kehou.orgs.models import OperatorCompany, Organisation, School
    from kehou.people.models import Pupil, User

    checks = [
        ("usernames", User, "username", [u.username for u in plan.users]),
        ("phones", User, "phone", [u.phone for u in plan.users]),
        ("school codes", School, "code", [s.code for s in plan.schools]),
        ("student numbers", Pupil, "student_number", [p.student_number for p in plan.pupils]),
        ("organisations", Organisation, "name", [o.name for o in plan.organisations]),
        ("organisation credit codes", Organisation, "credit_code", [o.credit_code for o in plan.organisations]),
        ("operators", OperatorCompany, "name", [o.name for o in plan.operators]),
        ("operator credit codes", OperatorCompany, "credit_code", [o.credit_code for o in plan.operators]),
    ]
    found = []
    for label, model, field_name, values in checks:
        taken: list[str] = []
        for chunk in _chunks(values):
            taken += model._default_manager.filter(**{f"{field_name}__in": chunk}).values_list(field_name, flat=True)
        if taken:
            found.append(f"{label} already in use: {', '.join(sorted(taken)[:5])}{' …' if len(taken) > 5 else ''}")
    return found


def build_city(*, scale: float = 1.0, pupils: int | None = None, seed: int = data.SEED, now: datetime) -> LoadResult:
    """Load the demo city unless it is already there (then nothing is written)."""
    target = pupils if pupils is not None else max(1, round(data.BASE_PUPILS * scale))
    plan = plan_city(seed=seed, pupils=target)
    state = demo_state(plan)
    if state == "loaded":
        return LoadResult(False, state, {})
    if state == "partial":
        raise DemoError("Part of the demo city is already in the database: run load_demo --reset.")
    return LoadResult(True, state, load(plan, now=now))


def load(plan: Plan, *, now: datetime) -> dict[str, int]:
    """Write a plan to the database in bulk, in one transaction, with one audit entry."""
    from kehou.orgs.models import (
        CalendarDay,
        OperatorAuthorisation,
        OperatorCompany,
        Organisation,
        Region,
        School,
        Term,
    )
    from kehou.people.models import ExpertProfile, Guardian, Pupil, RoleAssignment, TeacherProfile, User

    validate_password(DEMO_PASSWORD)
    password_hash = make_password(DEMO_PASSWORD)  # hashed once, shared by every demo account
    with transaction.atomic():
        problems = _conflicts(plan)
        if problems:
            raise DemoError("The demo city cannot be loaded: " + "; ".join(problems))

        regions = {r.code: r for r in Region.objects.filter(code__in=[c for c, *_ in plan.regions])}
        city_code, city_name, _, _ = plan.regions[0]
        if city_code not in regions:
            regions[city_code] = Region.objects.create(code=city_code, name=city_name, kind="city")
        new_regions = [
            Region(code=code, name=name, kind=kind, parent=regions[parent or city_code])
            for code, name, kind, parent in plan.regions[1:]
            if code not in regions
        ]
        regions.update({r.code: r for r in Region.objects.bulk_create(new_regions)})

        schools = {
            s.code: s
            for s in School.objects.bulk_create(
                School(
                    code=p.code,
                    name=p.name,
                    stage=p.stage,
                    authority=p.authority,
                    district=regions[p.district],
                    address=p.address,
                    latitude=Decimal(p.latitude),
                    longitude=Decimal(p.longitude),
                    checkin_radius_m=p.checkin_radius_m,
                    joined_at=p.joined_at,
                )
                for p in plan.schools
            )
        }
        organisations = {
            o.name: o
            for o in Organisation.objects.bulk_create(
                Organisation(name=p.name, credit_code=p.credit_code, district=regions[p.district])
                for p in plan.organisations
            )
        }
        operators = {
            o.name: o
            for o in OperatorCompany.objects.bulk_create(
                OperatorCompany(name=p.name, credit_code=p.credit_code, contact_name=p.contact_name)
                for p in plan.operators
            )
        }
        OperatorAuthorisation.objects.bulk_create(
            OperatorAuthorisation(operator=operators[p.name], school=schools[code], granted_at=p.granted_at)
            for p in plan.operators
            for code in p.schools
        )

        users = {
            u.username: u
            for u in User.objects.bulk_create(
                User(
                    username=p.username,
                    full_name=p.full_name,
                    phone=p.phone,
                    password=password_hash,
                    is_superuser=p.is_superuser,
                    is_staff=p.is_superuser,
                    date_joined=GRANTED_AT,
                )
                for p in plan.users
            )
        }
        RoleAssignment.objects.bulk_create(
            RoleAssignment(
                user=users[r.username],
                role=r.role,
                district=regions[r.district] if r.district else None,
                school=schools[r.school] if r.school else None,
                operator=operators[r.operator] if r.operator else None,
                granted_at=GRANTED_AT,
            )
            for r in plan.roles
        )
        profiles = TeacherProfile.objects.bulk_create(
            TeacherProfile(
                user=users[t.username],
                kind=t.kind,
                organisation=organisations[t.organisation] if t.organisation else None,
                subjects=t.subjects,
            )
            for t in plan.teachers
        )
        through = TeacherProfile.schools.through
        through.objects.bulk_create(
            through(teacherprofile_id=profile.pk, school_id=schools[code].pk)
            for profile, t in zip(profiles, plan.teachers, strict=True)
            for code in t.schools
        )
        ExpertProfile.objects.bulk_create(
            ExpertProfile(
                user=users[e.username],
                specialities=list(e.specialities),
                affiliation=e.affiliation,
                affiliation_school=schools[e.school] if e.school else None,
                affiliation_organisation=organisations[e.organisation] if e.organisation else None,
            )
            for e in plan.experts
        )
        pupils = {
            p.student_number: p
            for p in Pupil.objects.bulk_create(
                Pupil(
                    student_number=p.student_number,
                    name=p.name,
                    gender=p.gender,
                    birth_date=p.birth_date,
                    school=schools[p.school],
                    grade=p.grade,
                    class_name=p.class_name,
                    created_at=now,
                )
                for p in plan.pupils
            )
        }
        Guardian.objects.bulk_create(
            Guardian(pupil=pupils[g.student_number], user=users[g.username], relation=g.relation)
            for g in plan.guardians
        )

        days = 0
        for spec in plan.terms:
            term, _ = Term.objects.get_or_create(
                name=spec.name, defaults={"starts_on": spec.starts_on, "ends_on": spec.ends_on}
            )
            CalendarDay.objects.bulk_create(
                [
                    CalendarDay(term=term, date=d.date, kind=d.kind, note=d.note, follows_weekday=d.follows_weekday)
                    for d in spec.days
                ],
                ignore_conflicts=True,
            )
            days += len(spec.days)

        counts = {
            "regions": len(plan.regions),
            "schools": len(schools),
            "schools_joined": sum(1 for s in plan.schools if s.joined_at),
            "organisations": len(organisations),
            "operators": len(operators),
            "operator_authorisations": sum(len(o.schools) for o in plan.operators),
            "accounts": len(users),
            "teachers": len(plan.teachers),
            "experts": len(plan.experts),
            "pupils": len(pupils),
            "guardians": len(plan.guardians),
            "parent_accounts": sum(1 for r in plan.roles if r.role == "parent"),
            "terms": len(plan.terms),
            "calendar_days": days,
        }
        audit.record(
            actor=None,
            action=AuditAction.DEMO_LOADED,
            object_type="demo.city",
            object_id=data.CITY_CODE,
            object_repr=f"{data.CITY_NAME} (demo)",
            after={"seed": plan.seed, "digest": plan_digest(plan), **counts},
            now=now,
        )
    return counts
