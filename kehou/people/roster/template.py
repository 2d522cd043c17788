"""The downloadable template with its instructions sheet."""

from __future__ import annotations

import io
from datetime import date

from .checking import EXAMPLE_STUDENT_NUMBER
from .columns import COLUMNS, HEADERS, RELATION_CHOICES_ZH
from .columns_base import (
    INSTRUCTIONS_SHEET,
    ROSTER_SHEET,
)

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
