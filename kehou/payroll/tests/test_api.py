"""The pay API with every role's token: lines in scope, approvals in order, disputes, payout batches, the notify
endpoint; a denied request changes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from kehou.conftest import City, api_as
from kehou.core import clock
from kehou.orgs.models import OperatorCompany
from kehou.payroll.models import PayLine, Payout, PayoutBatch
from kehou.payroll.services import lines as pl

from .factories import bind_payee, deliver, paid_class, sessions, standard_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def month(city: City, monkeypatch: pytest.MonkeyPatch, settings: Any) -> Any:
    settings.KEHOU_PAYROLL = {**settings.KEHOU_PAYROLL, "PAYOUT_CHANNEL": "simulator"}
    cls, _orders = paid_class(city.a1, 4, teacher=city.users["teacher"].teacher_profile)
    standard_for(cls)
    after = max(deliver(s) for s in sessions(cls)[:3])
    monkeypatch.setattr(clock, "now", lambda: after)
    pl.pay_lines_compute(now=after, since=after.date() - timedelta(days=400))
    return PayLine.objects.first().period, after  # type: ignore[union-attr]


def err(r: Any) -> str:
    return str(r.json()["error"]["code"])


def test_each_role_sees_the_lines_in_its_scope(city: City, month: Any) -> None:
    period, _after = month
    seen = {
        role: len(api_as(city.users[role]).get("/api/v1/pay-lines/", {"period": period}).json()["results"])
        for role in ("teacher", "school_admin", "operator_staff", "district_admin", "city_admin", "parent", "expert")
    }
    assert seen == {
        "teacher": 3,
        "school_admin": 3,
        "operator_staff": 3,
        "district_admin": 3,
        "city_admin": 3,
        "parent": 0,
        "expert": 0,
    }
    row = api_as(city.users["teacher"]).get("/api/v1/pay-lines/").json()["results"][0]
    assert {"amount_fen", "rate_basis", "evidence", "status", "dispute_open", "accrual_key"} <= set(row)
    assert api_as(city.users["teacher"]).get("/api/v1/pay-lines/", {"disputed": "maybe"}).status_code == 400


def test_approvals_in_order_through_the_api(city: City, month: Any) -> None:
    period, _after = month
    school, operator = api_as(city.users["school_admin"]), api_as(city.users["operator_staff"])
    a1 = city.a1.pk
    r = operator.post(f"/api/v1/schools/{a1}/pay-lines/operator-approve", {"period": period}, format="json")
    assert (r.status_code, err(r)) == (409, "pay_nothing_to_approve")
    r = operator.post(f"/api/v1/schools/{a1}/pay-lines/school-approve", {"period": period}, format="json")
    assert (r.status_code, err(r)) == (403, "not_pay_approver")
    r = api_as(city.users["teacher"]).post(
        f"/api/v1/schools/{a1}/pay-lines/school-approve", {"period": period}, format="json"
    )
    assert r.status_code in (403, 404)
    assert set(PayLine.objects.values_list("status", flat=True)) == {"computed"}  # nothing changed
    for bad in ("2026-13", "26-11", "", "2099-01"):
        r = school.post(f"/api/v1/schools/{a1}/pay-lines/school-approve", {"period": bad}, format="json")
        assert (r.status_code, err(r)) == (400, "pay_period_invalid"), bad
    r = school.post(f"/api/v1/schools/{a1}/pay-lines/school-approve", {"period": period, "x": 1}, format="json")
    assert r.status_code == 400
    r = school.post(f"/api/v1/schools/{a1}/pay-lines/school-approve", {"period": period}, format="json")
    assert (r.status_code, r.json()) == (200, {"lines": 3})
    r = school.post(f"/api/v1/schools/{a1}/pay-lines/school-approve", {"period": period}, format="json")
    assert (r.status_code, err(r)) == (409, "pay_nothing_to_approve")
    r = operator.post(f"/api/v1/schools/{a1}/pay-lines/operator-approve", {"period": period}, format="json")
    assert (r.status_code, r.json()) == (200, {"lines": 3})
    # B1 is not the operator's school: 404 and nothing changes.
    r = operator.post(f"/api/v1/schools/{city.b1.pk}/pay-lines/operator-approve", {"period": period}, format="json")
    assert r.status_code == 404


def test_reject_dispute_answer_through_the_api(city: City, month: Any) -> None:
    school, teacher = api_as(city.users["school_admin"]), api_as(city.users["teacher"])
    line = PayLine.objects.first()
    assert line is not None
    r = school.post(f"/api/v1/pay-lines/{line.pk}/reject", {"reason": ""}, format="json")
    assert (r.status_code, err(r)) == (400, "pay_reason_invalid")
    r = teacher.post(f"/api/v1/pay-lines/{line.pk}/reject", {"reason": "x"}, format="json")
    assert (r.status_code, err(r)) == (403, "not_pay_approver")
    r = school.post(f"/api/v1/pay-lines/{line.pk}/reject", {"reason": "无点名记录"}, format="json")
    assert (r.status_code, r.json()["status"]) == (200, "rejected")
    r = school.post(f"/api/v1/pay-lines/{line.pk}/dispute", {"reason": "我点了名"}, format="json")
    assert (r.status_code, err(r)) == (403, "not_line_teacher")
    r = teacher.post(f"/api/v1/pay-lines/{line.pk}/dispute", {"reason": "我点了名，请核实"}, format="json")
    assert (r.status_code, r.json()["dispute_open"]) == (200, True)
    r = school.post(f"/api/v1/pay-lines/{line.pk}/answer", {"reinstate": "yes", "answer": "好"}, format="json")
    assert r.status_code == 400
    r = school.post(f"/api/v1/pay-lines/{line.pk}/answer", {"reinstate": False, "answer": "维持"}, format="json")
    assert (r.status_code, r.json()["status"], r.json()["dispute_open"]) == (200, "rejected", False)
    r = api_as(city.users["parent"]).post(f"/api/v1/pay-lines/{line.pk}/dispute", {"reason": "x"}, format="json")
    assert r.status_code == 404


def test_a_payout_batch_through_the_api_and_the_notify_endpoint(city: City, month: Any) -> None:
    period, after = month
    pl.pay_school_approve(actor=city.users["school_admin"], school=city.a1, period=period, now=after)
    pl.pay_operator_approve(actor=city.users["operator_staff"], school=city.a1, period=period, now=after)
    operator = OperatorCompany.objects.get(staff__user=city.users["operator_staff"])
    url = f"/api/v1/operators/{operator.pk}/payout-batches"
    r = api_as(city.users["school_admin"]).post(url, {"period": period, "request_key": "batch-key-01"}, format="json")
    assert r.status_code in (403, 404)
    r = api_as(city.users["operator_staff"]).post(url, {"period": period, "request_key": "batch-key-01"}, format="json")
    assert (r.status_code, err(r)) == (409, "payee_missing")
    assert not PayoutBatch.objects.exists() and set(PayLine.objects.values_list("status", flat=True)) == {"approved"}
    bind_payee(city.users["teacher"].teacher_profile)
    r = api_as(city.users["operator_staff"]).post(url, {"period": period, "request_key": "batch-key-01"}, format="json")
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["batch"]["payouts"] == 1 and body["skipped_teachers"] == []
    again = api_as(city.users["operator_staff"]).post(
        url, {"period": period, "request_key": "batch-key-01"}, format="json"
    )
    assert again.json()["batch"]["id"] == body["batch"]["id"]
    assert Payout.objects.count() == 1
    mine = api_as(city.users["teacher"]).get("/api/v1/payouts/").json()["results"]
    assert [p["net_fen"] for p in mine] == [Payout.objects.get().net_fen]
    assert api_as(city.users["parent"]).get("/api/v1/payouts/").json()["results"] == []
    r = api_as(city.users["nobody"]).post("/api/v1/payouts/notify/simulator", b"{}", content_type="application/json")
    assert (r.status_code, err(r)) == (400, "payout_notification_rejected")
    r = api_as(city.users["nobody"]).post("/api/v1/payouts/notify/paypal", b"{}", content_type="application/json")
    assert r.status_code == 404
