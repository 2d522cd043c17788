"""List exports are streamed (issue 14: a city-size export took 4–5 s before its first byte and held the whole
workbook in memory). The streamed file must still be a workbook every spreadsheet program reads."""

from __future__ import annotations

import asyncio
import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from kehou.conftest import City, page_as
from kehou.core.excel import stream_xlsx, xlsx_response


def read(chunks) -> list[tuple]:
    sheet = load_workbook(io.BytesIO(b"".join(chunks))).active
    return list(sheet.iter_rows(values_only=True))


def test_the_streamed_workbook_reads_back_with_its_types_and_without_formulas() -> None:
    at = timezone.make_aware(datetime(2026, 9, 1, 16, 30))
    rows = [
        ["张三", 3, Decimal("12.50"), date(2026, 9, 1), at, None, True],
        ['=HYPERLINK("http://x")', -4, 0, "", "+1", "@SUM(A1)", 'a\x00b\x1fc <&> "q"'],
    ]
    got = read(
        stream_xlsx(title="学生/名单:2026?", headers=["姓名", "年级", "金额", "日期", "时间", "空", "是"], rows=rows)
    )
    assert got[0] == ("姓名", "年级", "金额", "日期", "时间", "空", "是")
    assert got[1][:5] == ("张三", 3, 12.5, datetime(2026, 9, 1), datetime(2026, 9, 1, 16, 30))
    assert got[1][5:] == (None, True)
    # Formula starters are stored as text, XML-illegal characters dropped, markup escaped
    assert got[2] == ('\'=HYPERLINK("http://x")', -4, 0, None, "'+1", "'@SUM(A1)", 'abc <&> "q"')


def test_rows_are_read_only_as_the_bytes_are_sent() -> None:
    consumed = []

    def rows():
        for i in range(5000):
            consumed.append(i)
            yield [f"第{i}行", i]

    chunks = stream_xlsx(title="t", headers=["a", "b"], rows=rows())
    first = next(chunks)
    assert len(consumed) < 1000  # the first bytes left before most rows were read
    got = read([first, *chunks])
    assert len(consumed) == 5000 and len(got) == 5001 and got[-1] == ("第4999行", 4999)


def test_under_asgi_the_response_is_an_async_stream() -> None:
    response = xlsx_response(filename="x.xlsx", title="t", headers=["a"], rows=[[1], [2]], asynchronous=True)
    assert response.is_async

    async def drain() -> bytes:
        return b"".join([c async for c in response.streaming_content])

    assert read([asyncio.run(drain())])[1:] == [(1,), (2,)]


@pytest.mark.django_db
def test_the_city_pupil_export_is_streamed_and_complete(city: City) -> None:
    response = page_as(city.users["city_admin"]).get("/pupils/?format=xlsx")
    assert response.status_code == 200 and response.streaming
    rows = read(response.streaming_content)
    from kehou.people.models import Pupil

    assert len(rows) - 1 == Pupil.objects.count()
