"""Paying and cancelling in a real browser on a phone: Debian's Chromium driven by Playwright against pytest-django's
live server (see kehou/enrolment/tests/test_browser.py for the launch pattern).

A parent with a held seat pays through the simulator's cashier and sees the receipt; two sessions later they cancel,
see the pro-rata refund quote, confirm, and once the channel has finished the refund they see "Refunded". The school's
administrator sees the payment on /payments/ and the refund on /payments/refunds/.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kehou.enrolment.services.selection import enrolment_select
from kehou.enrolment.tests.factories import NOW, key, make_class, open_window
from kehou.enrolment.tests.test_browser import DESKTOP, browser, new_page  # noqa: F401  (fixtures)
from kehou.portal.tests.test_browser import PHONE, has_no_horizontal_overflow, password_login

from ..channels.simulator import REFUND_DELAY
from ..models import Order, Refund
from ..services.ticker import simulator_deliver

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
AFTER_TWO = datetime(2026, 9, 15, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # Mondays 7 and 14 September held


def test_parent_pays_cancels_after_two_sessions_and_is_refunded_pro_rata_and_the_school_sees_both(
    city: Any,
    live_server: Any,
    new_page: Any,  # noqa: F811
    simulator: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given: the clock at NOW (the live server runs in this process), a class at school A1 on Mondays at 16:00 from
    # 7 September (3,000 fen a session, 500 fen of optional materials) and the parent's child holding a seat in it
    clock = {"now": NOW}
    monkeypatch.setattr("kehou.core.clock.now", lambda: clock["now"])
    base = live_server.url
    parent, admin, pupil = city.users["parent"], city.users["school_admin"], city.pupil_a1
    robots = make_class(
        city.a1,
        admin=admin,
        grades=(pupil.grade, pupil.grade),
        name="机器人编程",
        materials_name="机器人套件",
        materials_fee_fen=500,
    )
    open_window(city.a1, pupil.grade, admin=admin)
    place = enrolment_select(actor=parent, pupil_id=pupil.pk, class_id=robots.pk, request_key=key(), now=NOW).enrolment
    n = robots.session_count

    # When the parent opens "My places" on a phone and taps Pay
    page = new_page(PHONE)
    page.on("dialog", lambda dialog: dialog.accept())
    password_login(page, base, parent.username)
    page.goto(f"{base}/parent/enrolments/")
    page.locator(f"[data-pay='{place.pk}']").click()
    page.wait_for_url(re.compile(rf".*/parent/places/{place.pk}/pay/$"))
    assert has_no_horizontal_overflow(page)
    # Then the order's summary shows the course fee, the optional materials unticked (opt-in) and the total to pay
    assert page.locator("[data-course-fee]").inner_text() == f"¥{robots.fee_fen // 100}.00"
    assert not page.locator("[data-materials]").is_checked()
    assert page.locator("[data-materials-fee]").inner_text() == "¥5.00"
    assert page.locator("[data-pay-total]").inner_text() == f"¥{robots.fee_fen // 100}.00"
    # and ticking the materials shows the total with them before paying (pay.js; unticking goes back)
    page.locator("[data-materials]").check()
    assert page.locator("[data-pay-total]").inner_text() == f"¥{(robots.fee_fen + 500) // 100}.00"
    page.locator("[data-materials]").uncheck()
    assert page.locator("[data-pay-total]").inner_text() == f"¥{robots.fee_fen // 100}.00"
    page.locator("[data-materials]").check()
    page.locator("[data-channel=simulator]").check()
    page.locator("[data-pay-submit]").click()
    # and the simulator's cashier asks for the total
    page.wait_for_url(re.compile(r".*/pay/simulator/KP\w+/$"))
    total = robots.fee_fen + 500
    assert page.locator("[data-amount]").inner_text() == f"¥{total // 100}.00"
    assert has_no_horizontal_overflow(page)
    page.locator("[data-scenario=once]").click()
    # Then the receipt says paid, through the simulator, with the channel's trade number
    order = Order.objects.get(enrolment=place)
    page.wait_for_url(re.compile(rf".*/parent/orders/{order.pk}/$"))
    assert page.locator("[data-order-state]").inner_text() == "Paid"
    assert page.locator("[data-total]").inner_text() == f"¥{total // 100}.00"
    assert page.locator("[data-channel-trade]").inner_text().startswith("SIM")
    assert has_no_horizontal_overflow(page)

    # When two sessions have been held and the parent cancels from "My places"
    clock["now"] = AFTER_TWO
    page.goto(f"{base}/parent/enrolments/")
    page.locator(f"[data-cancel='{place.pk}']").click()
    page.wait_for_url(re.compile(rf".*/parent/orders/{order.pk}/refund/$"))
    # Then the quote is pro rata to the sessions not held, plus the materials not handed out
    course = robots.fee_fen * (n - 2) // n
    refund_total = course + 500
    assert page.locator("[data-sessions]").inner_text() == f"2 of {n} sessions held"
    assert page.locator("[data-quote-amount]").inner_text() == f"¥{refund_total // 100}.{refund_total % 100:02d}"
    assert "Pro rata" in page.locator("[data-rule]").inner_text()
    assert has_no_horizontal_overflow(page)
    page.locator("[data-refund-submit]").click()
    page.wait_for_url(re.compile(rf".*/parent/orders/{order.pk}/$"))
    assert "being refunded" in page.locator(".messages").inner_text()
    assert page.locator("[data-refund-status]").inner_text() == "With the channel"
    assert page.locator("[data-order-state]").inner_text() == "Refund with the channel"

    # When the channel finishes the refund by itself and its notification arrives (the scheduled delivery)
    refund = Refund.objects.get(order=order)
    assert simulator_deliver(now=AFTER_TWO + REFUND_DELAY) == 1
    page.reload()
    # Then the receipt shows it refunded
    assert page.locator("[data-refund-status]").inner_text() == "Refunded"
    assert page.locator("[data-order-state]").inner_text() == "Partially refunded"

    # And the school's administrator sees the payment and the refund
    school = new_page(DESKTOP)
    password_login(school, base, admin.username)
    school.goto(f"{base}/payments/")
    assert order.order_no in school.locator("table.list").inner_text()
    assert f"¥{total // 100}.00" in school.locator("[data-totals]").inner_text()
    school.goto(f"{base}/payments/refunds/")
    row = school.locator("table.list tbody tr", has_text=refund.refund_no)
    assert "Refunded" in row.inner_text() and f"2 of {n} sessions held" in row.inner_text()
