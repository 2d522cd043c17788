"""The roster's columns, their Chinese headers and the value lists (genders, relations)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..models import PHONE_RE, STUDENT_NUMBER_RE, Guardian, Pupil


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
