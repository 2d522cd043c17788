"""The demo city loader: plan a deterministic Nanchang, then write it to the database in bulk.

Two steps keep it reproducible and fast:

* :func:`plan_city` draws the whole city from seeded random generators (one per part, so that changing the
  number of pupils leaves schools, teachers and accounts as they were). It touches no database and never
  iterates a set, so the same seed gives the same plan in any process. :func:`plan_digest` fingerprints it.
* :func:`load` writes a plan with ``bulk_create`` inside one transaction and writes one audit entry
  (``demo.loaded``). This is seeding, not a person's action, so it does not go through the services; every
  account shares one password hash made once with ``make_password`` (Argon2 is deliberately slow).

:func:`demo_state` tells whether the city is already there, so that loading twice adds nothing;
:func:`reset` removes it again. :func:`collect_accounts` lists the accounts that still log in with the demo
password, for ``manage.py demo_accounts``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import random
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.db.models import ProtectedError, RestrictedError

from kehou.core import audit
from kehou.core.errors import KehouError
from kehou.people.validators import USCC_CHARS, id_check_digit, uscc_check_char

from . import data
from .data import DEMO_PASSWORD

TZ = ZoneInfo("Asia/Shanghai")
GRANTED_AT = datetime(2026, 8, 24, 9, 0, tzinfo=TZ)  # accounts and roles of the demo were set up on this day
USERNAME_RE = (
    r"^(admin|city|district-\d{6}|school-\d{10}|teacher|teacher-outside|teacher-\d{4}"
    r"|operator|operator-\d{2}|expert|expert-\d{2}|parent|parent-\d{5})$"
)
NAMED_USERNAMES = ("admin", "city", "teacher", "teacher-outside", "parent", "operator", "expert")


class DemoError(KehouError):
    code = "demo_conflict"
    status = 409


# --- identity numbers and credit codes ----------------------------------------------------------------
def org_code_check_char(body8: str) -> str:
    """The check character of an organisation code (GB 11714), characters 9–17 of a credit code."""
    total = sum(
        (int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body8, (3, 7, 9, 10, 5, 8, 4, 2), strict=True)
    )
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def make_credit_code(rng: random.Random, prefix8: str) -> str:
    """A well-formed credit code: kind + area (``prefix8``), organisation code with its check, overall check."""
    if prefix8.startswith("12"):  # a public institution keeps its old all-digit organisation code
        body = "4" + "".join(rng.choice("0123456789") for _ in range(7))
    else:  # a company or private non-enterprise registered since 2015 ("MA" codes)
        body = "MA3" + "".join(rng.choice(USCC_CHARS) for _ in range(5))
    body17 = prefix8 + body + org_code_check_char(body)
    return body17 + uscc_check_char(body17)


# --- the plan ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlanSchool:
    code: str
    name: str
    stage: str
    authority: str
    district: str
    address: str
    latitude: str
    longitude: str
    checkin_radius_m: int
    joined_at: datetime | None

    @property
    def grades(self) -> range:
        return {"primary": range(1, 7), "junior": range(7, 10)}.get(self.stage, range(1, 10))


@dataclass(frozen=True)
class PlanUser:
    username: str
    full_name: str
    phone: str
    is_superuser: bool = False


@dataclass(frozen=True)
class PlanRole:
    username: str
    role: str
    district: str | None = None
    school: str | None = None
    operator: str | None = None


@dataclass(frozen=True)
class PlanTeacher:
    username: str
    kind: str
    organisation: str | None
    schools: tuple[str, ...]
    subjects: str


@dataclass(frozen=True)
class PlanExpert:
    username: str
    specialities: tuple[str, ...]
    affiliation: str
    school: str | None = None
    organisation: str | None = None


@dataclass(frozen=True)
class PlanOrganisation:
    name: str
    credit_code: str
    district: str


@dataclass(frozen=True)
class PlanOperator:
    name: str
    credit_code: str
    contact_name: str
    schools: tuple[str, ...]
    granted_at: datetime


@dataclass(frozen=True)
class PlanPupil:
    student_number: str
    name: str
    gender: str
    birth_date: date
    school: str
    grade: int
    class_name: str


@dataclass(frozen=True)
class PlanGuardian:
    student_number: str
    username: str
    relation: str


@dataclass
class Plan:
    seed: int
    pupils_target: int
    regions: list[tuple[str, str, str, str | None]] = field(default_factory=list)  # code, name, kind, parent
    schools: list[PlanSchool] = field(default_factory=list)
    organisations: list[PlanOrganisation] = field(default_factory=list)
    operators: list[PlanOperator] = field(default_factory=list)
    users: list[PlanUser] = field(default_factory=list)
    roles: list[PlanRole] = field(default_factory=list)
    teachers: list[PlanTeacher] = field(default_factory=list)
    experts: list[PlanExpert] = field(default_factory=list)
    pupils: list[PlanPupil] = field(default_factory=list)
    guardians: list[PlanGuardian] = field(default_factory=list)
    terms: tuple[data.TermSpec, ...] = data.TERMS


class _Phones:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def next(self) -> str:
        while True:
            phone = self.rng.choice(data.PHONE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if phone not in self.used:
                self.used.add(phone)
                return phone


_SURNAMES = [s for s, _ in data.SURNAMES]
_SURNAME_CUM = list(itertools.accumulate(w for _, w in data.SURNAMES))


def _surname(rng: random.Random) -> str:
    return rng.choices(_SURNAMES, cum_weights=_SURNAME_CUM)[0]


def _given(rng: random.Random, first: str, second: str, single: float) -> str:
    if rng.random() < single:
        return rng.choice(second)
    a = rng.choice(first)
    b = rng.choice(second)
    while b == a:
        b = rng.choice(second)
    return a + b


def _adult_name(rng: random.Random, *, male: bool, surname: str | None = None) -> str:
    pools = (data.ADULT_MAN_1, data.ADULT_MAN_2) if male else (data.ADULT_WOMAN_1, data.ADULT_WOMAN_2)
    return (surname or _surname(rng)) + _given(rng, *pools, single=0.3)


def _child_given(rng: random.Random, *, male: bool) -> str:
    pools = (data.CHILD_BOY_1, data.CHILD_BOY_2) if male else (data.CHILD_GIRL_1, data.CHILD_GIRL_2)
    return _given(rng, *pools, single=0.12)


def _rng(seed: int, part: str) -> random.Random:
    # Demo data, not secrets: a seeded generator is the point. A str seed is hashed with SHA-512, so it is stable
    # across processes (unlike hash()).
    return random.Random(f"{seed}:{part}")  # noqa: S311


def _random_day(rng: random.Random, first: date, last: date) -> date:
    return date.fromordinal(rng.randint(first.toordinal(), last.toordinal()))


def plan_city(*, seed: int = data.SEED, pupils: int = data.BASE_PUPILS) -> Plan:
    """Draw the whole demo city. Pure: no database, the same arguments always give the same plan."""
    plan = Plan(seed=seed, pupils_target=pupils)
    phones = _Phones(_rng(seed, "phones"))
    districts = {d.code: d for d in data.DISTRICTS}

    plan.regions.append((data.CITY_CODE, data.CITY_NAME, "city", None))
    plan.regions += [(d.code, d.name, d.kind, data.CITY_CODE) for d in data.DISTRICTS]

    # Schools: codes are the district code and four digits; scattered around the district's centre.
    rng = _rng(seed, "schools")
    counters: dict[str, int] = defaultdict(int)
    for spec in data.SCHOOLS:
        d = districts[spec.district]
        counters[d.code] += rng.randint(1, 29)
        lat = d.lat + rng.uniform(-d.spread, d.spread)
        lon = d.lon + rng.uniform(-d.spread, d.spread) * 1.15
        joined_at = None
        if spec.joined:
            day = _random_day(rng, date(2026, 3, 2), date(2026, 8, 28))
            joined_at = datetime.combine(day, time(rng.randint(8, 17), rng.choice((0, 15, 30, 45))), tzinfo=TZ)
        plan.schools.append(
            PlanSchool(
                code=f"{d.code}{counters[d.code]:04d}",
                name=spec.name,
                stage=spec.stage,
                authority=spec.authority,
                district=d.code,
                address=f"{data.CITY_NAME}{d.name}{rng.choice(d.streets)}{rng.randint(1, 999)}号",
                latitude=f"{lat:.6f}",
                longitude=f"{lon:.6f}",
                checkin_radius_m=rng.choice((200, 250, 300, 300, 300, 400, 500)),
                joined_at=joined_at,
            )
        )
    by_name = {s.name: s for s in plan.schools}
    joined = [s for s in plan.schools if s.joined_at is not None]

    # Organisations and operator companies.
    rng = _rng(seed, "companies")
    for o in data.ORGANISATIONS:
        plan.organisations.append(PlanOrganisation(o.name, make_credit_code(rng, o.credit_prefix), o.district))
    for op_spec in data.OPERATORS:
        authorised = tuple(
            s.code
            for s in joined
            if (s.authority == "district" and s.district in op_spec.districts)
            or (s.authority != "district" and op_spec.non_district_schools)
        )
        granted = datetime.combine(_random_day(rng, date(2026, 8, 3), date(2026, 8, 21)), time(10), tzinfo=TZ)
        plan.operators.append(
            PlanOperator(
                op_spec.name, make_credit_code(rng, op_spec.credit_prefix), op_spec.contact, authorised, granted
            )
        )

    # Administrators, one per district and one per school, and the platform superuser.
    rng = _rng(seed, "admins")

    def person(username: str, *, male: bool | None = None, superuser: bool = False) -> None:
        is_male = rng.random() < 0.5 if male is None else male
        plan.users.append(PlanUser(username, _adult_name(rng, male=is_male), phones.next(), superuser))

    person("admin", superuser=True)
    plan.roles.append(PlanRole("admin", "superuser"))
    person("city")
    plan.roles.append(PlanRole("city", "city_admin"))
    for d in data.DISTRICTS:
        person(f"district-{d.code}")
        plan.roles.append(PlanRole(f"district-{d.code}", "district_admin", district=d.code))
    for s in plan.schools:
        person(f"school-{s.code}")
        plan.roles.append(PlanRole(f"school-{s.code}", "school_admin", school=s.code))

    # Operator staff: the first of the first operator is the named "operator".
    n = 0
    for op_spec, op in zip(data.OPERATORS, plan.operators, strict=True):
        for _ in range(op_spec.staff):
            n += 1
            username = "operator" if n == 1 else f"operator-{n:02d}"
            person(username)
            plan.roles.append(PlanRole(username, "operator_staff", operator=op.name))

    # Teachers: staff teachers of every joined school (the named "teacher" first), then outside teachers.
    rng = _rng(seed, "teachers")
    teacher_no = 0

    def teacher_username() -> str:
        nonlocal teacher_no
        teacher_no += 1
        return f"teacher-{teacher_no:04d}"

    def add_teacher(username: str, kind: str, org: str | None, schools: Sequence[str], subjects: str) -> None:
        male = rng.random() < 0.35
        plan.users.append(PlanUser(username, _adult_name(rng, male=male), phones.next()))
        plan.roles.append(PlanRole(username, "teacher"))
        plan.teachers.append(PlanTeacher(username, kind, org, tuple(schools), subjects))

    named_school = by_name[data.NAMED_TEACHER_SCHOOL]
    for s in [named_school] + [s for s in joined if s is not named_school]:
        for i in range(rng.randint(3, 6)):
            username = "teacher" if s is named_school and i == 0 else teacher_username()
            subjects = "、".join(rng.sample(data.STAFF_SUBJECTS, rng.randint(1, 2)))
            add_teacher(username, "staff", None, [s.code], subjects)

    def schools_for_outside(home_district: str | None, k: int, must: PlanSchool | None = None) -> list[str]:
        near = [s for s in joined if s.district == home_district and s is not must]
        far = [s for s in joined if s.district != home_district and s is not must]
        chosen = ([must] if must else []) + rng.sample(near, min(len(near), rng.randint(0, 2)))
        chosen += rng.sample(far, max(0, k - len(chosen)))
        return sorted(s.code for s in chosen)

    for o_i, o in enumerate(data.ORGANISATIONS):
        for i in range(o.teachers):
            named = o_i == 0 and i == 0
            username = "teacher-outside" if named else teacher_username()
            teaches_at = schools_for_outside(o.district, rng.randint(2, 4), named_school if named else None)
            subjects = "、".join(rng.sample(o.subjects, rng.randint(1, 2)))
            add_teacher(username, "outside", o.name, teaches_at, subjects)
    for _ in range(data.INDEPENDENT_OUTSIDE_TEACHERS):
        teaches_at = schools_for_outside(None, rng.randint(2, 3))
        add_teacher(teacher_username(), "outside", None, teaches_at, rng.choice(data.INDEPENDENT_SUBJECTS))

    # Experts: every speciality has six, a few from demo schools and from an organisation.
    rng = _rng(seed, "experts")
    for i in range(data.EXPERTS):
        username = "expert" if i == 0 else f"expert-{i + 1:02d}"
        specialities = [data.SPECIALITIES[i % len(data.SPECIALITIES)]]
        if i == 0:
            specialities.append("人文")
        elif rng.random() < 0.4:
            specialities.append(rng.choice([sp for sp in data.SPECIALITIES if sp != specialities[0]]))
        school = organisation = None
        if i == 0:
            affiliation = "江西师范大学"
        elif i % 6 == 3:
            school = rng.choice(joined)
            affiliation = school.name
        elif i in (10, 29):
            organisation = data.ORGANISATIONS[i % len(data.ORGANISATIONS)].name
            affiliation = organisation
        else:
            affiliation = rng.choice(data.EXPERT_AFFILIATIONS[specialities[0]])
        plan.users.append(PlanUser(username, _adult_name(rng, male=rng.random() < 0.5), phones.next()))
        plan.roles.append(PlanRole(username, "expert"))
        plan.experts.append(
            PlanExpert(username, tuple(specialities), affiliation, school.code if school else None, organisation)
        )

    _plan_pupils(plan, _rng(seed, "pupils"), phones, joined, by_name)
    return plan


_STAGE_WEIGHT = {"primary": 1.0, "junior": 0.8, "nine_year": 1.35}
_AUTHORITY_WEIGHT = {"city_bureau": 1.3, "province_institution": 1.2, "city_private": 0.9, "district": 1.0}


def _allocate(total: int, weights: Sequence[float], minimum: int = 0) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (largest remainder), each share at least ``minimum``."""
    total = max(total, minimum * len(weights))
    spare = total - minimum * len(weights)
    raw = [spare * w / sum(weights) for w in weights]
    shares = [math.floor(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - shares[i]), i))
    for i in order[: spare - sum(shares)]:
        shares[i] += 1
    return [s + minimum for s in shares]


