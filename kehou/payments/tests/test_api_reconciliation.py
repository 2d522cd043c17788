"""The reconciliation API: the city bureau reconciles a channel's day (downloaded, or an uploaded bill file), lists
the reports, opens one with its differences and exports it to Excel; nobody else sees or runs any, and a bad
request changes nothing."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from kehou.conftest import City, api_as
from kehou.core.models import AuditEntry
from kehou.enrolment.tests.factories import NOW
from kehou.ledger.models import LedgerTransaction

from ..channels.bills import parse_wechat_bill, wechat_bill_bytes
from ..channels.simulator import MERCHANT_ID, SimulatorGateway
from ..models import Reconciliation, ReconciliationItem
from .test_reconciliation import DAY, a_day_of_payments

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def moment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("kehou.core.clock.now", lambda: NOW + timedelta(hours=20))


def counts() -> tuple[int, ...]:
    return (
        Reconciliation.objects.count(),
        ReconciliationItem.objects.count(),
        LedgerTransaction.objects.count(),
        AuditEntry.objects.count(),
    )


def test_the_city_reconciles_a_downloaded_day_lists_opens_and_exports_it(simulator: Any, city: City) -> None:
    day = a_day_of_payments()
    client = api_as(city.users["city_admin"])

    response = client.post(
        "/api/v1/reconciliations/", {"channel": "simulator", "bill_date": DAY.isoformat()}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["rows"], body["matched"], body["differences"], body["items"]) == (4, 4, 0, [])
    assert body["bill_total_fen"] == body["our_total_fen"] == body["settled_fen"] == 2 * day.fee
    assert body["imported_by"]

    listed = client.get("/api/v1/reconciliations/").json()
    assert [r["id"] for r in listed["results"]] == [body["id"]]
    assert client.get("/api/v1/reconciliations/", {"channel": "alipay"}).json()["results"] == []
    assert (
        client.get("/api/v1/reconciliations/", {"date_from": (DAY + timedelta(days=1)).isoformat()}).json()["results"]
        == []
    )

    detail = client.get(f"/api/v1/reconciliations/{body['id']}/")
    assert detail.status_code == 200 and detail.json()["matched"] == 4

    export = client.get(f"/api/v1/reconciliations/{body['id']}/export")
    assert export.status_code == 200
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in export["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(export.content)).active
    assert sheet.max_row > 5


def test_an_uploaded_bill_with_differences(simulator: Any, city: City) -> None:
    day = a_day_of_payments()
    rows = parse_wechat_bill(SimulatorGateway().download_bill(bill_date=DAY))
    # The bill without B's payment row: B is ours and missing from it.
    edited = wechat_bill_bytes([r for r in rows if r.reference != day.b.out_trade_no], merchant_id=MERCHANT_ID)
    client = api_as(city.users["city_admin"])
    upload = SimpleUploadedFile("bill.csv", edited, content_type="text/csv")
    response = client.post(
        "/api/v1/reconciliations/",
        {"channel": "simulator", "bill_date": DAY.isoformat(), "file": upload},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["missing"] == 1 and body["differences"] >= 1
    assert ("missing", "payment", day.b.out_trade_no) in {
        (i["kind"], i["trade_kind"], i["reference"]) for i in body["items"]
    }
    rid = body["id"]
    only_missing = client.get(f"/api/v1/reconciliations/{rid}/", {"kind": "missing"}).json()["items"]
    assert [i["reference"] for i in only_missing] == [day.b.out_trade_no]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"channel": "simulator"}, 400, "invalid"),
        ({"channel": "simulator", "bill_date": "yesterday"}, 400, "invalid"),
        ({"channel": "paypal", "bill_date": "2026-08-24"}, 400, "channel_unknown"),
        ({"channel": "waiver", "bill_date": "2026-08-24"}, 400, "channel_unknown"),
        ({"channel": "simulator", "bill_date": "2026-08-24", "colour": 1}, 400, "unknown_field"),
    ],
)
def test_bad_reconcile_requests_change_nothing(
    simulator: Any, city: City, body: dict[str, Any], status: int, code: str
) -> None:
    before = counts()
    response = api_as(city.users["city_admin"]).post("/api/v1/reconciliations/", body, format="json")
    assert response.status_code == status and response.json()["error"]["code"] == code, response.content
    assert counts() == before


def test_an_unreadable_upload_changes_nothing(simulator: Any, city: City) -> None:
    a_day_of_payments()
    before = counts()
    upload = SimpleUploadedFile("bill.csv", b"\x00\x01 not a bill", content_type="text/csv")
    response = api_as(city.users["city_admin"]).post(
        "/api/v1/reconciliations/",
        {"channel": "simulator", "bill_date": DAY.isoformat(), "file": upload},
        format="multipart",
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "bill_unreadable"
    assert counts() == before


def test_only_the_city_bureau_sees_or_runs_reconciliations(simulator: Any, city: City) -> None:
    a_day_of_payments()
    api_as(city.users["city_admin"]).post(
        "/api/v1/reconciliations/", {"channel": "simulator", "bill_date": DAY.isoformat()}, format="json"
    )
    rid = Reconciliation.objects.get().pk
    before = counts()
    for role in ("district_admin", "school_admin", "parent", "teacher", "operator_staff"):
        client = api_as(city.users[role])
        assert client.get("/api/v1/reconciliations/").json()["results"] == [], role
        assert client.get(f"/api/v1/reconciliations/{rid}/").status_code == 404, role
        assert client.get(f"/api/v1/reconciliations/{rid}/export").status_code == 404, role
        response = client.post(
            "/api/v1/reconciliations/", {"channel": "simulator", "bill_date": DAY.isoformat()}, format="json"
        )
        assert response.status_code == 403 and response.json()["error"]["code"] == "not_city_admin", role
    assert counts() == before
    missing = api_as(city.users["city_admin"]).get(f"/api/v1/reconciliations/{rid + 1000}/export")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
