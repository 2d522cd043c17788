"""Issue 14: the audit log page showed `refund.approve` and raw JSON. It now reads in words: the action's label,
the kind of object, the change as key and value lines with money in yuan and codes by their labels; in English
when English is chosen. The action's code stays on hover, in the export's own column and in the API."""

from __future__ import annotations

import html as htmllib
import re
from typing import Any

import pytest

from kehou.conftest import City, page_as
from kehou.core.audit_actions import AuditAction

from .test_audit import T0, record

pytestmark = pytest.mark.django_db


def table_text(response: Any) -> str:
    """The list's rows as a person reads them: tags and attributes gone, entities decoded."""
    assert response.status_code == 200
    body = re.search(r"<tbody>(.*?)</tbody>", response.content.decode(), re.S).group(1)  # type: ignore[union-attr]
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", body))


@pytest.fixture
def entries(city: City) -> None:
    admin = city.users["school_admin"]
    record(
        actor=admin,
        action=AuditAction.REFUND_APPROVE,
        object_type="payments.refund",
        object_id=7,
        object_repr="KR2610292005009D84F12A09",
        after={"status": "processing"},
        school_id=city.a1.pk,
        now=T0,
    )
    record(
        actor=admin,
        action=AuditAction.REFUND_REQUEST,
        object_type="payments.order",
        object_id=8,
        object_repr="KH2610140916093B6A414C12",
        after={
            "quote": {"sessions_total": 26, "sessions_held": 2, "rule": "pro_rata"},
            "amount_fen": 57600,
            "refund": "KR2610292005009D84F12A09",
        },
        school_id=city.a1.pk,
        now=T0,
    )
    record(
        actor=city.users["city_admin"],
        action=AuditAction.FILING_ACKNOWLEDGED,
        object_type="catalog.filing",
        object_id=10,
        object_repr="围棋 @ 东湖区: added",
        school_id=city.a1.pk,
        now=T0,
    )
    record(
        actor=None,
        action=AuditAction.PANEL_SCORED,
        object_type="catalog.panel",
        object_id=11,
        object_repr="围棋 #1",
        after={"member": 303, "total_bp": 9120, "vetoed": []},
        district_id=city.district_a.pk,
        now=T0,
    )
    record(
        actor=None,
        action=AuditAction.ENROLMENT_EXPIRE,
        object_type="enrolment.enrolment",
        object_id=9,
        object_repr="941 → 22 (held)",
        before={"status": "held"},
        after={"status": "expired", "id": 9, "created_by_id": 3},
        school_id=city.a1.pk,
        now=T0,
    )


def test_the_audit_page_reads_in_chinese_with_money_in_yuan_and_no_json(city: City, entries: None) -> None:
    response = page_as(city.users["school_admin"]).get("/audit/")
    rows = table_text(response)
    # the actions by their labels, the objects by their kind
    assert "退费：批准" in rows and "退费：申请" in rows and "选课：保留到期" in rows
    assert "退费 KR2610292005009D84F12A09" in rows and "订单 KH2610140916093B6A414C12" in rows
    # the change as key and value: the status by its label, before → after; money in yuan; the rule in words
    assert re.search(r"状态\s+已占位，待缴费 → 占位已过期", rows)
    assert re.search(r"金额\s+¥576\.00", rows)
    assert re.search(r"退费测算\s+适用规则: 按未上课时按比例退费; 已上课时: 2; 总课时: 26", rows)
    assert re.search(r"状态\s+渠道处理中", rows)
    # the object's status or change code in words, and the system named
    assert "(已占位，待缴费)" in rows and "系统" in rows
    assert "备案 围棋 @ 东湖区: 新增" in rows
    # no codes, JSON or internal ids where a bureau reads
    for code in ("refund.approve", "refund.request", "enrolment.expire", "processing", "{", "amount_fen", "created_by"):
        assert code not in rows, code
    # the code is on hover for whoever needs it
    assert 'title="refund.approve"' in response.content.decode()


def test_the_audit_page_reads_in_english_when_chosen(city: City, entries: None) -> None:
    client = page_as(city.users["school_admin"])
    client.cookies["django_language"] = "en"
    rows = table_text(client.get("/audit/"))
    assert "Refund: approve" in rows and "Enrolment: expire" in rows and "Order KH2610140916093B6A414C12" in rows
    assert re.search(r"Status\s+Seat held, awaiting payment → Hold expired", rows)
    assert re.search(r"Amount\s+¥576\.00", rows)


def test_a_bureau_reads_review_entries_in_words(city: City, entries: None) -> None:
    rows = table_text(page_as(city.users["district_admin"]).get("/audit/"))
    assert re.search(r"评审组 围棋 #1", rows)
    assert re.search(r"总分\s+91\.20", rows) and re.search(r"评审席位\s+#303", rows)
    assert "total_bp" not in rows and "9120" not in rows


def test_the_audit_page_filters_by_action_label(city: City, entries: None) -> None:
    client = page_as(city.users["school_admin"])
    page = client.get("/audit/").content.decode()
    assert '<option value="refund.approve">退费：批准</option>' in page
    rows = table_text(client.get("/audit/", {"action": "refund.approve"}))
    assert "退费：批准" in rows and "退费：申请" not in rows


def test_the_audit_export_is_readable_and_keeps_the_code(city: City, entries: None) -> None:
    import io

    from openpyxl import load_workbook

    response = page_as(city.users["school_admin"]).get("/audit/", {"format": "xlsx"})
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.getvalue())).active.iter_rows(values_only=True))
    assert rows[0] == ("时间", "操作人", "操作", "操作代码", "对象", "详情", "客户端 IP")
    approve = next(r for r in rows[1:] if r[3] == "refund.approve")
    assert approve[2] == "退费：批准" and approve[5] == "状态: 渠道处理中"
    assert approve[1] == f"{city.users['school_admin'].full_name} (school_a1)"
