"""Roster import from Excel: the downloadable template, reading an upload, checking every row.

Everything here is pure (no database access; one module per step: ``columns``, ``report``, ``reading``,
``checking``, ``values``, ``template``): the service in ``roster_services`` reads what already exists in
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

from ..validators import id_check_digit
from .checking import EXAMPLE_STUDENT_NUMBER, check_against_database, check_rows
from .columns import COLUMNS, COLUMNS_BY_KEY, FILE_CODES, HEADERS, ROW_CODES, WARNING_CODES, Column
from .columns_base import INSTRUCTIONS_SHEET, ROSTER_SHEET
from .reading import read_sheet
from .report import CheckedRoster, GuardianEntry, Problem, RosterFileError, RosterReport, RosterRow, sorted_problems
from .template import template_bytes

__all__ = [
    "COLUMNS",
    "COLUMNS_BY_KEY",
    "EXAMPLE_STUDENT_NUMBER",
    "FILE_CODES",
    "HEADERS",
    "INSTRUCTIONS_SHEET",
    "ROSTER_SHEET",
    "ROW_CODES",
    "WARNING_CODES",
    "CheckedRoster",
    "Column",
    "GuardianEntry",
    "Problem",
    "RosterFileError",
    "RosterReport",
    "RosterRow",
    "check_against_database",
    "check_rows",
    "id_check_digit",
    "read_sheet",
    "sorted_problems",
    "template_bytes",
]
