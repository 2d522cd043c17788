"""Fingerprints of the demo city: :func:`plan_digest` of a plan, :func:`db_digest` of what the database holds."""

from __future__ import annotations

import json

from kehou.demo.common import digest, utc_iso

from .plan import Plan


def plan_digest(plan: Plan) -> str:
    """A fingerprint of the rows a plan writes; :func:`db_digest` computes the same from the database."""
    return digest(
        {
            "regions": plan.regions,
            "schools": [
                (
                    s.code,
                    s.name,
                    s.stage,
                    s.authority,
                    s.district,
                    s.address,
                    s.latitude,
                    s.longitude,
                    s.checkin_radius_m,
                    utc_iso(s.joined_at),
                )
                for s in plan.schools
            ],
            "organisations": [(o.name, o.credit_code, o.district) for o in plan.organisations],
            "operators": [
                (o.name, o.credit_code, o.contact_name, ",".join(sorted(o.schools)), utc_iso(o.granted_at))
                for o in plan.operators
            ],
            "users": [(u.username, u.full_name, u.phone, u.is_superuser) for u in plan.users],
            "roles": [(r.username, r.role, r.district, r.school, r.operator) for r in plan.roles],
            "teachers": [
                (t.username, t.kind, t.organisation, ",".join(sorted(t.schools)), t.subjects) for t in plan.teachers
            ],
            "experts": [
                (
                    e.username,
                    json.dumps(list(e.specialities), ensure_ascii=False),
                    e.affiliation,
                    e.school,
                    e.organisation,
                )
                for e in plan.experts
            ],
            "pupils": [
                (p.student_number, p.name, p.gender, p.birth_date.isoformat(), p.school, p.grade, p.class_name)
                for p in plan.pupils
            ],
            "guardians": [(g.student_number, g.username, g.relation) for g in plan.guardians],
            "terms": [(t.name, t.starts_on.isoformat(), t.ends_on.isoformat()) for t in plan.terms],
            "days": [
                (t.name, d.date.isoformat(), d.kind, d.note, d.follows_weekday) for t in plan.terms for d in t.days
            ],
        }
    )


def db_digest() -> str:
    """The fingerprint of what the database holds (every row of the tables the demo fills)."""
    from kehou.orgs.models import CalendarDay, OperatorCompany, Organisation, Region, School, Term
    from kehou.people.models import ExpertProfile, Guardian, Pupil, RoleAssignment, TeacherProfile, User

    return digest(
        {
            "regions": Region.objects.values_list("code", "name", "kind", "parent__code"),
            "schools": [
                (
                    s.code,
                    s.name,
                    s.stage,
                    s.authority,
                    s.district.code,
                    s.address,
                    s.latitude,
                    s.longitude,
                    s.checkin_radius_m,
                    utc_iso(s.joined_at),
                )
                for s in School.objects.select_related("district")
            ],
            "organisations": Organisation.objects.values_list("name", "credit_code", "district__code"),
            "operators": [
                (
                    o.name,
                    o.credit_code,
                    o.contact_name,
                    ",".join(sorted(a.school.code for a in o.authorisations.all())),
                    utc_iso(min((a.granted_at for a in o.authorisations.all()), default=None)),
                )
                for o in OperatorCompany.objects.prefetch_related("authorisations__school")
            ],
            "users": User.objects.values_list("username", "full_name", "phone", "is_superuser"),
            "roles": RoleAssignment.objects.values_list(
                "user__username", "role", "district__code", "school__code", "operator__name"
            ),
            "teachers": [
                (
                    t.user.username,
                    t.kind,
                    t.organisation.name if t.organisation else None,
                    ",".join(sorted(s.code for s in t.schools.all())),
                    t.subjects,
                )
                for t in TeacherProfile.objects.select_related("user", "organisation").prefetch_related("schools")
            ],
            "experts": [
                (
                    e.user.username,
                    json.dumps(list(e.specialities), ensure_ascii=False),
                    e.affiliation,
                    e.affiliation_school.code if e.affiliation_school else None,
                    e.affiliation_organisation.name if e.affiliation_organisation else None,
                )
                for e in ExpertProfile.objects.select_related("user", "affiliation_school", "affiliation_organisation")
            ],
            "pupils": [
                (sn, name, gender, birth.isoformat(), school, grade, class_name)
                for sn, name, gender, birth, school, grade, class_name in Pupil.objects.values_list(
                    "student_number", "name", "gender", "birth_date", "school__code", "grade", "class_name"
                )
            ],
            "guardians": Guardian.objects.values_list("pupil__student_number", "user__username", "relation"),
            "terms": [
                (n, s.isoformat(), e.isoformat())
                for n, s, e in Term.objects.values_list("name", "starts_on", "ends_on")
            ],
            "days": [
                (t, d.isoformat(), k, note, w)
                for t, d, k, note, w in CalendarDay.objects.filter(school__isnull=True).values_list(
                    "term__name", "date", "kind", "note", "follows_weekday"
                )
            ],
        }
    )
