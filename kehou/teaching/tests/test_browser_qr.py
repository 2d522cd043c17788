"""The two-device QR login in a real browser: a classroom screen (a desktop browser with no account) shows its code;
the teacher, signed in on a phone, opens the code's link, checks the number and confirms; the screen logs in by itself
and reaches teaching only. Debian's Chromium driven by Playwright (see ``kehou/portal/tests/test_browser.py``)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from kehou.conftest import City
from kehou.portal.tests.test_browser import DESKTOP, PHONE, browser, page_factory, password_login  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_screen_logs_in_when_the_teachers_phone_confirms(
    city: City,
    asgi_live_server: str,
    page_factory: Any,  # noqa: F811 (the imported fixture)
) -> None:
    base = asgi_live_server
    screen = page_factory(DESKTOP)
    screen.goto(f"{base}/teach/screen/?name=三(2)班教室")
    screen.wait_for_selector("[data-qr][src^='data:image/svg+xml']")
    number = screen.inner_text("[data-match]")
    link = screen.text_content("[data-link]") or ""
    assert link.startswith(f"{base}/teach/qr/") and len(number) == 2

    phone = page_factory(PHONE)
    password_login(phone, base, city.users["teacher"].username)
    phone.goto(link)
    assert phone.inner_text("[data-scan] [data-match]") == number
    assert "三(2)班教室" in phone.inner_text("[data-scan]")
    screen.wait_for_selector("[data-screen-login][data-state=scanned]")
    started = time.monotonic()
    phone.click("[data-confirm-login]")
    screen.wait_for_url(f"{base}/teach/", timeout=10_000)
    elapsed = time.monotonic() - started
    assert screen.is_visible("[data-screen-session]")
    print(f"approval to logged in: {elapsed:.2f} s")
    # teaching only: the pay page sends the screen back to teaching
    screen.goto(f"{base}/pay/")
    assert screen.url == f"{base}/teach/"
    # the code worked once: opening the link again tells the phone so
    phone.goto(link)
    assert phone.is_visible("[data-scan-error]")
    for page in (screen, phone):  # close the pages' event streams before the server stops
        page.goto("about:blank")
