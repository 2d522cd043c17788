"""Excel export of any list (DESIGN.md rule 8).

Two writers. :func:`workbook_bytes` builds a small workbook in memory with openpyxl (reconciliation sheets).
:func:`xlsx_response` streams a list export: the sheet's XML is generated row by row as the rows are read from the
database and deflated into the ZIP container as it goes (stream-zip), so the first bytes leave at once, a city-size
export never times out on the way and memory stays flat whatever the number of rows (bench/export.py measures it).
The streamed workbook is the minimal SpreadsheetML package (content types, relationships, workbook, styles, one
sheet with inline strings): Excel, WPS, LibreOffice and openpyxl read it.
"""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape

from asgiref.sync import sync_to_async
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.functional import Promise
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from stream_zip import ZIP_32, stream_zip

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _safe(value: Any) -> Any:
    # Cells that start with = + - @ would be formulas in Excel (CSV/XLSX injection): store them as text.
    if isinstance(value, str) and value[:1] in {"=", "+", "-", "@"}:
        return "'" + value
    return value


def workbook_bytes(*, title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31] or "Sheet1")
    bold = Font(bold=True)
    header_cells = []
    for h in headers:
        cell = WriteOnlyCell(ws, value=h)
        cell.font = bold
        header_cells.append(cell)
    ws.append(header_cells)
    for row in rows:
        ws.append([_safe(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --- the streamed writer ----------------------------------------------------------------------------------------

# Characters XML 1.0 cannot carry (Excel refuses the file); openpyxl raises on them, the stream drops them.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_EXCEL_EPOCH = datetime(1899, 12, 30)
_ROWS_PER_CHUNK = 200

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
    "</Relationships>"
)
# Cell styles: 0 plain, 1 bold (the header), 2 a date, 3 a date and time.
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def _workbook_xml(title: str) -> str:
    # Sheet names may not hold : \ / ? * [ ] and are at most 31 characters.
    name = re.sub(r"[:\\/?*\[\]]", " ", title)[:31].strip() or "Sheet1"
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<sheets><sheet name="{escape(name, {chr(34): "&quot;"})}" sheetId="1" r:id="rId1"/></sheets>'
        "</workbook>"
    )


def _cell(value: Any, style: int = 0) -> str:
    s = f' s="{style}"' if style else ""
    if value is None or value == "":
        return "<c/>"
    if isinstance(value, bool):
        return f'<c t="b"{s}><v>{int(value)}</v></c>'
    if isinstance(value, int | float | Decimal):
        return f"<c{s}><v>{value}</v></c>"
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value).replace(tzinfo=None)
        serial = (value - _EXCEL_EPOCH).total_seconds() / 86400
        return f'<c s="3"><v>{serial:.10f}</v></c>'
    if isinstance(value, date):
        return f'<c s="2"><v>{(value - _EXCEL_EPOCH.date()).days}</v></c>'
    text = _ILLEGAL.sub("", str(_safe(str(value) if isinstance(value, Promise) else value)))
    return f'<c t="inlineStr"{s}><is><t xml:space="preserve">{escape(text)}</t></is></c>'


def _sheet_xml(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    yield (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" state="frozen"/>'
        "</sheetView></sheetViews><sheetData>"
        "<row>" + "".join(_cell(h, 1) for h in headers) + "</row>"
    ).encode()
    chunk: list[str] = []
    for row in rows:
        chunk.append("<row>" + "".join(_cell(v) for v in row) + "</row>")
        if len(chunk) >= _ROWS_PER_CHUNK:
            yield "".join(chunk).encode()
            chunk = []
    yield ("".join(chunk) + "</sheetData></worksheet>").encode()


def stream_xlsx(*, title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """The bytes of a one-sheet workbook, produced as ``rows`` is consumed."""
    now = timezone.localtime().replace(tzinfo=None)
    mode = 0o600

    def member(name: str, body: str | Iterator[bytes]) -> tuple[str, datetime, int, Any, Iterable[bytes]]:
        return name, now, mode, ZIP_32, ([body.encode()] if isinstance(body, str) else body)

    return iter(
        stream_zip(
            [
                member("[Content_Types].xml", _CONTENT_TYPES),
                member("_rels/.rels", _ROOT_RELS),
                member("xl/workbook.xml", _workbook_xml(title)),
                member("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS),
                member("xl/styles.xml", _STYLES),
                member("xl/worksheets/sheet1.xml", _sheet_xml(headers, rows)),
            ]
        )
    )


async def _pulled(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    # Under ASGI Django would drain a synchronous iterator into a list before sending a byte. Each chunk is pulled
    # on the thread the view ran on (thread_sensitive), so the rows are read on the request's own connection.
    pull = sync_to_async(lambda: next(chunks, None), thread_sensitive=True)
    while (chunk := await pull()) is not None:
        yield chunk


def xlsx_response(
    *, filename: str, title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], asynchronous: bool = False
) -> StreamingHttpResponse:
    """A streamed export; ``asynchronous`` when served under ASGI (see :func:`_pulled`)."""
    chunks = stream_xlsx(title=title, headers=headers, rows=rows)
    response = StreamingHttpResponse(_pulled(chunks) if asynchronous else chunks, content_type=XLSX_MIME)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response
