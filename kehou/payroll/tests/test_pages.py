"""The class-hour pay page (/pay/) for each role, its actions with their confirmations, the to-do items, and the
Excel exports; a refused action shows its message and changes nothing."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from openpyxl import load_workbook

from kehou.conftest import City, page_as
from kehou.core import clock
from kehou.orgs.models import OperatorCompany
from kehou.payroll.models import PayLine, Payout

from .factories import bind_payee, deliver, paid_class, sessions, standard_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def month(city: City, monkeypatch: pytest.MonkeyPatch, settings: Any) -> Any:
    from kehou.payroll.services.lines import pay_lines_compute

    settings.KEHOU_PAYROLL = {**settings.KEHOU_PAYROLL, "PAYOUT_CHANNEL": "simulator"}
    cls, _orders = paid_class(city.a1, 4, teacher=city.users["teacher"].teacher_profile)
    standard_for(cls)
    after = max(deliver(s) for s in sessions(cls)[:3])
    monkeypatch.setattr(clock, "now", lambda: after)
    pay_lines_compute(now=after, since=after.date() - timedelta(days=400))
    return PayLine.objects.first().period  # type: ignore[union-attr]


def test_the_school_approves_rejects_and_the_operator_locks_and_pays(city: City, month: str) -> None:
    school = page_as(city.users["school_admin"])
    page = school.get("/pay/", {"period": month}).content.decode()
    assert "data-pay-school" in page and "data-confirm" in page and "¥" in page
    assert f'action="/pay/schools/{city.a1.pk}/approve"' in page
    line = PayLine.objects.order_by("pk").first()
    assert line is not None
    # a rejection needs a reason: refused, nothing changes
    r = school.post(f"/pay/lines/{line.pk}/reject", {"reason": ""}, follow=True)
    assert PayLine.objects.get(pk=line.pk).status == "computed"
    assert "原因" in r.content.decode() or "reason" in r.content.decode().lower()
    school.post(f"/pay/lines/{line.pk}/reject", {"reason": "未按课表上课"})
    assert PayLine.objects.get(pk=line.pk).status == "rejected"
    school.post(f"/pay/schools/{city.a1.pk}/approve", {"period": month})
    assert PayLine.objects.filter(status="school_approved").count() == 2
    # the teacher disputes; their home says nothing more is waiting on them; the school's shows the dispute
    teacher = page_as(city.users["teacher"])
    assert "data-pay-school" not in teacher.get("/pay/", {"period": month}).content.decode()
    teacher.post(f"/pay/lines/{line.pk}/dispute", {"reason": "我按课表上了课"})
    assert PayLine.objects.get(pk=line.pk).dispute_open
    assert 'data-todo="pay-disputes"' in school.get("/").content.decode()
    school.post(f"/pay/lines/{line.pk}/answer", {"answer": "核实无误", "reinstate": "1"})
    assert PayLine.objects.get(pk=line.pk).status == "computed"
    # the operator: a school's approval waits on its home; it locks, then pays out
    operator = page_as(city.users["operator_staff"])
    assert 'data-todo="pay-operator"' in operator.get("/").content.decode()
    operator.post(f"/pay/schools/{city.a1.pk}/operator-approve", {"period": month})
    assert PayLine.objects.filter(status="approved").count() == 2
    bind_payee(city.users["teacher"].teacher_profile)
    company = OperatorCompany.objects.get(staff__user=city.users["operator_staff"])
    page = operator.get("/pay/", {"period": month}).content.decode()
    assert "data-payout-batch" in page and f"/pay/operators/{company.pk}/payout" in page
    operator.post(f"/pay/operators/{company.pk}/payout", {"period": month, "request_key": "page-batch-0001"})
    operator.post(f"/pay/operators/{company.pk}/payout", {"period": month, "request_key": "page-batch-0001"})
    assert Payout.objects.count() == 1
    # a school cannot start a payout, nor approve for the operator
    r = school.post(f"/pay/operators/{company.pk}/payout", {"period": month, "request_key": "page-batch-0002"})
    assert r.status_code in (302, 404)
    assert Payout.objects.count() == 1


def test_each_role_opens_the_page_and_the_exports(city: City, month: str) -> None:
    for role in ("teacher", "school_admin", "operator_staff", "district_admin", "city_admin", "parent", "expert"):
        r = page_as(city.users[role]).get("/pay/", {"period": month})
        assert r.status_code == 200, role
        shown = r.content.decode().count("data-pay-line=")
        assert shown == (0 if role in ("parent", "expert") else 3), role
    r = page_as(city.users["school_admin"]).get("/pay/", {"period": month, "format": "xlsx", "list": "lines"})
    book = load_workbook(io.BytesIO(b"".join(r.streaming_content)))  # type: ignore[attr-defined]
    assert book.active.max_row == 4
    r = page_as(city.users["teacher"]).get("/pay/", {"period": month, "format": "xlsx", "list": "payouts"})
    assert r.status_code == 200


def test_a_teacher_sees_a_rejected_line_on_the_home(city: City, month: str) -> None:
    from kehou.payroll.services.lines import pay_line_reject

    line = PayLine.objects.first()
    pay_line_reject(actor=city.users["school_admin"], line=line, reason="重复", now=clock.now())  # type: ignore[arg-type]
    assert 'data-todo="pay-rejected"' in page_as(city.users["teacher"]).get("/").content.decode()
