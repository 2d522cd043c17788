"""What an import reports (problems by row and column) and the rows it reads."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from kehou.core.error_codes import ErrorCode
from kehou.core.errors import KehouError

from .columns import COLUMNS


@dataclass(frozen=True)
class Problem:
    row: int | None
    column: str
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "code": self.code, "message": str(self.message)}


@dataclass
class RosterReport:
    filename: str = ""
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    accounts_created: int = 0
    guardians_linked: int = 0
    imported: bool = False
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "filename": self.filename,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "accounts_created": self.accounts_created,
            "guardians_linked": self.guardians_linked,
            "errors": [p.as_dict() for p in sorted_problems(self.errors)],
            "warnings": [p.as_dict() for p in sorted_problems(self.warnings)],
        }


def sorted_problems(problems: Iterable[Problem]) -> list[Problem]:
    order = {c.key: i for i, c in enumerate(COLUMNS)}
    return sorted(problems, key=lambda p: (p.row or 0, order.get(p.column, len(order))))


class RosterFileError(KehouError):
    """The file as a whole cannot be read (not an xlsx, too large, too many rows, wrong header, empty)."""

    code = ErrorCode.ROSTER_FILE_INVALID
    status = 400


@dataclass(frozen=True)
class GuardianEntry:
    slot: int
    name: str
    relation: str  # Guardian.Relation value
    phone: str


@dataclass
class RosterRow:
    """One data row. Fields that failed their check are left empty; ``ok`` says whether the row had no error."""

    row: int
    student_number: str = ""
    name: str = ""
    gender: str = ""
    birth_date: date | None = None
    grade: int | None = None
    class_name: str = ""
    guardians: list[GuardianEntry] = field(default_factory=list)
    ok: bool = True

    def pupil_fields(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "gender": self.gender,
            "birth_date": self.birth_date,
            "grade": self.grade,
            "class_name": self.class_name,
        }


@dataclass
class CheckedRoster:
    rows: list[RosterRow] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
