"""Presenting courseware in a real browser: the classroom screen (logged in by the teacher's phone) presents a deck,
pre-loads every page, and the phone, as the remote, turns the pages through the live channel; with the screen's
network gone, its keys still turn the pre-loaded pages, and the server catches up when it is back."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kehou.conftest import City
from kehou.portal.tests.test_browser import DESKTOP, PHONE, browser, page_factory, password_login  # noqa: F401
from kehou.teaching import samples
from kehou.teaching.models import Presentation, Rendition
from kehou.teaching.services.courseware import courseware_upload, rendition_convert

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": root}},
    }
    return root


def screen_logged_in(city: City, base: str, page_factory: Any) -> tuple[Any, Any]:  # noqa: F811
    screen = page_factory(DESKTOP)
    screen.goto(f"{base}/teach/screen/?name=三(2)班教室")
    screen.wait_for_selector("[data-qr][src^='data:image/svg+xml']")
    link = screen.text_content("[data-link]") or ""
    phone = page_factory(PHONE)
    password_login(phone, base, city.users["teacher"].username)
    phone.goto(link)
    phone.click("[data-confirm-login]")
    screen.wait_for_url(f"{base}/teach/", timeout=10_000)
    return screen, phone


def test_the_phone_turns_the_screens_pages(city: City, asgi_live_server: str, page_factory: Any) -> None:  # noqa: F811
    base = asgi_live_server
    teacher = city.users["teacher"]
    from kehou.core import clock

    item = courseware_upload(
        actor=teacher,
        uploaded_file=SimpleUploadedFile("学习单.pdf", samples.pdf(5, "学习单")),
        school=city.a1,
        title="学习单",
        now=clock.now(),
    )
    rendition_convert(rendition_id=item.rendition_id, now=clock.now())  # (the test settings' tasks ran it at commit)
    assert Rendition.objects.get(pk=item.rendition_id).pages == 5

    screen, phone = screen_logged_in(city, base, page_factory)
    # the screen presents the day's courseware from the teaching home
    screen.click("[data-day-courseware] [data-present]")
    screen.wait_for_url(f"{base}/teach/present/*/")
    screen.wait_for_selector("[data-presenter][data-preloaded=all]")
    assert screen.get_attribute("[data-presenter]", "data-page") == "1"
    show = Presentation.objects.get()
    assert show.screen_name == "三(2)班教室"

    # the phone finds it on its teaching home and opens the remote
    phone.goto(f"{base}/teach/")
    phone.click("[data-presenting] [data-remote-link]")
    phone.wait_for_selector("[data-remote][data-page='1']")
    started = time.monotonic()
    phone.click("[data-go=next]")
    screen.wait_for_selector("[data-presenter][data-page='2']")
    remote_turn = time.monotonic() - started
    phone.click("[data-go=next]")
    screen.wait_for_selector("[data-presenter][data-page='3']")
    phone.fill("[data-goto] input", "5")
    phone.click("[data-goto] button")
    screen.wait_for_selector("[data-presenter][data-page='5']")
    assert screen.get_attribute("[data-page-img]", "src").startswith("blob:")  # from memory
    print(f"phone tap to the screen's page: {remote_turn:.2f} s")

    # the network drops: the screen's keys still turn the pre-loaded pages
    screen.context.set_offline(True)
    screen.keyboard.press("ArrowLeft")
    screen.wait_for_selector("[data-presenter][data-page='4']")
    assert screen.get_attribute("[data-page-img]", "src").startswith("blob:")
    screen.wait_for_selector("[data-presenter][data-online='0']")
    screen.context.set_offline(False)
    deadline = time.monotonic() + 20
    while Presentation.objects.get().page != 4 and time.monotonic() < deadline:
        time.sleep(0.5)  # the screen sends what changed while it was offline (every 10 s)
    assert Presentation.objects.get().page == 4
    phone.wait_for_selector("[data-remote][data-page='4']", timeout=15_000)

    for page in (screen, phone):  # close the pages' event streams before the server stops
        page.goto("about:blank")
