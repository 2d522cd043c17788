"""Issue 14 on the refunds page: the decision comes right after the pupil (no order number, channel codes or
six money columns pushing it off a laptop's screen), and rejecting a refund asks for its reason, which the parent
is told and the audit log keeps; a rejection without one is refused by the action itself."""

from __future__ import annotations

import re
from typing import Any

import pytest

from kehou.conftest import City
from kehou.core.models import AuditEntry
from kehou.enrolment.tests.factories import city_region
from kehou.notify.models import Notification

from ..models import Refund
from ..services.refunds import policy_set
from .factories import Seat, simulator  # noqa: F401  (fixture)
from .test_pages import AFTER_TWO, NOW, clock, counts, form_key, page_as, paid_order, seat, text  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(city: City, seat: Seat, clock: Any) -> Refund:  # noqa: F811
    """The seat's order, paid, cancelled after two sessions under a policy that asks the school first."""
    policy_set(
        actor=city.users["city_admin"], region=city_region(), after_start="pro_rata", approval_after_start=True, now=NOW
    )
    order = paid_order(seat)
    clock["now"] = AFTER_TWO
    client = page_as(seat.parent)
    url = f"/parent/orders/{order.pk}/refund/"
    client.post(url, {"key": form_key(text(client.get(url)))})
    refund = Refund.objects.get()
    assert refund.status == "pending_approval"
    return refund


def test_the_refunds_page_puts_the_decision_next_to_the_pupil(city: City, pending: Refund) -> None:
    html = text(page_as(city.users["school_admin"]).get("/payments/refunds/"))
    head = re.search(r"<thead><tr>(.*?)</tr></thead>", html, re.S).group(1)  # type: ignore[union-attr]
    columns = re.findall(r"<th scope=\"col\"[^>]*>([^<]*)</th>", head)
    assert columns == ["Pupil and refund", "Approval", "Status", "Amount", "Basis", "Channel", "Requested at"]
    assert "Order" not in columns and 'class="list refunds"' in html
    row = re.search(r"<tbody>.*?</tr>", html, re.S).group(0)  # type: ignore[union-attr]
    assert pending.refund_no in row and pending.order.pupil.name in row
    decide = re.search(r'<div class="decide" data-decide>.*?</details></div>', row, re.S).group(0)  # type: ignore[union-attr]
    assert f'action="/payments/refunds/{pending.pk}/decide"' in decide
    assert 'name="decision" value="approve"' in decide and "data-confirm=" in decide
    # the rejection opens a form with a required reason, and confirms before it goes
    reject = re.search(r'<details class="reject" data-reject>.*?</details>', decide, re.S).group(0)  # type: ignore[union-attr]
    assert '<input name="reason" required maxlength="200"' in reject and "data-confirm=" in reject
    # A bureau reads the school, and no buttons
    district = text(page_as(city.users["district_admin"]).get("/payments/refunds/"))
    assert "School" in re.search(r"<thead>.*?</thead>", district, re.S).group(0)  # type: ignore[union-attr]
    assert "data-decide" not in district
    # The export keeps every column
    export = page_as(city.users["school_admin"]).get("/payments/refunds/", {"format": "xlsx"})
    assert export.status_code == 200


def test_a_refund_is_not_rejected_without_a_reason(city: City, pending: Refund) -> None:
    school = page_as(city.users["school_admin"])
    decide = f"/payments/refunds/{pending.pk}/decide"
    before = counts()
    response = school.post(decide, {"decision": "reject"}, follow=True)
    assert "Give the reason for rejecting" in " ".join(str(m) for m in response.context["messages"])
    response = school.post(decide, {"decision": "reject", "reason": "   "})
    assert response.status_code == 302
    assert counts() == before and Refund.objects.get().status == "pending_approval"


def test_the_rejection_s_reason_reaches_the_parent_and_the_audit_log(
    city: City,
    seat: Seat,  # noqa: F811
    pending: Refund,
) -> None:
    school = page_as(city.users["school_admin"])
    school.post(f"/payments/refunds/{pending.pk}/decide", {"decision": "reject", "reason": "已上课时超过一半"})
    assert Refund.objects.get().status == "rejected"
    entry = AuditEntry.objects.get(action="refund.reject")
    assert entry.after == {"status": "rejected", "reason": "已上课时超过一半"}
    told = Notification.objects.get(user=seat.parent, kind="refund_rejected")
    assert "已上课时超过一半" in told.body
