"""Reading an uploaded workbook: the sheet, the header matched by column name, guarded against zip bombs."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _

from kehou.core.error_codes import ErrorCode

from .columns import COLUMNS, HEADERS, header_stem
from .columns_base import (
    MAX_COLUMNS,
    ROSTER_SHEET,
)
from .report import RosterFileError
from .values import _blank


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
        raise RosterFileError(_("The file is not a readable Excel (.xlsx) workbook."), code=ErrorCode.NOT_XLSX) from exc
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
                    code=ErrorCode.TOO_MANY_ROWS,
                    fields={"max_rows": max_rows},
                )
            rows.append((number, values))
    except RosterFileError:
        raise
    except Exception as exc:
        raise RosterFileError(_("The file is not a readable Excel (.xlsx) workbook."), code=ErrorCode.NOT_XLSX) from exc
    finally:
        wb.close()
    return keys, rows


def _check_zip(data: bytes, *, max_unpacked_bytes: int) -> None:
    not_xlsx = RosterFileError(_("The file is not a readable Excel (.xlsx) workbook."), code=ErrorCode.NOT_XLSX)
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
        raise RosterFileError(_("The file is too large."), code=ErrorCode.FILE_TOO_LARGE)


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
            code=ErrorCode.BAD_HEADER,
            fields={"missing": missing, "unknown": unknown, "repeated": repeated, "expected": HEADERS},
        )
    return keys
