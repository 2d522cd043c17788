"""Drawing the demo city: schools, organisations, operators, administrators, teachers, experts, then pupils and
their families. Pure: no database, the same arguments always give the same plan."""

from __future__ import annotations

import itertools
import math
import random
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, time

from kehou.demo import data
from kehou.demo.common import TZ, random_day, seeded_rng
from kehou.people.validators import id_check_digit

from .plan import (
    Plan,
    PlanExpert,
    PlanGuardian,
    PlanOperator,
    PlanOrganisation,
    PlanPupil,
    PlanRole,
    PlanSchool,
    PlanTeacher,
    PlanUser,
    make_credit_code,
)


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


def plan_city(*, seed: int = data.SEED, pupils: int = data.BASE_PUPILS) -> Plan:
    """Draw the whole demo city. Pure: no database, the same arguments always give the same plan."""
    plan = Plan(seed=seed, pupils_target=pupils)
    phones = _Phones(seeded_rng(seed, "phones"))
    districts = {d.code: d for d in data.DISTRICTS}

    plan.regions.append((data.CITY_CODE, data.CITY_NAME, "city", None))
    plan.regions += [(d.code, d.name, d.kind, data.CITY_CODE) for d in data.DISTRICTS]

    # Schools: codes are the district code and four digits; scattered around the district's centre.
    rng = seeded_rng(seed, "schools")
    counters: dict[str, int] = defaultdict(int)
    for spec in data.SCHOOLS:
        d = districts[spec.district]
        counters[d.code] += rng.randint(1, 29)
        lat = d.lat + rng.uniform(-d.spread, d.spread)
        lon = d.lon + rng.uniform(-d.spread, d.spread) * 1.15
        joined_at = None
        if spec.joined:
            day = random_day(rng, date(2026, 3, 2), date(2026, 8, 28))
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
    rng = seeded_rng(seed, "companies")
    for o in data.ORGANISATIONS:
        plan.organisations.append(PlanOrganisation(o.name, make_credit_code(rng, o.credit_prefix), o.district))
    for op_spec in data.OPERATORS:
        authorised = tuple(
            s.code
            for s in joined
            if (s.authority == "district" and s.district in op_spec.districts)
            or (s.authority != "district" and op_spec.non_district_schools)
        )
        granted = datetime.combine(random_day(rng, date(2026, 8, 3), date(2026, 8, 21)), time(10), tzinfo=TZ)
        plan.operators.append(
            PlanOperator(
                op_spec.name, make_credit_code(rng, op_spec.credit_prefix), op_spec.contact, authorised, granted
            )
        )

    # Administrators, one per district and one per school, and the platform superuser.
    rng = seeded_rng(seed, "admins")

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
    rng = seeded_rng(seed, "teachers")
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
    rng = seeded_rng(seed, "experts")
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

    _plan_pupils(plan, seeded_rng(seed, "pupils"), phones, joined, by_name)
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
            birth = random_day(rng, date(2020 - grade, 9, 1), date(2021 - grade, 8, 31))
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