def _plan_pupils(
    plan: Plan, rng: random.Random, phones: _Phones, joined: list[PlanSchool], by_name: dict[str, PlanSchool]
) -> None:
    districts = {d.code: d for d in data.DISTRICTS}
    # 1. Places: school, grade and class of every pupil.
    places: list[tuple[PlanSchool, int, str]] = []
    weights = [_STAGE_WEIGHT[s.stage] * _AUTHORITY_WEIGHT[s.authority] for s in joined]
    for school, count in zip(joined, _allocate(plan.pupils_target, weights, minimum=1), strict=True):
        grades = list(school.grades)
        for grade, in_grade in zip(grades, _allocate(count, [1.0] * len(grades)), strict=True):
            classes = max(1, min(6, math.ceil(in_grade / rng.randint(5, 8))))
            places += [(school, grade, f"{j % classes + 1}班") for j in range(in_grade)]

    # 2. Families: most have one child here; some two, at the same school or at another one.
    order = list(range(len(places)))
    rng.shuffle(order)
    free: dict[str, list[int]] = defaultdict(list)
    for i in order:
        free[places[i][0].code].append(i)
    used = [False] * len(places)

    def take(school: PlanSchool, not_grade: int | None = None) -> int | None:
        for i in free[school.code]:
            if not used[i] and places[i][1] != not_grade:
                used[i] = True
                free[school.code].remove(i)
                return i
        return None

    families: list[list[int]] = []
    # The named parent's family comes first: two children at two schools.
    first, second = (by_name[name] for name in data.NAMED_PARENT_SCHOOLS)
    a = take(first)
    b = take(second, not_grade=places[a][1] if a is not None else None)
    families.append([i for i in (a, b) if i is not None])
    schools_with_places = [s for s in joined if free[s.code]]
    for i in order:
        if used[i]:
            continue
        used[i] = True
        free[places[i][0].code].remove(i)
        family = [i]
        if rng.random() < 0.12:
            other = places[i][0] if rng.random() < 0.5 else rng.choice(schools_with_places)
            sibling = take(other, not_grade=places[i][1])
            if sibling is not None:
                family.append(sibling)
        families.append(family)

    # 3. People: guardians' accounts, children's names, birth dates and student numbers.
    numbers: set[str] = set()
    parent_no = 0
    for f_i, family in enumerate(families):
        surname = _surname(rng)
        mother_surname = _surname(rng)
        r = rng.random()
        if f_i == 0:
            relations = ["mother", "father"]
        elif r < 0.50:
            relations = ["father", "mother"]
        elif r < 0.60:
            relations = ["mother", "grandmother"]
        elif r < 0.65:
            relations = ["father", "grandfather"]
        elif r < 0.85:
            relations = ["mother"]
        elif r < 0.95:
            relations = ["father"]
        elif r < 0.98:
            relations = ["grandmother"]
        elif r < 0.995:
            relations = ["grandfather"]
        else:
            relations = ["other"]
        guardians: list[tuple[str, str]] = []
        for relation in relations:
            if relation == "father":
                name = _adult_name(rng, male=True, surname=surname)
            elif relation == "mother":
                name = _adult_name(rng, male=False, surname=mother_surname)
            elif relation == "grandfather":
                name = surname + rng.choice(data.GRANDFATHER_NAMES)
            elif relation == "grandmother":
                name = _surname(rng) + rng.choice(data.GRANDMOTHER_NAMES)
            else:
                name = _adult_name(rng, male=rng.random() < 0.5)
            if f_i == 0 and not guardians:
                username = "parent"
            else:
                parent_no += 1
                username = f"parent-{parent_no:05d}"
            plan.users.append(PlanUser(username, name, phones.next()))
            plan.roles.append(PlanRole(username, "parent"))
            guardians.append((username, relation))
        child_surname = mother_surname if rng.random() < 0.06 else surname
        for i in family:
            school, grade, class_name = places[i]
            male = rng.random() < 0.52
            # Grade 1 in autumn 2026 is for children who turned six by 31 August 2026.
            birth = _random_day(rng, date(2020 - grade, 9, 1), date(2021 - grade, 8, 31))
            area = districts[school.district].id_area
            while True:
                sequence = f"{rng.randrange(100):02d}{rng.choice('13579' if male else '02468')}"
                body = f"{area}{birth:%Y%m%d}{sequence}"
                number = "G" + body + id_check_digit(body)
                if number not in numbers:
                    numbers.add(number)
                    break
            plan.pupils.append(
                PlanPupil(
                    number,
                    child_surname + _child_given(rng, male=male),
                    "M" if male else "F",
                    birth,
                    school.code,
                    grade,
                    class_name,
                )
            )
            plan.guardians += [PlanGuardian(number, username, relation) for username, relation in guardians]


