"""Checking every row (pure), then against what the database already holds."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from django.utils.translation import gettext as _

from kehou.core.error_codes import ErrorCode

from ..validators import id_check_digit
from .columns import _PHONE, _STUDENT_NUMBER, GENDERS, RELATIONS
from .columns_base import (
    MAX_AGE_YEARS,
    MAX_CLASS,
    MAX_NAME,
    MIN_AGE_YEARS,
)
from .report import CheckedRoster, GuardianEntry, Problem, RosterFileError, RosterRow
from .values import _blank, _parse_date, _parse_grade, _phone, _same_name, _text, _years_before

EXAMPLE_STUDENT_NUMBER = "G360102201503159998"  # the template's example row (a made-up but well-formed number)


def check_rows(
    keys: Sequence[str | None], raw_rows: Iterable[tuple[int, Sequence[Any]]], *, grades: range, today: date
) -> CheckedRoster:
    """Check each row on its own, then across rows (duplicates). No database access."""
    result = CheckedRoster()
    first_row_of_number: dict[str, int] = {}
    name_of_phone: dict[str, tuple[str, int]] = {}
    for number, values in raw_rows:
        cells = {key: values[i] if i < len(values) else None for i, key in enumerate(keys) if key}
        if _text(cells.get("student_number")).upper() == EXAMPLE_STUDENT_NUMBER:
            result.warnings.append(
                Problem(number, "student_number", "example_row_skipped", _("The template's example row was skipped."))
            )
            continue
        row, problems, warnings = _check_row(number, cells, grades=grades, today=today)
        if row.student_number:
            first = first_row_of_number.setdefault(row.student_number, number)
            if first != number:
                problems.append(
                    Problem(
                        number,
                        "student_number",
                        "duplicate_student_number",
                        _("This student number is already on row %(row)d.") % {"row": first},
                    )
                )
        for g in row.guardians:
            seen = name_of_phone.setdefault(g.phone, (_same_name(g.name), number))
            if seen[0] != _same_name(g.name):
                problems.append(
                    Problem(
                        number,
                        f"guardian{g.slot}_name",
                        "guardian_name_conflict",
                        _("The same phone number has a different guardian name on row %(row)d.") % {"row": seen[1]},
                    )
                )
        row.ok = not problems
        result.rows.append(row)
        result.errors.extend(problems)
        result.warnings.extend(warnings)
    if not result.rows:
        raise RosterFileError(_("The file has no pupils in it."), code=ErrorCode.EMPTY_FILE)
    return result


def _check_row(
    number: int, cells: dict[str, Any], *, grades: range, today: date
) -> tuple[RosterRow, list[Problem], list[Problem]]:
    row = RosterRow(row=number)
    problems: list[Problem] = []
    warnings: list[Problem] = []

    def problem(column: str, code: str, message: str) -> None:
        problems.append(Problem(number, column, code, message))

    def required_text(column: str, max_length: int) -> str:
        value = _text(cells.get(column))
        if not value:
            problem(column, "missing_value", _("This value is required."))
            return ""
        if len(value) > max_length:
            problem(column, "too_long", _("At most %(max)d characters.") % {"max": max_length})
            return ""
        return value

    # 学籍号
    sn = re.sub(r"\s+", "", _text(cells.get("student_number"))).upper()
    if not sn:
        problem("student_number", "missing_value", _("This value is required."))
    elif not _STUDENT_NUMBER.match(sn):
        problem(
            "student_number",
            "invalid_student_number",
            _("A student number is G or L followed by 18 characters (17 digits and a digit or X)."),
        )
    elif sn[0] == "G" and id_check_digit(sn[1:18]) != sn[18]:
        problem(
            "student_number",
            "bad_check_digit",
            _("The check digit of the identity number in this student number is wrong; check for a typing error."),
        )
    else:
        row.student_number = sn

    row.name = required_text("name", MAX_NAME)

    # 性别
    gender = _text(cells.get("gender")).upper()
    if not gender:
        problem("gender", "missing_value", _("This value is required."))
    elif gender not in GENDERS:
        problem("gender", "invalid_gender", _("Gender is 男 or 女."))
    else:
        row.gender = GENDERS[gender]

    # 出生日期
    raw_date = cells.get("birth_date")
    if _blank(raw_date):
        problem("birth_date", "missing_value", _("This value is required."))
    else:
        birth = _parse_date(raw_date)
        if birth is None:
            problem("birth_date", "invalid_date", _("Enter a date such as 2015-03-15."))
        elif not (_years_before(today, MAX_AGE_YEARS) < birth <= _years_before(today, MIN_AGE_YEARS)):
            problem(
                "birth_date",
                "birth_date_out_of_range",
                _("A pupil is between %(min)d and %(max)d years old.") % {"min": MIN_AGE_YEARS, "max": MAX_AGE_YEARS},
            )
        else:
            row.birth_date = birth
            if row.student_number.startswith("G") and row.student_number[7:15] != birth.strftime("%Y%m%d"):
                warnings.append(
                    Problem(
                        number,
                        "birth_date",
                        "birth_date_differs_from_id",
                        _("The birth date differs from the one in the student number."),
                    )
                )

    # 年级
    raw_grade = cells.get("grade")
    if _blank(raw_grade):
        problem("grade", "missing_value", _("This value is required."))
    else:
        grade = _parse_grade(raw_grade)
        if grade is None:
            problem("grade", "invalid_grade", _("Enter the grade as a number, e.g. 3."))
        elif grade not in grades:
            problem(
                "grade",
                "grade_out_of_range",
                _("This school has grades %(first)d to %(last)d.") % {"first": grades[0], "last": grades[-1]},
            )
        else:
            row.grade = grade

    row.class_name = required_text("class_name", MAX_CLASS)

    # 监护人
    for slot in (1, 2):
        prefix = f"guardian{slot}_"
        raw = {part: cells.get(prefix + part) for part in ("name", "relation", "phone")}
        if slot == 2 and all(_blank(v) for v in raw.values()):
            continue
        g_name = required_text(prefix + "name", MAX_NAME)
        relation_text = re.sub(r"\s+", "", _text(raw["relation"]))
        relation = RELATIONS.get(relation_text) or RELATIONS.get(relation_text.lower())
        if not relation_text:
            problem(prefix + "relation", "missing_value", _("This value is required."))
        elif relation is None:
            problem(prefix + "relation", "invalid_relation", _("Relation is one of 父亲, 母亲, 祖父, 祖母, 其他."))
        phone = _phone(raw["phone"])
        if not phone:
            problem(prefix + "phone", "missing_value", _("This value is required."))
        elif not _PHONE.match(phone):
            problem(prefix + "phone", "invalid_phone", _("Enter a mainland mobile number of 11 digits."))
        elif any(g.phone == phone for g in row.guardians):
            problem(prefix + "phone", "duplicate_guardian", _("Guardian 2 has the same phone number as guardian 1."))
        elif g_name:
            row.guardians.append(GuardianEntry(slot=slot, name=g_name, relation=relation or "", phone=phone))
    return row, problems, warnings


def check_against_database(
    rows: Iterable[RosterRow],
    *,
    numbers_elsewhere: set[str],
    account_names: dict[str, str],
    usernames_taken: set[str],
) -> list[Problem]:
    """Row problems that depend on what is already stored, given as plain data read by the service.

    ``numbers_elsewhere``: student numbers registered at another school. ``account_names``: full name of the
    existing account of each phone. ``usernames_taken``: phones without an account that are already some other
    account's username (a new parent account is named by its phone).
    """
    problems: list[Problem] = []
    for row in rows:
        if row.student_number in numbers_elsewhere:
            problems.append(
                Problem(
                    row.row,
                    "student_number",
                    "pupil_in_other_school",
                    _("This pupil is registered at another school. Ask the education bureau to transfer the pupil."),
                )
            )
        for g in row.guardians:
            existing = account_names.get(g.phone)
            if existing is not None and _same_name(existing) != _same_name(g.name):
                problems.append(
                    Problem(
                        row.row,
                        f"guardian{g.slot}_name",
                        "guardian_name_mismatch",
                        _("This phone number belongs to an existing account with a different name. Check the phone."),
                    )
                )
            elif existing is None and g.phone in usernames_taken:
                problems.append(
                    Problem(
                        row.row,
                        f"guardian{g.slot}_phone",
                        "guardian_username_taken",
                        _("Another account already uses this phone number as its user name. Ask the platform admin."),
                    )
                )
    return problems
