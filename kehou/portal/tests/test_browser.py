"""The pages in a real browser: Debian's Chromium driven by Playwright against pytest-django's live server.

Playwright's own browser download is not reachable, so the browser is given by path (``KEHOU_CHROMIUM``,
default /usr/bin/chromium). Without it these tests fail (they are never skipped): CI installs the package.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kehou.conftest import PASSWORD
from kehou.notify.sms import MemorySmsBackend

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = os.environ.get("KEHOU_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium package (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread, so Django would refuse the plain synchronous ORM
    # calls these tests make between browser steps (fixtures, database flushes). Lifted for this module only and
    # put back afterwards, so that no other test (or subprocess it starts) inherits it.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
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
def page_factory(browser: Any) -> Iterator[Any]:
    contexts: list[Any] = []

    def make(viewport: dict[str, int] = DESKTOP) -> Any:
        context = browser.new_context(viewport=viewport, locale="en-US")
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def password_login(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#pw input[name=username]", username)
    page.fill("#pw input[name=password]", PASSWORD)
    page.click("#pw button[type=submit]")
    page.wait_for_url(f"{base}/")


def has_no_horizontal_overflow(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"))


def test_password_login_language_switch_pupil_filter_and_logout(city: Any, live_server: Any, page_factory: Any) -> None:
    base = live_server.url
    page = page_factory()
    # Given the login page: Chinese, although the browser asks for English
    page.goto(f"{base}/login/")
    assert page.locator("h1").inner_text() == "登录课后服务平台"
    # When the school admin logs in with the password form
    password_login(page, base, "school_a1")
    # Then the home page shows their school's grades and classes
    school = page.locator("[data-section=school]")
    assert "东湖甲小学" in school.inner_text()
    assert "三年级" in school.inner_text()
    assert page.get_by_role("button", name="退出").is_visible()

    # When they switch to English
    page.click("form.lang button[value=en]")
    page.wait_for_load_state()
    # Then the same page is in English
    assert page.get_by_role("button", name="Log out").is_visible()
    assert "Grade 3" in page.locator("[data-section=school]").inner_text()

    # When they open the pupil list from the menu and filter by grade
    page.click("nav.menu >> text=Pupils")
    page.wait_for_url(re.compile(r".*/pupils/$"))
    assert page.locator("h1").inner_text().startswith("Pupils")
    page.select_option("select[name=grade]", "3")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r".*grade=3.*"))
    assert page.locator("table.list tbody th").all_inner_texts() == ["甲学生"]
    page.select_option("select[name=grade]", "5")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r".*grade=5.*"))
    assert "Nothing matches these filters." in page.locator("main").inner_text()

    # When they log out, they are back at the login page and the home page needs a login again
    page.click("text=Log out")
    page.wait_for_url(re.compile(r".*/login/$"))
    page.goto(f"{base}/")
    assert "/login/" in page.url


def test_phone_pages_do_not_scroll_sideways_and_the_menu_folds(city: Any, live_server: Any, page_factory: Any) -> None:
    base = live_server.url
    page = page_factory(PHONE)
    page.goto(f"{base}/login/")
    assert has_no_horizontal_overflow(page)
    password_login(page, base, "city")
    assert page.locator("[data-section=city]").is_visible()
    assert has_no_horizontal_overflow(page)
    # The menu is folded behind the menu button on a phone
    schools_link = page.locator("nav.menu a[href='/schools/']")
    assert not schools_link.is_visible()
    page.click("[data-menu-toggle]")
    assert page.locator("[data-menu-toggle]").get_attribute("aria-expanded") == "true"
    assert schools_link.is_visible()
    schools_link.click()
    page.wait_for_url(re.compile(r".*/schools/$"))
    # The wide table scrolls inside its own box, the page itself does not
    assert has_no_horizontal_overflow(page)
    page.goto(f"{base}/pupils/")
    assert has_no_horizontal_overflow(page)


def test_sms_code_login_through_the_send_code_button(city: Any, live_server: Any, page_factory: Any) -> None:
    MemorySmsBackend.outbox.clear()
    base = live_server.url
    parent = city.users["parent"]
    page = page_factory(PHONE)
    page.goto(f"{base}/login/")
    # When the parent picks the SMS tab, enters the phone number and presses "send code"
    page.click("[data-tabs] a[href='#sms']")
    page.fill("input[name=sms-phone]", parent.phone)
    page.click("[data-send-code]")
    status = page.locator("[data-sms-status]")
    status.filter(has_text="验证码已发送").wait_for()
    # Then the button counts down and one SMS went to that phone
    assert page.locator("[data-send-code]").is_disabled()
    assert [m.phone for m in MemorySmsBackend.outbox] == [parent.phone]
    code = re.search(r"\b(\d{6})\b", MemorySmsBackend.outbox[0].text).group(1)
    # When they type the code and log in
    page.fill("input[name=sms-code]", code)
    page.click("#sms button[type=submit]")
    page.wait_for_url(f"{base}/")
    # Then they see their own child
    children = page.locator("[data-section=parent]")
    assert "甲学生" in children.inner_text()
    assert has_no_horizontal_overflow(page)


def test_sms_code_that_is_wrong_is_refused(city: Any, live_server: Any, page_factory: Any) -> None:
    MemorySmsBackend.outbox.clear()
    base = live_server.url
    page = page_factory()
    page.goto(f"{base}/login/")
    page.click("[data-tabs] a[href='#sms']")
    page.fill("input[name=sms-phone]", city.users["parent"].phone)
    page.click("[data-send-code]")
    page.locator("[data-sms-status]").filter(has_text="验证码已发送").wait_for()
    real = re.search(r"\b(\d{6})\b", MemorySmsBackend.outbox[0].text).group(1)
    page.fill("input[name=sms-code]", "000000" if real != "000000" else "111111")
    page.click("#sms button[type=submit]")
    assert page.locator("p.error[role=alert]").inner_text() == "验证码错误或已过期。"
    # the SMS tab stays open so the code can be typed again
    assert page.locator("#sms").is_visible()
