"""Issue 14 in a real browser (Chromium by Playwright, as in test_browser.py): at 1366 px the seat columns of
/classes/ and the approve/reject buttons of /payments/refunds/ are on the screen, with no sideways scroll of the
page or of the tables; a refund is rejected there with its reason; a teacher reads their classes as cards on a
phone, without the admin filters."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from kehou.enrolment.tests.factories import NOW, TUE_1600, city_region, make_class
from kehou.enrolment.tests.test_browser import browser, new_page  # noqa: F401  (fixtures)
from kehou.payments.models import Refund
from kehou.payments.services.refunds import policy_set, refund_request
from kehou.payments.tests.factories import held_seat, ordered, pay_with_simulator, simulator  # noqa: F401
from kehou.portal.tests.test_browser import PHONE, password_login
from kehou.portal.tests.test_todo import FIRST_MONDAY

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LAPTOP = {"width": 1366, "height": 768}


def no_sideways_scroll(page: Any) -> list[str]:
    """What scrolls sideways: the page itself, or any table in its frame."""
    return page.evaluate(
        """() => {
            const out = [];
            const root = document.scrollingElement;
            if (root.scrollWidth > window.innerWidth) out.push(`page ${root.scrollWidth} > ${window.innerWidth}`);
            document.querySelectorAll('.table-wrap').forEach((w, i) => {
                if (w.scrollWidth > w.clientWidth) out.push(`table ${i}: ${w.scrollWidth} > ${w.clientWidth}`);
            });
            return out;
        }"""
    )


def on_screen(page: Any, selector: str) -> bool:
    """Every element matching the selector lies inside the window's width."""
    return bool(
        page.evaluate(
            """(sel) => Array.from(document.querySelectorAll(sel)).every(e => {
                const r = e.getBoundingClientRect();
                return r.width > 0 && r.left >= 0 && r.right <= window.innerWidth;
            })""",
            selector,
        )
    )


@pytest.fixture
def school(city: Any, simulator: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:  # noqa: F811
    """School A1 with a dozen classes (long names, several weekly slots) and a refund awaiting its approval."""
    from kehou.enrolment.services.classes import Slot
    from kehou.testing import factories as f

    clock = {"now": NOW}
    monkeypatch.setattr("kehou.core.clock.now", lambda: clock["now"])
    admin = city.users["school_admin"]
    from datetime import time

    for i in range(12):
        make_class(
            city.a1,
            admin=admin,
            name=f"少儿创意编程与机器人搭建实践第{i + 1}班",
            slots=[Slot(d, time(16, 0), time(17, 30)) for d in range(5)] if i % 3 == 0 else None,
        )
    seat = held_seat(school=city.a1, materials=500)
    order = ordered(seat, materials=True)
    pay_with_simulator(seat, order)
    order.refresh_from_db()
    boss = f.UserFactory()
    f.grant(boss, "city_admin")
    policy_set(actor=boss, region=city_region(), after_start="pro_rata", approval_after_start=True, now=NOW)
    refund, _ = refund_request(
        actor=seat.parent, order=order, request_key="layout-refund", now=FIRST_MONDAY + timedelta(hours=8)
    )
    assert refund is not None and refund.status == "pending_approval"
    return {"admin": admin, "refund": refund, "clock": clock}


def test_at_1366_px_the_seats_and_the_refund_decisions_are_on_the_screen(
    live_server: Any,
    new_page: Any,  # noqa: F811
    school: dict[str, Any],
) -> None:
    base = live_server.url
    page = new_page(LAPTOP)
    password_login(page, base, school["admin"].username)

    # The class list: every seat column in view, nothing to scroll sideways
    page.goto(f"{base}/classes/")
    assert page.locator("table.list tbody tr").count() >= 12
    assert no_sideways_scroll(page) == []
    headers = page.locator("table.list thead th").all_inner_texts()
    for seat_column in ("Capacity", "Taken", "Held", "Confirmed", "Waiting", "Applied", "Seats left"):
        assert seat_column in headers
    assert on_screen(page, "table.list thead th")
    assert on_screen(page, "table.list td.num")

    # The refunds: approve and reject in view
    page.goto(f"{base}/payments/refunds/")
    assert no_sideways_scroll(page) == []
    assert on_screen(page, "[data-decide] button, [data-decide] summary")
    # Rejecting asks for the reason first: the form opens, refuses to go without one, then confirms
    page.locator("[data-reject] summary").click()
    reason = page.locator("[data-reject] input[name=reason]")
    assert reason.is_visible()
    assert no_sideways_scroll(page) == []
    page.locator("[data-reject] form button[type=submit]").click()  # empty: the browser keeps the form
    assert page.evaluate("document.querySelector('[data-reject] input[name=reason]').validity.valueMissing")
    assert Refund.objects.get(pk=school["refund"].pk).status == "pending_approval"
    dialogs: list[str] = []

    def accept(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    reason.fill("已上课时超过一半，按规定不予退费")
    page.locator("[data-reject] form button[type=submit]").click()
    page.wait_for_load_state()
    page.wait_for_function("document.querySelector('.messages') !== null")
    assert dialogs and "Reject this refund?" in dialogs[0]
    assert Refund.objects.get(pk=school["refund"].pk).status == "rejected"
    assert re.search(r"rejected", page.locator(".messages").inner_text())


def test_a_teacher_reads_their_classes_as_cards_on_a_phone(
    city: Any,
    live_server: Any,
    new_page: Any,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("kehou.core.clock.now", lambda: NOW)
    teacher = city.users["teacher"]
    make_class(city.a1, teacher=teacher.teacher_profile, name="围棋")
    make_class(city.a1, teacher=teacher.teacher_profile, name="少儿创意编程与机器人搭建实践", slots=[TUE_1600])
    base = live_server.url
    page = new_page(PHONE)
    password_login(page, base, teacher.username)
    page.goto(f"{base}/classes/")
    cards = page.locator("[data-teacher-classes] > li")
    assert cards.count() == 2
    assert page.locator("form.filters").count() == 0 and page.locator("table").count() == 0
    assert no_sideways_scroll(page) == []
    assert on_screen(page, "[data-teacher-classes] > li")
    # the class that meets first comes first: the term opens on Tuesday 1 September
    first = cards.first.inner_text()
    assert "少儿创意编程" in first and "Tue 16:00–17:00" in first and "September 1 Tue" in first
