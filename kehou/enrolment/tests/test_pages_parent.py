"""The parents' pages: children with their windows and countdowns, the classes open to a child, selecting (once per
request key), the waitlist, the places with Cancel, notifications; and what other roles get from the same URLs."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from kehou.conftest import City
from kehou.conftest import page_as as _page_as
from kehou.core.models import AuditEntry
from kehou.enrolment.models import CourseClass, Enrolment
from kehou.enrolment.services.selection import enrolment_select
from kehou.notify.models import Notification
from kehou.testing import factories as f

from .factories import NOW, TUE_1600, WED_1600, autumn_term, family, key, make_class, open_window

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The pages read the clock through kehou.core.clock.now: fixed at the builders' NOW (a Monday, 09:00)."""
    monkeypatch.setattr("kehou.core.clock.now", lambda: NOW)
    return NOW


@pytest.fixture
def rush(city: City) -> dict[str, Any]:
    """The city's parent has a child at A1 (grade 3) and one at A2 (grade 4). A1 offers 机器人编程 (2 seats) and
    围棋 (1 seat, already taken by another family); A2 offers 书法. Both grades have a window open now."""
    parent = city.users["parent"]
    admin = city.users["school_admin"]
    second = f.PupilFactory(school=city.a2, grade=4, name="乙二")
    f.guardian_of(second, parent)
    robots = make_class(city.a1, admin=admin, capacity=2, grades=(3, 3), name="机器人编程")
    chess = make_class(city.a1, admin=admin, capacity=1, grades=(3, 3), name="围棋", slots=[TUE_1600])
    calligraphy = make_class(city.a2, capacity=5, grades=(4, 4), name="书法", slots=[WED_1600])
    w1 = open_window(city.a1, 3, admin=admin)
    w2 = open_window(city.a2, 4)
    other, [other_kid] = family(city.a1, grade=3)
    enrolment_select(actor=other, pupil_id=other_kid.pk, class_id=chess.pk, request_key=key(), now=NOW)
    return {
        "parent": parent,
        "first": city.pupil_a1,
        "second": second,
        "robots": robots,
        "chess": chess,
        "calligraphy": calligraphy,
        "w1": w1,
        "w2": w2,
        "other": other,
    }


def page_as(user: Any) -> Any:
    """A signed-in client that reads the pages in English (the msgids), so the tests need no translations."""
    client = _page_as(user)
    client.cookies["django_language"] = "en"
    return client


