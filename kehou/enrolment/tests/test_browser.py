"""The selection rush in a real browser on a phone: Debian's Chromium driven by Playwright against pytest-django's
live server (see kehou/portal/tests/test_browser.py for why the browser is given by path).

A parent with two children logs in at 390×844, sees the open window with its live countdown, selects a class for
each child, joins a full class's waitlist and sees the position, cancels a place; the school's administrator then
sees the counts change on /classes/.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kehou.portal.tests.test_browser import CHROMIUM, CHROMIUM_ARGS, PHONE, has_no_horizontal_overflow, password_login
from kehou.testing import factories as f

from .factories import NOW, TUE_1600, WED_1600, family, key, make_class, open_window

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium package (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # see kehou/portal/tests/test_browser.py
    try:
        with sync_playwright() as p:
            chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_page(browser: Any, live_server: Any) -> Iterator[Any]:
    contexts: list[Any] = []

    def make(viewport: dict[str, int]) -> Any:
        context = browser.new_context(viewport=viewport, locale="en-US")
        context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def class_row(page: Any, name: str) -> dict[str, str]:
    """One row of the class list as {header: cell}."""
    headers = page.locator("table.list thead th").all_inner_texts()
    row = page.locator("table.list tbody tr", has=page.locator("th", has_text=name))
    cells = row.locator("th, td").all_inner_texts()
    return dict(zip(headers, cells, strict=True))


def test_parent_selects_waits_and_cancels_on_a_phone_and_the_school_sees_the_counts(
    city: Any, live_server: Any, new_page: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: the clock at the builders' NOW (the live server runs in this process), two children at school A1 in
    # grades 3 and 4, a window open for each grade, and a full class (围棋, taken by another family)
    monkeypatch.setattr("kehou.core.clock.now", lambda: NOW)
    base = live_server.url
    parent = city.users["parent"]
    admin = city.users["school_admin"]
    first = city.pupil_a1
    second = f.PupilFactory(school=city.a1, grade=4, name="甲二")
    f.guardian_of(second, parent)
    robots = make_class(city.a1, admin=admin, capacity=2, grades=(3, 3), name="机器人编程")
    chess = make_class(city.a1, admin=admin, capacity=1, grades=(3, 4), name="围棋", slots=[TUE_1600])
    make_class(city.a1, admin=admin, capacity=3, grades=(4, 4), name="书法", slots=[WED_1600])
    open_window(city.a1, 3, admin=admin)
    open_window(city.a1, 4, admin=admin)
    other, [other_kid] = family(city.a1, grade=3)
    from kehou.enrolment.services.selection import enrolment_select

    enrolment_select(actor=other, pupil_id=other_kid.pk, class_id=chess.pk, request_key=key(), now=NOW)

    # The school admin looks at the classes first
    school = new_page(DESKTOP)
    password_login(school, base, admin.username)
    school.goto(f"{base}/classes/")
    assert class_row(school, "机器人编程")["Held"] == "0"
    assert class_row(school, "围棋")["Waiting"] == "0"

    # When the parent logs in on a phone and opens the selection page
    page = new_page(PHONE)
    password_login(page, base, parent.username)
    page.click("[data-menu-toggle]")
    page.click("nav.menu >> text=Selection")
    page.wait_for_url(re.compile(r".*/parent/$"))
    # Then each child shows its open window with a live countdown to the close (47 hours away)
    card = page.locator(f"[data-child='{first.pk}']")
    window = card.locator("[data-window][data-state=open]")
    assert "Open now" in window.inner_text()
    countdown = window.locator("[data-countdown]")
    shown = countdown.inner_text()
    assert re.fullmatch(r"1 d 2[23]:59:\d\d|1 d 23:00:00", shown), shown
    page.wait_for_function(
        "([el, before]) => el.textContent !== before", arg=[countdown.element_handle(), shown], timeout=4000
    )
    assert has_no_horizontal_overflow(page)

    # When they browse the first child's classes and select 机器人编程
    card.locator("[data-browse]").click()
    page.wait_for_url(re.compile(rf".*/parent/children/{first.pk}/classes/$"))
    assert has_no_horizontal_overflow(page)
    robots_card = page.locator(f"[data-class='{robots.pk}']")
    assert "2" in robots_card.locator("[data-seats-left]").inner_text()
    robots_card.locator(f"[data-select='{robots.pk}']").click()
    page.wait_for_load_state()
    # Then the seat is held for 15 minutes, with a countdown
    place = page.locator(f"[data-class='{robots.pk}'] [data-status=held]")
    assert "Seat held until 09:15" in place.inner_text()
    assert re.fullmatch(r"00:1[45]:\d\d", place.locator("[data-countdown]").inner_text())
    assert page.locator(f"[data-class='{robots.pk}'] [data-seats-left]").inner_text() == "1"

    # When they join the full class's waitlist, they see the child's position
    chess_card = page.locator(f"[data-class='{chess.pk}']")
    assert "Join the waitlist" in chess_card.inner_text()
    chess_card.locator(f"[data-waitlist='{chess.pk}']").click()
    page.wait_for_load_state()
    waiting = page.locator(f"[data-class='{chess.pk}'] [data-status=waiting]")
    assert waiting.get_attribute("data-position") == "1"
    assert "Waitlist position 1" in waiting.inner_text()

    # When they select 书法 for the second child
    page.goto(f"{base}/parent/")
    page.locator(f"[data-child='{second.pk}'] [data-browse]").click()
    page.wait_for_url(re.compile(rf".*/parent/children/{second.pk}/classes/$"))
    page.locator("[data-class] h3", has_text="书法").locator("xpath=..").locator("[data-select]").click()
    page.wait_for_load_state()
    assert "Seat held until" in page.locator("[data-status=held]").inner_text()

    # When they cancel that place from "My places" (confirming the dialog)
    page.goto(f"{base}/parent/enrolments/")
    assert has_no_horizontal_overflow(page)
    rows = page.locator("article[data-row]")
    assert rows.count() == 3
    page.once("dialog", lambda dialog: dialog.accept())
    calligraphy = page.locator("article[data-row]", has_text="书法")
    calligraphy.locator("[data-cancel]").click()
    page.wait_for_load_state()
    assert page.locator("article[data-row]").count() == 2
    assert "cancelled" in page.locator(".messages").inner_text()

    # Then the school admin sees the counts change
    school.reload()
    assert class_row(school, "机器人编程")["Held"] == "1"
    assert class_row(school, "机器人编程")["Seats left"] == "1"
    assert class_row(school, "围棋")["Waiting"] == "1"
    assert class_row(school, "书法")["Taken"] == "0"
    # and the class's page lists the waitlist in order
    school.locator("table.list tbody th a", has_text="围棋").click()
    school.wait_for_url(re.compile(rf".*/classes/{chess.pk}/$"))
    assert "甲学生" in school.locator("[data-list=waiting]").inner_text()
