"""The parent's payment pages say what is true (issue 14).

* The receipt's badge, totals and refund cards agree: a refund awaiting the school, with the channel, refunded,
  failed or rejected is each shown as such, and "refunded" only once the money is back.
* The pay page leaves the optional materials unticked (they are opt-in) and shows, before paying, the total that
  will be charged line by line; a ticked submission is charged what the page said.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from kehou.conftest import City
from kehou.enrolment.tests.factories import NOW, city_region
from kehou.ledger.selectors import verify

from ..channels.simulator import REFUND_DELAY, SimulatorGateway
from ..models import Order, Refund
from ..services.refunds import policy_set, refund_decide
from ..services.ticker import simulator_deliver
from .factories import Seat, held_seat, ordered, pay_with_simulator
from .test_pages import AFTER_TWO, form_key, page_as, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Any:
    state = {"now": NOW}
    monkeypatch.setattr("kehou.core.clock.now", lambda: state["now"])
    return state


@pytest.fixture
def seat(city: City, simulator: Any, clock: Any) -> Seat:
    """A family at school A1 holds a seat in a class of 3,000 fen per session with 500 fen of optional materials."""
    return held_seat(school=city.a1, materials=500)


def paid_order(seat: Seat) -> Order:
    order = ordered(seat, materials=True)
    pay_with_simulator(seat, order)
    order.refresh_from_db()
    assert order.status == "paid"
    return order


def yuan(fen: int) -> str:
    return f"¥{fen // 100}.{fen % 100:02d}"


def badge(html: str) -> tuple[str, str]:
    found = re.search(r'<span class="kh-state ([a-z_]+)" data-order-state>([^<]*)</span>', html)
    assert found, "no badge"
    return found.group(1), found.group(2)


def total(html: str, name: str) -> str | None:
    found = re.search(rf'<td class="num" {name}>(.*?)</td>', html)
    return re.sub("<[^>]+>", "", found.group(1)) if found else None


def cancel(client: Any, order: Order) -> None:
    url = f"/parent/orders/{order.pk}/refund/"
    assert client.post(url, {"key": form_key(text(client.get(url)))}).status_code == 302


# --- the receipt ----------------------------------------------------------------------------------------------
def test_a_refund_with_the_channel_is_not_called_refunded_until_the_money_is_back(seat: Seat, clock: Any) -> None:
    # Given a paid order (course fee and materials), cancelled by the parent before the first session
    order = paid_order(seat)
    client = page_as(seat.parent)
    cancel(client, order)
    refund = Refund.objects.get(order=order)
    assert refund.status == "processing" and refund.amount_fen == order.total_fen

    # When the parent opens the receipt while the refund is with the channel
    html = text(client.get(f"/parent/orders/{order.pk}/"))

    # Then the badge, the totals and the card all say it is being refunded, none that it is refunded
    assert badge(html) == ("refunding", "Refund with the channel")
    assert total(html, "data-refunding") == yuan(refund.amount_fen)
    assert total(html, "data-refunded") is None
    assert 'data-status="processing"' in html and ">With the channel<" in html
    assert '"muted">refunded ¥' not in html  # the lines say "being refunded", not "refunded"
    assert "being refunded" in html

    # When the channel finishes it and its notification arrives
    simulator_deliver(now=NOW + REFUND_DELAY)
    html = text(client.get(f"/parent/orders/{order.pk}/"))

    # Then all three say refunded
    assert badge(html) == ("refunded", "Refunded")
    assert total(html, "data-refunded") == yuan(refund.amount_fen)
    assert total(html, "data-refunding") is None and 'data-status="succeeded"' in html
    orders = text(client.get("/parent/orders/"))
    assert f'data-order="{order.pk}" data-state="refunded"' in orders


def test_a_refund_awaiting_the_school_then_rejected_is_shown_as_such(city: City, seat: Seat, clock: Any) -> None:
    policy_set(
        actor=city.users["city_admin"], region=city_region(), after_start="pro_rata", approval_after_start=True, now=NOW
    )
    order = paid_order(seat)
    clock["now"] = AFTER_TWO
    client = page_as(seat.parent)
    cancel(client, order)
    refund = Refund.objects.get(order=order)
    assert refund.status == "pending_approval"

    html = text(client.get(f"/parent/orders/{order.pk}/"))
    assert badge(html) == ("refund_requested", "Refund requested: awaiting the school")
    assert total(html, "data-refund-requested") == yuan(refund.amount_fen)
    assert total(html, "data-refunded") is None and 'data-status="pending_approval"' in html
    orders = text(client.get("/parent/orders/"))
    assert f'data-order="{order.pk}" data-state="refund_requested"' in orders
    assert "Refunded ¥" not in orders

    refund_decide(actor=city.users["school_admin"], refund=refund, approve=False, now=AFTER_TWO)
    html = text(client.get(f"/parent/orders/{order.pk}/"))
    # Nothing was refunded: the order is paid, the card says the school rejected the refund
    assert badge(html) == ("paid", "Paid")
    assert total(html, "data-refunded") is None and total(html, "data-refund-requested") is None
    assert 'data-status="rejected"' in html and "Rejected by the school" in html


def test_a_refund_the_channel_failed_leaves_the_order_paid_and_says_it_failed(seat: Seat, clock: Any) -> None:
    order = paid_order(seat)
    client = page_as(seat.parent)
    cancel(client, order)
    refund = Refund.objects.get(order=order)
    SimulatorGateway().settle_refund(out_refund_no=refund.refund_no, now=NOW + timedelta(seconds=5), scenario="fail")
    simulator_deliver(now=NOW + timedelta(seconds=5))

    html = text(client.get(f"/parent/orders/{order.pk}/"))
    assert badge(html) == ("paid", "Paid")
    assert total(html, "data-refunded") is None and total(html, "data-refunding") is None
    assert 'data-status="failed"' in html and "data-refund-failed" in html
    assert verify().balanced


# --- the pay page ---------------------------------------------------------------------------------------------
def test_the_materials_are_unticked_and_the_total_is_shown_before_paying(seat: Seat) -> None:
    client = page_as(seat.parent)
    url = f"/parent/places/{seat.enrolment.pk}/pay/"
    fee = seat.enrolment.fee_fen

    html = text(client.get(url))

    checkbox = re.search(r"<input[^>]*name=\"materials\"[^>]*>", html)
    assert checkbox and "checked" not in checkbox.group(0)  # opt-in: unticked by default
    assert total(html, "data-course-fee") == yuan(fee)
    assert total(html, "data-materials-fee") == yuan(500)  # the materials' line, shown with its price
    assert total(html, "data-pay-total") == yuan(fee)  # the total without the materials: the default
    assert f'data-with-materials="{yuan(fee + 500)}"' in html and f'data-without-materials="{yuan(fee)}"' in html
    assert 'src="/static/kehou/pay.js"' in html
    page = html[html.index('<article class="card kh-class kh-pay"') : html.index("</footer>")]
    assert "<script>" not in page and not re.search(r"\son[a-z]+=", page)  # no inline script on this page

    # Unticked, the parent is charged the total the page showed
    assert f'name="shown_course_fen" value="{fee}"' in html and 'name="shown_materials_fen" value="500"' in html
    response = client.post(
        url, {"key": form_key(html), "channel": "simulator", "shown_course_fen": fee, "shown_materials_fen": 500}
    )
    assert response.status_code == 302
    assert Order.objects.get(enrolment=seat.enrolment).total_fen == fee


def test_a_ticked_submission_is_charged_what_the_page_said(seat: Seat) -> None:
    client = page_as(seat.parent)
    url = f"/parent/places/{seat.enrolment.pk}/pay/"
    fee = seat.enrolment.fee_fen
    html = text(client.get(url))
    shown = re.search(r'data-with-materials-fen="(\d+)"', html)
    assert shown and int(shown.group(1)) == fee + 500

    # (the script shows this total once the box is ticked; without it the page says it beside the total)
    assert f"with them the total is {yuan(fee + 500)}" in html

    shown_prices = {"shown_course_fen": fee, "shown_materials_fen": 500}
    client.post(url, {"key": form_key(html), "channel": "simulator", "materials": "1", **shown_prices})

    order = Order.objects.get(enrolment=seat.enrolment)
    assert order.total_fen == fee + 500
    assert [(line.kind, line.amount_fen) for line in order.lines.all()] == [("course", fee), ("materials", 500)]


def test_a_total_that_changed_since_the_page_was_shown_is_not_charged(seat: Seat) -> None:
    client = page_as(seat.parent)
    url = f"/parent/places/{seat.enrolment.pk}/pay/"
    html = text(client.get(url))
    fee = seat.enrolment.fee_fen
    # The school changes the price of the materials while the page is open
    type(seat.course_class).objects.filter(pk=seat.course_class.pk).update(materials_fee_fen=900)

    shown_prices = {"shown_course_fen": fee, "shown_materials_fen": 500}
    response = client.post(url, {"key": form_key(html), "channel": "simulator", "materials": "1", **shown_prices})

    assert response.status_code == 302 and response["Location"] == url
    assert not Order.objects.exists()
    again = text(client.get(url))
    assert "changed" in again and total(again, "data-materials-fee") == yuan(900)