def html(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def messages_of(response: Any) -> str:
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


def taken(c: CourseClass) -> int:
    c.refresh_from_db()
    return c.taken


def state() -> tuple[int, int, int]:
    return (
        Enrolment.objects.count(),
        sum(CourseClass.objects.values_list("taken", flat=True)),
        AuditEntry.objects.count(),
    )


def select_form(page: str, class_id: int) -> dict[str, str]:
    """The hidden fields of the rendered Select (or waitlist) form of a class."""
    card = re.search(rf'data-class="{class_id}".*?</article>', page, re.S).group(0)
    return dict(re.findall(r'<input type="hidden" name="(class|key|waitlist)" value="([^"]*)"', card))


# --- home ----------------------------------------------------------------------------------------------------
def test_parent_home_lists_each_child_with_its_open_window_and_countdown(city, rush):
    text = html(page_as(rush["parent"]).get("/parent/"))
    assert "甲学生" in text and "乙二" in text
    assert city.a1.name in text and city.a2.name in text
    # the window opened an hour ago and closes 47 hours from now
    assert 'data-state="open"' in text
    assert f'data-seconds="{47 * 3600}"' in text
    assert "kehou/countdown.js" in text
    assert f"/parent/children/{rush['first'].pk}/classes/" in text


def test_upcoming_window_counts_down_to_opening(city):
    parent = city.users["parent"]
    open_window(city.a1, 3, opens_at=NOW + timedelta(minutes=30))
    text = html(page_as(parent).get("/parent/"))
    assert 'data-state="upcoming"' in text
    assert 'data-seconds="1800"' in text
    assert "00:30:00" in text


def test_home_of_someone_without_children_is_empty(city):
    text = html(page_as(city.users["school_admin"]).get("/parent/"))
    assert "No children are linked" in text or "没有" in text


# --- classes of a child ---------------------------------------------------------------------------------------
def test_classes_page_shows_course_teacher_schedule_fee_and_seats(city, rush):
    robots = rush["robots"]
    text = html(page_as(rush["parent"]).get(f"/parent/children/{rush['first'].pk}/classes/"))
    assert "机器人编程" in text and "围棋" in text
    assert "书法" not in text  # another school's class
    assert robots.teacher.user.full_name in text
    assert "16:00–17:00" in text
    assert "¥30.00" in text and f"{robots.session_count}" in text
    assert f"¥{robots.fee_fen // 100}.00" in text
    assert f'data-select="{robots.pk}"' in text
    assert f'data-waitlist="{rush["chess"].pk}"' in text  # full: join the waitlist instead


def test_selecting_holds_a_seat_and_shows_the_hold_countdown(city, rush):
    client = page_as(rush["parent"])
    url = f"/parent/children/{rush['first'].pk}/classes/"
    form = select_form(html(client.get(url)), rush["robots"].pk)
    response = client.post(f"/parent/children/{rush['first'].pk}/select", form | {"next": url}, follow=True)
    text = html(response)
    e = Enrolment.objects.get(pupil=rush["first"], course_class=rush["robots"])
    assert e.status == "held" and e.request_key == form["key"]
    assert "09:15" in messages_of(response)
    assert f'data-pay="{e.pk}"' in text  # the held place offers Pay
    assert f'data-place="{e.pk}"' in text and 'data-seconds="900"' in text
    assert taken(rush["robots"]) == 1


def test_a_double_submitted_form_is_one_selection(city, rush):
    client = page_as(rush["parent"])
    url = f"/parent/children/{rush['first'].pk}/classes/"
    form = select_form(html(client.get(url)), rush["robots"].pk)
    client.post(f"/parent/children/{rush['first'].pk}/select", form)
    before = state()
    client.post(f"/parent/children/{rush['first'].pk}/select", form)
    assert state() == before
    assert Enrolment.objects.filter(pupil=rush["first"]).count() == 1


def test_a_full_class_offers_the_waitlist_and_shows_the_position(city, rush):
    client = page_as(rush["parent"])
    url = f"/parent/children/{rush['first'].pk}/classes/"
    form = select_form(html(client.get(url)), rush["chess"].pk)
    assert form["waitlist"] == "1"
    response = client.post(f"/parent/children/{rush['first'].pk}/select", form | {"next": url}, follow=True)
    text = html(response)
    e = Enrolment.objects.get(pupil=rush["first"], course_class=rush["chess"])
    assert e.status == "waiting"
    assert 'data-position="1"' in text
    assert taken(rush["chess"]) == 1


def test_selecting_a_full_class_without_the_waitlist_is_a_friendly_message(city, rush):
    client = page_as(rush["parent"])
    before = state()
    response = client.post(
        f"/parent/children/{rush['first'].pk}/select", {"class": rush["chess"].pk, "key": key()}, follow=True
    )
    assert response.status_code == 200
    assert "waitlist" in messages_of(response).lower() or "候补" in messages_of(response)
    assert state() == before


def test_time_clash_and_too_many_classes_are_friendly_messages(city, rush):
    client = page_as(rush["parent"])
    pupil = rush["first"]
    clash = make_class(city.a1, admin=city.users["school_admin"], grades=(3, 3), name="航模")  # Monday 16:00 too
    client.post(f"/parent/children/{pupil.pk}/select", {"class": rush["robots"].pk, "key": key()})
    before = state()
    response = client.post(f"/parent/children/{pupil.pk}/select", {"class": clash.pk, "key": key()}, follow=True)
    assert response.status_code == 200
    assert "机器人编程" in messages_of(response)  # "clashes with “机器人编程”"
    assert state() == before


def test_window_closed_is_a_friendly_message(city, rush, monkeypatch):
    monkeypatch.setattr("kehou.core.clock.now", lambda: NOW + timedelta(days=3))
    client = page_as(rush["parent"])
    before = state()
    response = client.post(
        f"/parent/children/{rush['first'].pk}/select", {"class": rush["robots"].pk, "key": key()}, follow=True
    )
    assert response.status_code == 200
    assert "not open" in messages_of(response) or "未开放" in messages_of(response) or messages_of(response)
    assert state() == before
    # and the page offers no Select button while no window is open
    text = html(client.get(f"/parent/children/{rush['first'].pk}/classes/"))
    assert "data-select=" not in text


def test_bad_input_to_select_is_a_message_never_a_500(city, rush):
    client = page_as(rush["parent"])
    before = state()
    for data in ({}, {"class": "x"}, {"class": rush["robots"].pk, "key": "short"}, {"class": "99999999", "key": key()}):
        response = client.post(f"/parent/children/{rush['first'].pk}/select", data)
        assert response.status_code in (302, 404), (data, response.status_code)
    assert state() == before


def test_someone_elses_child_is_404_and_changes_nothing(city, rush):
    before = state()
    other_child = f.PupilFactory(school=city.a1, grade=3)
    client = page_as(rush["parent"])
    assert client.get(f"/parent/children/{other_child.pk}/classes/").status_code == 404
    response = client.post(f"/parent/children/{other_child.pk}/select", {"class": rush["robots"].pk, "key": key()})
    assert response.status_code == 404
    assert state() == before


def test_the_school_sees_a_pupils_classes_without_select_buttons(city, rush):
    text = html(page_as(city.users["school_admin"]).get(f"/parent/children/{rush['first'].pk}/classes/"))
    assert "机器人编程" in text and "data-select=" not in text
    before = state()
    response = page_as(city.users["school_admin"]).post(
        f"/parent/children/{rush['first'].pk}/select", {"class": rush["robots"].pk, "key": key()}
    )
    assert response.status_code == 404
    assert state() == before


# --- places ---------------------------------------------------------------------------------------------------
def test_places_show_status_countdown_position_and_cancel_frees_the_seat(city, rush):
    parent, first, second = rush["parent"], rush["first"], rush["second"]
    held = enrolment_select(actor=parent, pupil_id=first.pk, class_id=rush["robots"].pk, request_key=key(), now=NOW)
    waiting = enrolment_select(
        actor=parent, pupil_id=first.pk, class_id=rush["chess"].pk, request_key=key(), now=NOW, join_waitlist=True
    )
    other = enrolment_select(
        actor=parent, pupil_id=second.pk, class_id=rush["calligraphy"].pk, request_key=key(), now=NOW
    )
    client = page_as(parent)
    text = html(client.get("/parent/enrolments/"))
    for e in (held, waiting, other):
        assert f'data-row="{e.enrolment.pk}"' in text
    assert 'data-position="1"' in text
    assert 'data-seconds="900"' in text
    assert "data-confirm=" in text
    response = client.post(f"/parent/enrolments/{held.enrolment.pk}/cancel", follow=True)
    assert response.redirect_chain[-1][0] == "/parent/enrolments/"
    held.enrolment.refresh_from_db()
    assert held.enrolment.status == "cancelled"
    assert taken(rush["robots"]) == 0
    # the single place page (the link of a promotion notification)
    assert "书法" in html(client.get(f"/parent/enrolments/{other.enrolment.pk}/"))


def test_cancel_by_another_parent_is_404_and_changes_nothing(city, rush):
    held = enrolment_select(
        actor=rush["parent"], pupil_id=rush["first"].pk, class_id=rush["robots"].pk, request_key=key(), now=NOW
    )
    before = state()
    stranger = f.guardian_of(f.PupilFactory(school=city.a1))
    response = page_as(stranger).post(f"/parent/enrolments/{held.enrolment.pk}/cancel")
    assert response.status_code == 404
    assert state() == before
    assert page_as(stranger).get(f"/parent/enrolments/{held.enrolment.pk}/").status_code == 404


def test_cancelling_a_seat_promotes_the_waitlist_head_who_is_notified(city, rush):
    chess = rush["chess"]
    enrolment_select(
        actor=rush["parent"],
        pupil_id=rush["first"].pk,
        class_id=chess.pk,
        request_key=key(),
        now=NOW,
        join_waitlist=True,
    )
    holder = Enrolment.objects.get(course_class=chess, status="held")
    page_as(rush["other"]).post(f"/parent/enrolments/{holder.pk}/cancel")
    promoted = Enrolment.objects.get(pupil=rush["first"], course_class=chess)
    assert promoted.status == "held"
    client = page_as(rush["parent"])
    text = html(client.get("/parent/notifications/"))
    assert "围棋" in text and "unread" in text
    assert f"/parent/enrolments/{promoted.pk}/" in text
    response = client.post("/parent/notifications/", {"action": "read-all"}, follow=True)
    assert response.status_code == 200
    assert not Notification.objects.filter(user=rush["parent"], read_at__isnull=True).exists()


def test_menu_of_a_parent_has_selection_places_and_notifications(city, rush):
    text = html(page_as(rush["parent"]).get("/"))
    menu = re.search(r'<nav class="menu".*?</nav>', text, re.S).group(0)
    for url in ("/parent/", "/parent/enrolments/", "/parent/notifications/"):
        assert f'href="{url}"' in menu
    assert 'href="/classes/"' not in menu


def test_pages_need_a_login(client):
    for url in ("/parent/", "/parent/enrolments/", "/parent/notifications/", "/parent/children/1/classes/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_term_is_used(city):
    assert autumn_term().pk


def test_lottery_window_collects_applications_and_links_the_results(city, monkeypatch):
    from kehou.enrolment.services.lottery import lottery_draw

    parent = city.users["parent"]
    admin = city.users["school_admin"]
    basketball = make_class(city.a1, admin=admin, capacity=1, grades=(3, 3), name="篮球")
    window = open_window(city.a1, 3, admin=admin, mode="lottery", hours=2)
    client = page_as(parent)
    url = f"/parent/children/{city.pupil_a1.pk}/classes/"
    text = html(client.get(url))
    assert "Apply (lottery)" in text
    client.post(f"/parent/children/{city.pupil_a1.pk}/select", select_form(text, basketball.pk))
    assert Enrolment.objects.get(pupil=city.pupil_a1).status == "applied"
    assert "the lottery is drawn when the window closes" in html(client.get(url))
    rival, [kid] = family(city.a1)
    enrolment_select(actor=rival, pupil_id=kid.pk, class_id=basketball.pk, request_key=key(), now=NOW)
    later = NOW + timedelta(hours=2)
    monkeypatch.setattr("kehou.core.clock.now", lambda: later)
    lottery_draw(window=window, now=later)
    home = html(client.get("/parent/"))
    assert f"/lottery-draws/?window={window.pk}" in home
    assert "篮球" in html(client.get("/lottery-draws/", {"window": window.pk}))
    assert Notification.objects.filter(user=parent, kind__startswith="lottery").exists()


def test_a_single_notification_is_marked_read_and_bad_posts_change_nothing(city):
    parent = city.users["parent"]
    first = Notification.objects.create(user=parent, kind="t", title="一", created_at=NOW)
    second = Notification.objects.create(user=parent, kind="t", title="二", created_at=NOW)
    mine = Notification.objects.create(user=city.users["teacher"], kind="t", title="三", created_at=NOW)
    client = page_as(parent)
    client.post("/parent/notifications/", {"action": "read", "id": first.pk})
    client.post("/parent/notifications/", {"action": "read", "id": mine.pk})  # someone else's: nothing
    client.post("/parent/notifications/", {"action": "read", "id": "x"})
    client.post("/parent/notifications/", {"name": "改名"})
    first.refresh_from_db(), second.refresh_from_db(), mine.refresh_from_db()
    assert first.read_at is not None and second.read_at is None and mine.read_at is None
    assert "三" not in html(client.get("/parent/notifications/"))


def test_the_school_opens_a_place_without_a_cancel_button_but_may_cancel(city, rush):
    held = enrolment_select(
        actor=rush["parent"], pupil_id=rush["first"].pk, class_id=rush["robots"].pk, request_key=key(), now=NOW
    ).enrolment
    school = page_as(city.users["school_admin"])
    text = html(school.get(f"/parent/enrolments/{held.pk}/"))
    assert "机器人编程" in text and "data-cancel" not in text
    school.post(f"/parent/enrolments/{held.pk}/cancel")
    held.refresh_from_db()
    assert held.status == "cancelled"
    assert taken(rush["robots"]) == 0
