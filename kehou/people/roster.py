"""Roster import from Excel: the downloadable template, reading an upload, checking every row.

Everything here is pure (no database access): the service in ``roster_services`` reads what already exists in
one set-based pass and hands it to :func:`check_against_database`, then writes.

Rules a file must follow (also written on the template's instructions sheet):

* The first sheet (or the sheet named ``学生名单``) holds the roster; row 1 is the header. Columns are matched by
  their Chinese name (the text before the parenthesis), in any order; the guardian 2 columns may be left out.
  A missing required column, an unknown column or a repeated one rejects the whole file (``bad_header``).
* Blank rows are ignored. The template's example row (its student number) is skipped with a warning.
* 学籍号 is ``G`` + an 18-character resident identity number, whose ISO 7064 MOD 11-2 check digit must be right,
  or ``L`` + 18 characters issued locally (no check digit to verify).
* 性别 is 男/女 (M/F accepted); 出生日期 an Excel date or ``YYYY-MM-DD`` text, for a child aged 3 to 20;
  年级 a number (``3``, ``3年级``, ``三年级``, ``初一`` = 7) within the school's grades.
* Guardian 1 is required; guardian 2 is optional, but if any of its cells is filled all three must be.
  关系 is one of 父亲/母亲/祖父/祖母/其他 (外祖父/外祖母 count as 祖父/祖母); the phone an 11-digit mainland mobile.
* A phone number is one account. If that phone already has an account, the name in the file must be the account's
  name: a mismatch is an **error**, not a warning (``guardian_name_mismatch``), because linking a pupil to an
  account gives that account's holder the child's personal data; a mistyped phone number must not hand a minor's
  data to a stranger. The message never shows the existing account's name. The same phone twice in one file must
  carry the same name (``guardian_name_conflict``).

Every problem is a :class:`Problem` ``{row, column, code, message}``: ``row`` is the Excel row number, ``column``
the stable column key (see :data:`COLUMNS`), ``code`` a stable code listed in :data:`ROW_CODES`. File-level
problems raise :class:`RosterFileError` with one of :data:`FILE_CODES`.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.utils.translation import gettext as _

from kehou.core.errors import KehouError

from .models import PHONE_RE, STUDENT_NUMBER_RE, Guardian, Pupil
from .validators import id_check_digit

ROSTER_SHEET = "学生名单"
INSTRUCTIONS_SHEET = "填写说明"

MAX_NAME = 40
MAX_CLASS = 20
MIN_AGE_YEARS = 3
MAX_AGE_YEARS = 20
MAX_COLUMNS = 64  # columns read from each row; the template has 12


# --- columns --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    key: str
    header: str  # as written in the template: Chinese first, English in parentheses
    required: bool  # whether the column must be present in the header row
    width: int = 14

    @property
    def stem(self) -> str:
        return header_stem(self.header)


def _guardian_columns(n: int, required: bool) -> tuple[Column, ...]:
    return (
        Column(f"guardian{n}_name", f"监护人{n}姓名 (guardian {n} name)", required, 16),
        Column(f"guardian{n}_relation", f"监护人{n}关系 (父亲/母亲/祖父/祖母/其他)", required, 16),
        Column(f"guardian{n}_phone", f"监护人{n}手机 (guardian {n} mobile)", required, 16),
    )


COLUMNS: tuple[Column, ...] = (
    Column("student_number", "学籍号 (student number)", True, 24),
    Column("name", "姓名 (name)", True, 12),
    Column("gender", "性别 (gender: 男/女)", True, 10),
    Column("birth_date", "出生日期 (birth date)", True, 14),
    Column("grade", "年级 (grade)", True, 8),
    Column("class_name", "班级 (class)", True, 10),
    *_guardian_columns(1, True),
    *_guardian_columns(2, False),
)
COLUMNS_BY_KEY = {c.key: c for c in COLUMNS}
HEADERS = [c.header for c in COLUMNS]

GENDERS = {"男": Pupil.Gender.MALE, "女": Pupil.Gender.FEMALE, "M": Pupil.Gender.MALE, "F": Pupil.Gender.FEMALE}
RELATIONS = {
    "父亲": Guardian.Relation.FATHER,
    "母亲": Guardian.Relation.MOTHER,
    "祖父": Guardian.Relation.GRANDFATHER,
    "祖母": Guardian.Relation.GRANDMOTHER,
    "外祖父": Guardian.Relation.GRANDFATHER,
    "外祖母": Guardian.Relation.GRANDMOTHER,
    "其他": Guardian.Relation.OTHER,
    **{value: value for value in Guardian.Relation.values},
}
RELATION_CHOICES_ZH = ["父亲", "母亲", "祖父", "祖母", "其他"]

FILE_CODES = ("not_xlsx", "file_too_large", "too_many_rows", "bad_header", "empty_file")
ROW_CODES = (
    "missing_value",
    "too_long",
    "invalid_student_number",
    "bad_check_digit",
    "duplicate_student_number",
    "pupil_in_other_school",
    "invalid_gender",
    "invalid_date",
    "birth_date_out_of_range",
    "invalid_grade",
    "grade_out_of_range",
    "invalid_relation",
    "invalid_phone",
    "duplicate_guardian",
    "guardian_name_conflict",
    "guardian_name_mismatch",
    "guardian_username_taken",
)
WARNING_CODES = ("example_row_skipped", "birth_date_differs_from_id", "guardian_not_in_file")

_STUDENT_NUMBER = re.compile(STUDENT_NUMBER_RE)
_PHONE = re.compile(PHONE_RE)
_DATE_TEXT = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_CN_NUMBERS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def header_stem(text: str) -> str:
    """The Chinese name of a header cell: the text before the first parenthesis, without spaces."""
    text = text.replace("（", "(")
    return re.sub(r"\s+", "", text.split("(", 1)[0])


# --- report ---------------------------------------------------------------------------------------
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

    code = "roster_file_invalid"
    status = 400


# --- rows -----------------------------------------------------------------------------------------
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


# --- reading the file -----------------------------------------------------------------------------
def read_sheet(
    data: bytes, *, max_rows: int, max_unpacked_bytes: int
) -> tuple[list[str | None], list[tuple[int, tuple]]]:
    """Open an .xlsx (checked by content, not by name) and return (column keys by position, data rows).

    Each data row is (Excel row number, cell values). Raises RosterFileError.
    """
    _check_zip(data, max_unpacked_bytes=max_unpacked_bytes)
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds of errors on broken files
        raise RosterFileError(_("The file is not a readable Excel (.xlsx) workbook."), code="not_xlsx") from exc
    try:
        sheet = wb[ROSTER_SHEET] if ROSTER_SHEET in wb.sheetnames else wb.worksheets[0]
        # The size a file declares for itself may be wrong (rows beyond it would be silently dropped) or huge:
        # forget it, read every row, and no more than MAX_COLUMNS columns.
        sheet.reset_dimensions()
        rows_iter = sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS)
        header = next(rows_iter, None)
        keys = _match_header(list(header or ()))
        rows: list[tuple[int, tuple]] = []
        for number, values in enumerate(rows_iter, start=2):
            if all(_blank(v) for v in values):
                continue
            if len(rows) >= max_rows:
                raise RosterFileError(
                    _("The file has more than %(max)d rows. Split it into smaller files.") % {"max": max_rows},
                    code="too_many_rows",
                    fields={"max_rows": max_rows},
                )
            rows.append((number, values))
    except RosterFileError:
        raise
    except Exception as exc:
        raise RosterFileError(_("The file is not a readable Excel (.xlsx) workbook."), code="not_xlsx") from exc
    finally:
        wb.close()
    return keys, rows


def _check_zip(data: bytes, *, max_unpacked_bytes: int) -> None:
    not_xlsx = RosterFileError(_("The file is not a readable Excel (.xlsx) workbook."), code="not_xlsx")
    if not data.startswith(b"PK\x03\x04"):
        raise not_xlsx
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise not_xlsx from exc
    names = {info.filename for info in infos}
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/worksheets/") for n in names):
        raise not_xlsx
    if sum(info.file_size for info in infos) > max_unpacked_bytes:  # a "zip bomb" is refused before unpacking
        raise RosterFileError(_("The file is too large."), code="file_too_large")


def _match_header(cells: Sequence[Any]) -> list[str | None]:
    by_stem = {c.stem: c for c in COLUMNS}
    keys: list[str | None] = []
    unknown: list[str] = []
    repeated: list[str] = []
    for cell in cells:
        text = "" if cell is None else str(cell).strip()
        if not text:
            keys.append(None)
            continue
        column = by_stem.get(header_stem(text))
        if column is None:
            unknown.append(text)
            keys.append(None)
        elif column.key in keys:
            repeated.append(text)
            keys.append(None)
        else:
            keys.append(column.key)
    missing = [c.header for c in COLUMNS if c.required and c.key not in keys]
    if missing or unknown or repeated:
        raise RosterFileError(
            _("The header row does not match the template. Download the template and copy your data into it."),
            code="bad_header",
            fields={"missing": missing, "unknown": unknown, "repeated": repeated, "expected": HEADERS},
        )
    return keys


# --- checking rows --------------------------------------------------------------------------------
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
        raise RosterFileError(_("The file has no pupils in it."), code="empty_file")
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


# --- value parsing --------------------------------------------------------------------------------
def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).replace("\u3000", " ").strip()


def _same_name(name: str) -> str:
    return re.sub(r"\s+", "", name)


def _phone(value: Any) -> str:
    text = _text(value)
    text = re.sub(r"[\s\-]", "", text)
    if text.startswith("+86"):
        text = text[3:]
    return text


def _parse_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    m = _DATE_TEXT.match(value.strip())
    if not m:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def _parse_grade(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    text = re.sub(r"\s+", "", str(value)).removesuffix("年级")
    if text.isdigit():
        return int(text)
    if text in _CN_NUMBERS:
        return _CN_NUMBERS[text]
    if len(text) == 2 and text[0] == "初" and text[1] in ("一", "二", "三"):
        return 6 + _CN_NUMBERS[text[1]]
    return None


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


# --- the template ---------------------------------------------------------------------------------
INSTRUCTIONS = (
    ("填写说明 (instructions)", ""),
    ("每行一名学生；第一行是表头，请勿修改或删除。", "One pupil per row; row 1 is the header: do not change it."),
    ("示例行（第2行）导入时会被跳过，可以删除。", "The example row (row 2) is skipped on import; you may delete it."),
    (
        "学籍号：G + 18位身份证号（校验位须正确），或 L + 18位。",
        "Student number: G + the 18-character ID number (with a correct check digit), or L + 18 characters.",
    ),
    ("性别：男 或 女。", "Gender: 男 (male) or 女 (female)."),
    ("出生日期：Excel 日期或 YYYY-MM-DD 文本。", "Birth date: an Excel date or YYYY-MM-DD text."),
    ("年级：{grades}。", "Grade: {grades}."),
    ("班级：例如 1班。", "Class: e.g. 1班."),
    (
        "监护人1必填；监护人2可不填，填写时三项都要填。",
        "Guardian 1 is required; guardian 2 is optional, but if filled all three cells are needed.",
    ),
    (
        "关系：父亲、母亲、祖父、祖母、其他（外祖父、外祖母按祖父、祖母登记）。",
        "Relation: 父亲 father, 母亲 mother, 祖父 grandfather, 祖母 grandmother, 其他 other.",
    ),
    (
        "手机：11位手机号。新号码自动开通家长账号（短信验证码登录）；已有账号的号码，姓名必须与账号一致。",
        "Mobile: 11 digits. A new number gets a parent account (log in by SMS code); for an existing account "
        "the name must match the account's name.",
    ),
    (
        "任一行有错误时整份文件都不会导入；按报告改正后重新上传即可。重复上传同一文件不会产生重复数据。",
        "If any row has an error nothing is imported: fix the rows listed and upload again. "
        "Uploading the same file twice creates nothing twice.",
    ),
    (
        "学生已在其他学校登记时不能导入，请联系教育局办理转学。",
        "A pupil registered at another school cannot be imported: ask the bureau for a transfer.",
    ),
)


def template_bytes(*, grades: range, max_rows: int) -> bytes:
    """The downloadable template: header row, one example row, and an instructions sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = ROSTER_SHEET
    ws.append(HEADERS)
    header_fill = PatternFill("solid", fgColor="E7F5EE")
    for i, column in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=1, column=i)
        cell.font = Font(bold=True)
        cell.fill = header_fill
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[get_column_letter(i)].width = column.width + 6
    ws.row_dimensions[1].height = 36
    ws.freeze_panes = "A2"
    example_grade = grades[min(2, len(grades) - 1)]
    ws.append(
        [
            EXAMPLE_STUDENT_NUMBER,
            "张小明",
            "男",
            date(2015, 3, 15),
            example_grade,
            "1班",
            "张伟",
            "父亲",
            "13800138000",
            "李娜",
            "母亲",
            "13900139000",
        ]
    )
    last = max_rows + 1
    letters = {c.key: get_column_letter(i) for i, c in enumerate(COLUMNS, start=1)}
    grey = Font(color="808080", italic=True)
    for i in range(1, len(COLUMNS) + 1):
        ws.cell(row=2, column=i).font = grey
    # Text cells for numbers that must keep every digit; a date format for the birth date.
    for key in ("student_number", "guardian1_phone", "guardian2_phone", "class_name"):
        ws[f"{letters[key]}2"].number_format = "@"
    ws[f"{letters['birth_date']}2"].number_format = "yyyy-mm-dd"
    # Drop-down lists where the values are fixed.
    lists = {
        "gender": '"男,女"',
        "guardian1_relation": '"' + ",".join(RELATION_CHOICES_ZH) + '"',
        "guardian2_relation": '"' + ",".join(RELATION_CHOICES_ZH) + '"',
        "grade": '"' + ",".join(str(g) for g in grades) + '"',
    }
    for key, formula in lists.items():
        validation = DataValidation(type="list", formula1=formula, allow_blank=True)
        validation.add(f"{letters[key]}2:{letters[key]}{last}")
        ws.add_data_validation(validation)

    info = wb.create_sheet(INSTRUCTIONS_SHEET)
    grade_text = f"{grades[0]}–{grades[-1]}"
    for zh, en in INSTRUCTIONS:
        info.append([zh.format(grades=grade_text), en.format(grades=grade_text)])
    info["A1"].font = Font(bold=True, size=13)
    info.column_dimensions["A"].width = 80
    info.column_dimensions["B"].width = 90
    info.append([])
    info.append(["列 (column)", "说明 (meaning)"])
    for column in COLUMNS:
        info.append([column.header, "必填 (required)" if column.required else "选填 (optional)"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
