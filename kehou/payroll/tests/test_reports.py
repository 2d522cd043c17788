"""Operator costs with receipts and the term's audit report: figures from the ledger and the pay lines, traced to
their postings, filed to the district and acknowledged once; exported as Excel and PDF; bad input refused."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from kehou.conftest import City, api_as, page_as
from kehou.core import clock
from kehou.core.errors import KehouError
from kehou.ledger.selectors import balances, verify
from kehou.orgs.models import OperatorCompany
from kehou.payroll.models import AuditReport, OperatorCost, PayLine
from kehou.payroll.services import lines as pl
from kehou.payroll.services import reports

from .factories import RATE, deliver, paid_class, sessions, standard_for

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def receipt(content: bytes = PDF, name: str = "发票.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


@pytest.fixture
def term_so_far(city: City, monkeypatch: pytest.MonkeyPatch, settings: Any, tmp_path: Any) -> Any:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}},
    }
    cls, _orders = paid_class(city.a1, 4, teacher=city.users["teacher"].teacher_profile)
    standard_for(cls)
    after = max(deliver(s) for s in sessions(cls)[:3])
    monkeypatch.setattr(clock, "now", lambda: after)
    pl.pay_lines_compute(now=after, since=after.date() - timedelta(days=400))
    for period in sorted(set(PayLine.objects.values_list("period", flat=True))):
        pl.pay_school_approve(actor=city.users["school_admin"], school=city.a1, period=period, now=after)
        pl.pay_operator_approve(actor=city.users["operator_staff"], school=city.a1, period=period, now=after)
    operator = OperatorCompany.objects.get(staff__user=city.users["operator_staff"])
    return cls, operator, after


def test_a_cost_needs_a_receipt_and_a_sane_amount(city: City, term_so_far: Any) -> None:
    cls, operator, after = term_so_far
    staff = city.users["operator_staff"]
    args = dict(operator=operator, school=city.a1, term=cls.term, kind="training", description="教师培训", now=after)
    day = after.date()
    for amount in (-100, 0, 10_000_000_01, "100", True):
        with pytest.raises(KehouError) as e:
            reports.cost_add(actor=staff, amount_fen=amount, incurred_on=day, receipt=receipt(), **args)
        assert e.value.code == "cost_invalid"
    with pytest.raises(KehouError) as e:  # a renamed HTML page is not a receipt
        reports.cost_add(actor=staff, amount_fen=5000, incurred_on=day, receipt=receipt(b"<html>", "x.pdf"), **args)
    assert e.value.code == "invalid_file_type"
    with pytest.raises(KehouError) as e:
        reports.cost_add(actor=staff, amount_fen=5000, incurred_on=day + timedelta(days=1), receipt=receipt(), **args)
    assert e.value.code == "cost_invalid"
    with pytest.raises(KehouError) as e:  # a school the operator is not authorised for
        reports.cost_add(
            actor=staff, amount_fen=5000, incurred_on=day, receipt=receipt(), **{**args, "school": city.b1}
        )
    assert e.value.code == "not_pay_approver"
    with pytest.raises(KehouError) as e:  # not the operator's staff
        reports.cost_add(actor=city.users["school_admin"], amount_fen=5000, incurred_on=day, receipt=receipt(), **args)
    assert e.value.code in ("not_pay_approver", "not_found")
    assert not OperatorCost.objects.exists()
    earned = balances()[f"earned:school:{city.a1.pk}"]
    cost = reports.cost_add(actor=staff, amount_fen=5000, incurred_on=day, receipt=receipt(), **args)
    assert cost.receipt_type == "application/pdf" and len(cost.receipt_sha256) == 64
    assert balances()[f"earned:school:{city.a1.pk}"] == earned - 5000
    assert balances()["operator_costs_payable"] == 5000
    assert verify().balanced, verify().breaches


def test_the_report_is_generated_traced_filed_and_acknowledged_once(city: City, term_so_far: Any) -> None:
    cls, operator, after = term_so_far
    staff = city.users["operator_staff"]
    reports.cost_add(
        actor=staff,
        operator=operator,
        school=city.a1,
        term=cls.term,
        kind="operating",
        amount_fen=2000,
        description="场地水电",
        incurred_on=after.date(),
        receipt=receipt(),
        now=after,
    )
    with pytest.raises(KehouError) as e:  # the operator has no school in district B
        reports.report_file(actor=staff, operator=operator, term=cls.term, district=city.district_b, now=after)
    assert e.value.code == "report_invalid"
    report = reports.report_file(actor=staff, operator=operator, term=cls.term, district=city.district_a, now=after)
    total = report.figures["total"]
    paid = sum(o.paid_fen for o in _orders(cls))
    assert total["received"] == paid
    assert total["teacher_pay"] == 3 * RATE and total["class_hours"] == 3
    assert total["operating"] == 2000
    assert total["released"] == 3 * (cls.fee_fen // cls.session_count) * 4
    assert total["remains"] == paid - 3 * RATE - 2000
    a1 = next(s for s in report.figures["schools"] if s["id"] == city.a1.pk)
    assert a1["teachers"][0]["class_hours"] == 3
    # every figure's keys are ledger transactions, and their postings add up to the figure
    rows = reports.trace_rows(report)
    by_figure: dict[str, int] = {}
    for _school, figure, _key, at, amount in rows:
        assert at
        by_figure[figure] = by_figure.get(figure, 0) + amount
    assert by_figure["received"] == total["received"]
    assert by_figure["released"] == total["released"]
    assert by_figure["teacher_pay"] == total["teacher_pay"]
    assert by_figure["operating"] == 2000
    # the school's bureau acknowledges, once; another district's cannot; then it cannot be filed again
    other = city.users["city_admin"]
    with pytest.raises(KehouError) as e:
        reports.report_acknowledge(actor=other, report=report, now=after)
    assert e.value.code == "not_district_admin"
    reports.report_acknowledge(actor=city.users["district_admin"], report=report, now=after)
    with pytest.raises(KehouError) as e:
        reports.report_acknowledge(actor=city.users["district_admin"], report=report, now=after)
    assert e.value.code == "report_acknowledged"
    with pytest.raises(KehouError) as e:
        reports.report_file(actor=staff, operator=operator, term=cls.term, district=city.district_a, now=after)
    assert e.value.code == "report_acknowledged"
    # exports
    book = load_workbook(io.BytesIO(reports.report_xlsx(report)))
    assert len(book.sheetnames) == 3 and book.worksheets[2].max_row == len(rows) + 1
    assert reports.report_pdf(report).startswith(b"%PDF-")


def _orders(cls: Any) -> Any:
    from kehou.payments.models import Order

    return Order.objects.filter(enrolment__course_class=cls)


def test_the_reports_api_and_pages(city: City, term_so_far: Any) -> None:
    cls, operator, _after = term_so_far
    r = api_as(city.users["operator_staff"]).post(
        f"/api/v1/operators/{operator.pk}/audit-reports",
        {"term": cls.term_id, "district": city.district_a.pk},
        format="json",
    )
    assert r.status_code == 200, r.json()
    rid = r.json()["id"]
    assert r.json()["figures"]["total"]["teacher_pay"] == 3 * RATE
    seen = {
        role: len(api_as(city.users[role]).get("/api/v1/audit-reports/").json()["results"])
        for role in ("operator_staff", "district_admin", "city_admin", "school_admin", "teacher", "parent")
    }
    assert seen == {
        "operator_staff": 1,
        "district_admin": 1,
        "city_admin": 1,
        "school_admin": 0,
        "teacher": 0,
        "parent": 0,
    }
    r = api_as(city.users["operator_staff"]).post(f"/api/v1/audit-reports/{rid}/acknowledge")
    assert r.status_code == 403
    r = api_as(city.users["district_admin"]).post(f"/api/v1/audit-reports/{rid}/acknowledge")
    assert (r.status_code, r.json()["status"]) == (200, "acknowledged")
    page = page_as(city.users["district_admin"]).get(f"/pay/reports/{rid}/")
    assert page.status_code == 200 and "审计报告" in page.content.decode()
    pdf = page_as(city.users["operator_staff"]).get(f"/pay/reports/{rid}/", {"format": "pdf"})
    assert pdf["Content-Type"] == "application/pdf"
    xlsx = page_as(city.users["operator_staff"]).get(f"/pay/reports/{rid}/", {"format": "xlsx"})
    assert xlsx.status_code == 200
    assert page_as(city.users["parent"]).get(f"/pay/reports/{rid}/").status_code == 404
    assert AuditReport.objects.get().status == "acknowledged"
