"""The plan of the demo city (what :func:`.draw.plan_city` draws and :func:`.stage.load` writes), and the
well-formed credit codes of its organisations and operators."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime

from kehou.demo import data
from kehou.people.validators import USCC_CHARS, uscc_check_char


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