# --- fingerprints -------------------------------------------------------------------------------------
def _utc(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat() if value else ""


def _digest(sections: dict[str, Iterable[Sequence[Any]]]) -> str:
    h = hashlib.sha256()
    for name in sorted(sections):
        h.update(f"[{name}]\n".encode())
        for line in sorted("|".join("" if v is None else str(v) for v in row) for row in sections[name]):
            h.update(line.encode() + b"\n")
    return h.hexdigest()


def plan_digest(plan: Plan) -> str:
    """A fingerprint of the rows a plan writes; :func:`db_digest` computes the same from the database."""
    return _digest(
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
                    _utc(s.joined_at),
                )
                for s in plan.schools
            ],
            "organisations": [(o.name, o.credit_code, o.district) for o in plan.organisations],
            "operators": [
                (o.name, o.credit_code, o.contact_name, ",".join(sorted(o.schools)), _utc(o.granted_at))
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

    return _digest(
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
                    _utc(s.joined_at),
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
                    _utc(min((a.granted_at for a in o.authorisations.all()), default=None)),
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


# --- state, loading and reset ---------------------------------------------------------------------------
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


@dataclass(frozen=True)
class LoadResult:
    loaded: bool
    state: str
    counts: dict[str, int]


def build(*, scale: float = 1.0, pupils: int | None = None, seed: int = data.SEED, now: datetime) -> LoadResult:
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
            action="demo.loaded",
            object_type="demo.city",
            object_id=data.CITY_CODE,
            object_repr=f"{data.CITY_NAME} (demo)",
            after={"seed": plan.seed, "digest": plan_digest(plan), **counts},
            now=now,
        )
    return counts


def reset(*, now: datetime) -> dict[str, int]:
    """Delete the demo city (its schools, accounts, companies and terms). Refuses if other data refers to it,
    and once the demo catalog is loaded (its audit entries cannot be deleted)."""
    from kehou.orgs.models import OperatorCompany, Organisation, Region, School, Term
    from kehou.people.models import Guardian, Pupil, User

    from .catalog import catalog_state

    if catalog_state() != "absent":
        raise DemoError(
            "The libraries and review hold data (the demo's, or entered since): their steps are in the append-only "
            "audit log, which refers to the demo accounts and schools, so the demo city cannot be removed. Start "
            "from a fresh database instead (for SQLite: delete the database file, then run migrate and load_demo)."
        )
    plan = plan_city(pupils=0)
    deleted: dict[str, int] = {}
    try:
        with transaction.atomic():
            schools = School.objects.filter(code__in=[s.code for s in plan.schools])
            users = User.objects.filter(username__regex=USERNAME_RE)
            steps = [
                ("guardians", Guardian.objects.filter(pupil__school__in=schools)),
                ("guardians of demo accounts", Guardian.objects.filter(user__in=users)),
                ("pupils", Pupil.objects.filter(school__in=schools)),
                ("accounts", users),
                ("operators", OperatorCompany.objects.filter(name__in=[o.name for o in plan.operators])),
                ("organisations", Organisation.objects.filter(name__in=[o.name for o in plan.organisations])),
                ("schools", schools),
                ("terms", Term.objects.filter(name__in=[t.name for t in plan.terms])),
            ]
            for label, qs in steps:
                deleted[label] = qs.delete()[0]
            try:
                with transaction.atomic():  # regions stay if anything else still lies in them
                    codes = [code for code, *_ in plan.regions]
                    deleted["regions"] = Region.objects.filter(code__in=codes[1:]).delete()[0]
                    deleted["regions"] += Region.objects.filter(code=codes[0]).delete()[0]
            except (ProtectedError, RestrictedError):
                deleted["regions"] = 0
            audit.record(
                actor=None,
                action="demo.reset",
                object_type="demo.city",
                object_id=data.CITY_CODE,
                object_repr=f"{data.CITY_NAME} (demo)",
                before=deleted,
                now=now,
            )
    except (ProtectedError, RestrictedError) as exc:
        blockers = sorted({type(o)._meta.label for o in exc.args[1]})  # type: ignore[misc]
        raise DemoError(
            "Other data refers to the demo city, so it cannot be removed "
            f"({', '.join(blockers)}). Start from a fresh database instead."
        ) from exc
    return deleted


# --- the accounts, for demo_accounts ----------------------------------------------------------------------
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
            _natural(a.username),
        )
    )
    return accounts, changed


def _natural(username: str) -> tuple[Any, ...]:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", username))
