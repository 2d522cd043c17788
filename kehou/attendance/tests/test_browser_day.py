"""The teacher's day in a real browser, under the ASGI server (the live channel needs it): the teacher on a phone
checks in with the phone's location, takes the roll and comments; the parent's page, open all along in another
browser, shows the comment without reloading, and the school's open session page follows the counts.

Debian's Chromium driven by Playwright (``KEHOU_CHROMIUM``, default /usr/bin/chromium); see
``kehou/portal/tests/test_browser.py``.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from kehou.conftest import City
from kehou.core import clock
from kehou.enrolment.models import ClassSession
from kehou.portal.tests.test_browser import DESKTOP, PHONE, browser, page_factory, password_login  # noqa: F401
from kehou.testing import factories as f

from .factories import class_with_pupils, first_session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("KEHOU_SCREENSHOTS", "")


def _shot(page: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


@pytest.fixture
def session_now(city: City, monkeypatch: pytest.MonkeyPatch) -> Any:
    from kehou.attendance.models import ensure_builtin_statuses

    ensure_builtin_statuses()
    cls, pupils = class_with_pupils(city.a1, 6, teacher=city.users["teacher"].teacher_profile)
    f.guardian_of(pupils[0], user=city.users["parent"])
    session = first_session(cls)
    now = timezone.localtime(clock.now())
    if not timedelta(hours=1) <= timedelta(hours=now.hour, minutes=now.minute) <= timedelta(hours=22):
        # A session cannot cross midnight: near it, the whole app (server thread included) runs on a clock
        # set back to the afternoon, so the test runs at any hour instead of skipping.
        shift = timedelta(hours=now.hour, minutes=now.minute) - timedelta(hours=15)
        monkeypatch.setattr(clock, "now", lambda: timezone.now() - shift)
        now = timezone.localtime(clock.now())
    start = now - timedelta(minutes=5)
    ClassSession.objects.filter(pk=session.pk).update(
        date=start.date(), starts_at=start.time(), ends_at=(start + timedelta(minutes=45)).time()
    )
    return ClassSession.objects.get(pk=session.pk), pupils


def test_teacher_checks_in_marks_and_comments_and_the_parent_sees_it_live(
    city: City,
    asgi_live_server: str,
    page_factory: Any,  # noqa: F811 (the imported fixture)
    session_now: Any,
) -> None:
    base = asgi_live_server
    session, pupils = session_now
    school = city.a1

    parent = page_factory(DESKTOP)
    password_login(parent, base, city.users["parent"].username)
    parent.goto(f"{base}/parent/comments/")
    parent.wait_for_selector("body[data-live-state=open]")
    parent.evaluate("window.kehouNotReloaded = true")

    watcher = page_factory(DESKTOP)
    password_login(watcher, base, city.users["school_admin"].username)
    watcher.goto(f"{base}/sessions/{session.pk}/")
    watcher.wait_for_selector("body[data-live-state=open]")
    assert watcher.inner_text("[data-count=unmarked]") == "6"

    teacher = page_factory(PHONE)
    teacher.context.grant_permissions(["geolocation"], origin=base)
    teacher.context.set_geolocation(
        {"latitude": float(school.latitude) + 40 / 111_195.0, "longitude": float(school.longitude), "accuracy": 12}
    )
    password_login(teacher, base, city.users["teacher"].username)
    teacher.goto(f"{base}/sessions/{session.pk}/")
    teacher.click("[data-geo-button]")
    teacher.wait_for_selector("[data-outcome=inside]")
    # the school's open page learns of the check-in without a reload
    watcher.wait_for_selector("[data-check-in] [data-outcome=inside]")

    teacher.check(f'[data-pupil="{pupils[1].pk}"] input[value=absent]')
    teacher.click("[data-all-present]")
    teacher.wait_for_selector(f'[data-pupil="{pupils[1].pk}"] input[value=absent]:checked')
    assert teacher.inner_text("[data-count=unmarked]") == "0"
    watcher.wait_for_function("document.querySelector('[data-count=absent]').textContent === '1'")
    assert watcher.inner_text("[data-count=present]") == "5"
    _shot(teacher, "teacher-session-phone")

    teacher.click(f'[data-comment-on="{pupils[0].pk}"]')
    assert teacher.input_value("[data-comment-pupil]") == str(pupils[0].pk)
    teacher.check("[data-comment-form] input[value=attentive]")
    teacher.fill("[data-comment-text]", "今天的小车调试得很耐心，已经能走直线了。")
    teacher.click("[data-comment-send]")
    teacher.wait_for_selector("[data-session-comments] >> text=今天的小车调试得很耐心")

    parent.wait_for_selector("[data-comment-list] .fresh >> text=今天的小车调试得很耐心，已经能走直线了。")
    assert parent.evaluate("window.kehouNotReloaded === true")  # the same page, not a reload
    assert "Attentive" in parent.inner_text("[data-comment-list] .fresh") or "专注认真" in parent.inner_text(
        "[data-comment-list] .fresh"
    )
    _shot(parent, "parent-comments-live")
    # the other children's guardians were not told; the absent child's guardians were, once
    from kehou.notify.models import Notification

    assert not Notification.objects.filter(kind="comment").exclude(user=city.users["parent"]).exists()


def test_the_operators_live_view_follows_a_check_in_without_reloading(
    city: City,
    asgi_live_server: str,
    page_factory: Any,  # noqa: F811 (the imported fixture)
    session_now: Any,
) -> None:
    from kehou.attendance.services import checkin

    from .factories import at_school

    base = asgi_live_server
    session, _pupils = session_now
    watcher = page_factory(DESKTOP)
    password_login(watcher, base, city.users["operator_staff"].username)
    watcher.goto(f"{base}/operations/live/")
    watcher.wait_for_selector("body[data-live-state=open]")
    row = f'[data-live-board] tr[data-session="{session.pk}"]'
    assert watcher.get_attribute(row, "data-check-in") == "not_yet"
    watcher.evaluate("window.kehouNotReloaded = true")
    checkin.check_in(
        actor=city.users["teacher"], session=session, now=clock.now(), **at_school(city.a1, metres_north=25)
    )
    watcher.wait_for_selector(f'{row}[data-check-in="on_time"]', timeout=15000)
    assert watcher.evaluate("window.kehouNotReloaded === true")  # swapped in place, not reloaded
    assert watcher.inner_text('[data-figure="checked_in"]') == "1"
    _shot(watcher, "operator-live-desktop")
