"""Money out of escrow besides teachers' pay: the operator's costs (decided by the district's bureau) and the tax it
withheld (decided by the city bureau, with the tax office's certificate). Approval posts the outflow; refusal gives
the items back; denied or bad requests change nothing; ledger_verify holds throughout."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kehou.conftest import City, api_as, page_as
from kehou.core import clock
from kehou.core.errors import KehouError
from kehou.core.models import AuditEntry
from kehou.ledger.models import LedgerTransaction
from kehou.ledger.selectors import balances, verify
from kehou.orgs.models import OperatorCompany
from kehou.payroll.models import Disbursement, OperatorCost, PayLine, Payout
from kehou.payroll.services import disbursements as ds
from kehou.payroll.services import lines as pl
from kehou.payroll.services import payouts as po
from kehou.payroll.services import reports

from .factories import bind_payee, deliver, paid_class, sessions, standard_for

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def pdf(content: bytes = PDF, name: str = "完税证明.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


@pytest.fixture
def storage(settings: Any, tmp_path: Any) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}},
    }


@pytest.fixture
def costs(city: City, monkeypatch: pytest.MonkeyPatch, storage: None) -> Any:
    """Delivered sessions at a1 (their fees released to earned) and two entered costs."""
    cls, _orders = paid_class(city.a1, 4, teacher=city.users["teacher"].teacher_profile)
    standard_for(cls)
    after = max(deliver(s) for s in sessions(cls)[:3])
    monkeypatch.setattr(clock, "now", lambda: after)
    pl.pay_lines_compute(now=after, since=after.date() - timedelta(days=400))
    operator = OperatorCompany.objects.get(staff__user=city.users["operator_staff"])
    for kind, amount in (("training", 3000), ("operating", 1500)):
        reports.cost_add(
            actor=city.users["operator_staff"],
            operator=operator,
            school=city.a1,
            term=cls.term,
            kind=kind,
            amount_fen=amount,
            description="教师培训" if kind == "training" else "场地水电",
            incurred_on=after.date(),
            receipt=pdf(name="发票.pdf"),
            now=after,
        )
    return operator, after


def _state() -> tuple[int, int, int, int, dict[str, int]]:
    return (
        Disbursement.objects.count(),
        OperatorCost.objects.filter(disbursement__isnull=False).count(),
        LedgerTransaction.objects.count(),
        AuditEntry.objects.count(),
        balances(),
    )


def test_costs_are_asked_for_once_and_paid_out_when_the_district_approves(city: City, costs: Any) -> None:
    operator, now = costs
    staff = city.users["operator_staff"]
    escrow = balances()["escrow"] + balances().get("clearing:simulator", 0)
    d, created = ds.disbursement_request(
        actor=staff, operator=operator, kind="costs", district=city.district_a, request_key="key-k1-0000", now=now
    )
    assert created and d.status == "requested" and d.amount_fen == 4500 and d.instruction_no.startswith("DB")
    assert OperatorCost.objects.filter(disbursement=d).count() == 2
    again, created = ds.disbursement_request(
        actor=staff, operator=operator, kind="costs", district=city.district_a, request_key="key-k1-0000", now=now
    )
    assert again.pk == d.pk and not created
    with pytest.raises(KehouError) as e:  # nothing is left waiting
        ds.disbursement_request(
            actor=staff, operator=operator, kind="costs", district=city.district_a, request_key="key-k2-0000", now=now
        )
    assert e.value.code == "disbursement_nothing"
    before = _state()
    for who, code in (
        ("city_admin", "not_disbursement_approver"),  # sees it, does not decide costs
        ("operator_staff", "not_disbursement_approver"),
        ("school_admin", "not_found"),
        ("teacher", "not_found"),
        ("nobody", "not_found"),
    ):
        with pytest.raises(KehouError) as e:
            ds.disbursement_approve(actor=city.users[who], disbursement=d, now=now)
        assert e.value.code == code, who
    assert _state() == before  # a denied decision changes nothing
    d = ds.disbursement_approve(actor=city.users["district_admin"], disbursement=d, now=now)
    assert d.status == "approved" and d.decided_by == city.users["district_admin"]
    after = balances()
    assert after["operator_costs_payable"] == 0
    assert after["escrow"] + after.get("clearing:simulator", 0) == escrow - 4500
    txn = LedgerTransaction.objects.get(key=f"disburse:{d.pk}:{city.a1.pk}")
    assert txn.kind == "payout" and txn.school_id == city.a1.pk
    assert verify().balanced, verify().breaches
    with pytest.raises(KehouError) as e:
        ds.disbursement_approve(actor=city.users["district_admin"], disbursement=d, now=now)
    assert e.value.code == "disbursement_decided"


def test_a_refused_disbursement_gives_its_costs_back(city: City, costs: Any) -> None:
    operator, now = costs
    staff = city.users["operator_staff"]
    d, _ = ds.disbursement_request(
        actor=staff, operator=operator, kind="costs", district=city.district_a, request_key="key-k1-0000", now=now
    )
    with pytest.raises(KehouError) as e:
        ds.disbursement_refuse(actor=city.users["district_admin"], disbursement=d, reason="  ", now=now)
    assert e.value.code == "disbursement_invalid"
    d = ds.disbursement_refuse(actor=city.users["district_admin"], disbursement=d, reason="发票抬头不符", now=now)
    assert d.status == "refused" and d.reason == "发票抬头不符"
    assert not OperatorCost.objects.filter(disbursement__isnull=False).exists()
    assert balances()["operator_costs_payable"] == 4500  # nothing left escrow
    d2, created = ds.disbursement_request(
        actor=staff, operator=operator, kind="costs", district=city.district_a, request_key="key-k2-0000", now=now
    )
    assert created and d2.amount_fen == 4500
    assert verify().balanced, verify().breaches


def test_bad_requests_change_nothing(city: City, costs: Any) -> None:
    operator, now = costs
    staff = city.users["operator_staff"]
    before = _state()
    cases: list[tuple[Any, dict[str, Any], str]] = [
        (staff, {"kind": "costs", "district": city.district_b}, "disbursement_invalid"),  # no school there
        (staff, {"kind": "costs"}, "disbursement_invalid"),
        (staff, {"kind": "wages", "district": city.district_a}, "disbursement_invalid"),
        (staff, {"kind": "tax", "period": "2026-13", "voucher": pdf()}, "disbursement_invalid"),
        (staff, {"kind": "tax", "period": f"{now:%Y-%m}"}, "disbursement_invalid"),  # no certificate
        (
            staff,
            {"kind": "tax", "period": f"{now:%Y-%m}", "voucher": pdf(b"<html><script>", "x.pdf")},
            "invalid_file_type",
        ),
        (staff, {"kind": "tax", "period": f"{now:%Y-%m}", "voucher": pdf()}, "disbursement_nothing"),  # no tax withheld
        (city.users["teacher"], {"kind": "costs", "district": city.district_a}, "not_found"),
        (city.users["district_admin"], {"kind": "costs", "district": city.district_a}, "not_pay_approver"),
    ]
    for actor, kwargs, code in cases:
        with pytest.raises(KehouError) as e:
            ds.disbursement_request(actor=actor, operator=operator, request_key="key-bad-0000", now=now, **kwargs)
        assert e.value.code == code, kwargs
    assert _state() == before


def test_tax_withheld_is_remitted_with_the_certificate_on_the_city_bureaus_word(
    city: City, settings: Any, monkeypatch: pytest.MonkeyPatch, storage: None
) -> None:
    from kehou.testing import factories as f

    settings.KEHOU_PAYROLL = {**settings.KEHOU_PAYROLL, "PAYOUT_CHANNEL": "simulator"}
    outsider = f.teacher_at(city.a1).teacher_profile
    cls, _orders = paid_class(city.a1, 30, teacher=outsider)
    outsider.__class__.objects.filter(pk=outsider.pk).update(kind="outside")
    outsider.refresh_from_db()
    standard_for(cls, kind="outside", rate=300_00)
    now = max(deliver(x) for x in sessions(cls)[:12])
    monkeypatch.setattr(clock, "now", lambda: now)
    pl.pay_lines_compute(now=now, since=now.date() - timedelta(days=400))
    period = PayLine.objects.order_by("period").values_list("period", flat=True).first()
    pl.pay_school_approve(actor=city.users["school_admin"], school=city.a1, period=period, now=now)
    pl.pay_operator_approve(actor=city.users["operator_staff"], school=city.a1, period=period, now=now)
    bind_payee(outsider)
    operator = OperatorCompany.objects.get(staff__user=city.users["operator_staff"])
    batch, _ = po.payout_batch_start(
        actor=city.users["operator_staff"], operator=operator, period=period, request_key="key-b-0000", now=now
    )
    payout = Payout.objects.get(batch=batch)
    po.payout_send(payout_id=payout.pk, now=now)
    po.simulator_deliver(now=now + timedelta(seconds=31))
    payout.refresh_from_db()
    assert payout.status == "paid" and payout.tax_fen > 0
    staff = city.users["operator_staff"]
    d, _ = ds.disbursement_request(
        actor=staff, operator=operator, kind="tax", period=period, voucher=pdf(), request_key="key-t1-0000", now=now
    )
    assert d.amount_fen == payout.tax_fen and d.voucher_sha256 and d.district_id is None
    payout.refresh_from_db()
    assert payout.remittance_id == d.pk
    with pytest.raises(KehouError) as e:  # the district cannot even see a tax remittance
        ds.disbursement_approve(actor=city.users["district_admin"], disbursement=d, now=now)
    assert e.value.code == "not_found"
    # the certificate downloads as an attachment for the city and the operator, nobody else
    for who, status in (("city_admin", 200), ("operator_staff", 200), ("district_admin", 404), ("teacher", 404)):
        got = page_as(city.users[who]).get(f"/pay/disbursements/{d.pk}/voucher")
        assert got.status_code == status, who
        if status == 200:
            assert got["Content-Disposition"].startswith("attachment") and got["X-Content-Type-Options"] == "nosniff"
            assert b"".join(got.streaming_content) == PDF
    d = ds.disbursement_approve(actor=city.users["city_admin"], disbursement=d, now=now)
    assert d.status == "approved"
    assert balances()["tax_withheld_payable"] == 0
    assert verify().balanced, verify().breaches


def test_the_api_asks_decides_and_lists_by_scope(city: City, costs: Any) -> None:
    operator, _now = costs
    staff = api_as(city.users["operator_staff"])
    url = f"/api/v1/operators/{operator.pk}/disbursements"
    r = staff.post(url, {"kind": "costs", "district": city.district_a.pk}, format="json")
    assert r.status_code == 400 and r.json()["error"]["code"] == "request_key_required"
    r = staff.post(
        url, {"kind": "costs", "district": city.district_a.pk}, format="json", HTTP_IDEMPOTENCY_KEY="key-a1-0000"
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["amount_fen"] == 4500 and body["status"] == "requested" and body["items"] == 2
    r = staff.post(
        url, {"kind": "costs", "district": city.district_a.pk}, format="json", HTTP_IDEMPOTENCY_KEY="key-a1-0000"
    )
    assert r.status_code == 200 and r.json()["id"] == body["id"]
    r = staff.post(
        url,
        {"kind": "costs", "district": city.district_a.pk, "x": 1},
        format="json",
        HTTP_IDEMPOTENCY_KEY="key-a2-0000",
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "unknown_field"
    for who, n in (
        ("operator_staff", 1),
        ("district_admin", 1),
        ("city_admin", 1),
        ("school_admin", 0),
        ("teacher", 0),
    ):
        listed = api_as(city.users[who]).get("/api/v1/disbursements/").json()
        assert listed["count"] == n, who
    d = body["id"]
    assert api_as(city.users["school_admin"]).post(f"/api/v1/disbursements/{d}/approve").status_code == 404
    r = api_as(city.users["city_admin"]).post(f"/api/v1/disbursements/{d}/approve")
    assert r.status_code == 403 and r.json()["error"]["code"] == "not_disbursement_approver"
    r = api_as(city.users["district_admin"]).post(f"/api/v1/disbursements/{d}/refuse", {"reason": ""}, format="json")
    assert r.status_code == 400 and r.json()["error"]["code"] == "disbursement_invalid"
    r = api_as(city.users["district_admin"]).post(f"/api/v1/disbursements/{d}/approve")
    assert r.status_code == 200 and r.json()["status"] == "approved"
    r = api_as(city.users["district_admin"]).post(
        f"/api/v1/disbursements/{d}/refuse", {"reason": "晚了"}, format="json"
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "disbursement_decided"
    assert verify().balanced, verify().breaches


def test_the_tax_api_takes_the_certificate_as_multipart(city: City, costs: Any) -> None:
    operator, now = costs
    r = api_as(city.users["operator_staff"]).post(
        f"/api/v1/operators/{operator.pk}/disbursements",
        {"kind": "tax", "period": f"{now:%Y-%m}", "voucher": pdf(b"<svg onload=alert(1)>", "x.pdf")},
        format="multipart",
        HTTP_IDEMPOTENCY_KEY="key-t1-0000",
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_file_type"
    assert not Disbursement.objects.exists()


def test_the_page_asks_and_the_district_decides(city: City, costs: Any) -> None:
    operator, _now = costs
    staff = page_as(city.users["operator_staff"])
    page = staff.get("/pay/disbursements/")
    assert page.status_code == 200 and b"data-disburse-costs" in page.content and b"45.00" in page.content
    r = staff.post(
        f"/pay/operators/{operator.pk}/disbursements",
        {"kind": "costs", "district": city.district_a.pk, "request_key": "key-p1-0000"},
    )
    assert r.status_code == 302
    d = Disbursement.objects.get()
    district = page_as(city.users["district_admin"])
    home = district.get("/")
    assert b'data-todo="disbursements"' in home.content
    page = district.get("/pay/disbursements/")
    assert f"/pay/disbursements/{d.pk}/approve".encode() in page.content and b"data-confirm" in page.content
    assert (
        f"/pay/disbursements/{d.pk}/approve".encode()
        not in page_as(city.users["city_admin"]).get("/pay/disbursements/").content
    )
    r = district.post(f"/pay/disbursements/{d.pk}/approve")
    assert r.status_code == 302
    d.refresh_from_db()
    assert d.status == "approved"
    assert (
        page_as(city.users["school_admin"]).post(f"/pay/disbursements/{d.pk}/refuse", {"reason": "x"}).status_code
        == 404
    )
