"""The schools' and bureaus' pages: classes with seats (list, filters, flag, Excel), creating a class, a class's
waitlist and holds with capacity/room changes and cancellation; windows (create, publish, cancel, draw, stagger);
waivers (mark, approve by a second person, revoke); lottery results. Denied writes change nothing."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
from openpyxl import load_workbook

from kehou.catalog.models import LibraryEntry
from kehou.conftest import City
from kehou.conftest import page_as as _page_as
from kehou.core.models import AuditEntry
from kehou.enrolment.models import CourseClass, Enrolment, HardshipWaiver, LotteryDraw, SelectionWindow
from kehou.enrolment.services.selection import enrolment_select
from kehou.testing import factories as f

from .factories import NOW, TUE_1600, autumn_term, family, key, make_class, open_window, school_admin, school_entry

pytestmark = pytest.mark.django_db
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def frozen(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr("kehou.core.clock.now", lambda: NOW)
    return NOW


def page_as(user: Any) -> Any:
    client = _page_as(user)
    client.cookies["django_language"] = "en"
    return client


def html(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def messages_of(response: Any) -> str:
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


def sheet(response: Any) -> list[list[Any]]:
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    return [list(r) for r in load_workbook(io.BytesIO(response.getvalue())).active.iter_rows(values_only=True)]


def state() -> tuple[int, int, int, int, int]:
    return (
        Enrolment.objects.count(),
        sum(CourseClass.objects.values_list("taken", flat=True)),
        AuditEntry.objects.count(),
        SelectionWindow.objects.count(),
        HardshipWaiver.objects.count(),
    )


@pytest.fixture
def world(city: City) -> dict[str, Any]:
    """School A1: 机器人编程 (2 seats: one held, one confirmed-free? no: one held) and 围棋 (1 seat, held, one
    waiting); school B1 (district B): 书法. A first-come window is open for grade 3 at A1."""
    admin = city.users["school_admin"]
    robots = make_class(city.a1, admin=admin, capacity=2, grades=(3, 3), name="机器人编程")
    chess = make_class(city.a1, admin=admin, capacity=1, grades=(3, 3), name="围棋", slots=[TUE_1600])
    b_class = make_class(city.b1, capacity=5, grades=(3, 3), name="书法")
    window = open_window(city.a1, 3, admin=admin)
    p1, [k1] = family(city.a1)
    p2, [k2] = family(city.a1)
    held = enrolment_select(actor=p1, pupil_id=k1.pk, class_id=robots.pk, request_key=key(), now=NOW).enrolment
    enrolment_select(actor=p1, pupil_id=k1.pk, class_id=chess.pk, request_key=key(), now=NOW)
    waiting = enrolment_select(
        actor=p2, pupil_id=k2.pk, class_id=chess.pk, request_key=key(), now=NOW, join_waitlist=True
    ).enrolment
    return {
        "admin": admin,
        "robots": robots,
        "chess": chess,
        "b_class": b_class,
        "window": window,
        "held": held,
        "waiting": waiting,
        "k1": k1,
        "k2": k2,
    }


# --- classes list ----------------------------------------------------------------------------------------------
def test_class_list_shows_seats_for_the_school_and_bureaus_in_scope(city, world):
    text = html(page_as(world["admin"]).get("/classes/"))
    assert "机器人编程" in text and "围棋" in text and "书法" not in text
    rows = sheet(page_as(world["admin"]).get("/classes/", {"format": "xlsx"}))
    header = rows[0]
    by_name = {r[0]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert by_name["机器人编程"]["Capacity"] == 2 and by_name["机器人编程"]["Held"] == 1
    assert by_name["机器人编程"]["Seats left"] == 1
    assert by_name["围棋"]["Waiting"] == 1 and by_name["围棋"]["Seats left"] == 0
    district = html(page_as(city.users["district_admin"]).get("/classes/"))
    assert "机器人编程" in district and "书法" not in district
    assert "书法" in html(page_as(city.users["city_admin"]).get("/classes/"))


def test_class_list_filters(city, world):
    client = page_as(city.users["city_admin"])
    assert "书法" not in html(client.get("/classes/", {"school": city.a1.pk}))
    assert "机器人编程" not in html(client.get("/classes/", {"q": "围棋"}))
    assert "机器人编程" not in html(client.get("/classes/", {"grade": "5"}))
    assert "机器人编程" not in html(client.get("/classes/", {"kind": "care"}))
    assert "机器人编程" in html(client.get("/classes/", {"status": "active", "term": autumn_term().pk}))
    assert "书法" not in html(client.get("/classes/", {"district": city.district_a.code}))
    # bad filter values are ignored, never a 500
    assert client.get("/classes/", {"school": "x", "grade": "１", "term": "9" * 30}).status_code == 200


def test_a_class_whose_library_entry_is_suspended_is_flagged(city, world):
    entry = world["robots"].entry
    LibraryEntry.objects.filter(pk=entry.upstream_id).update(status="suspended")
    client = page_as(world["admin"])
    text = html(client.get("/classes/", {"flagged": "yes"}))
    assert "机器人编程" in text and "围棋" not in text
    assert "data-flagged" in text
    assert "data-flagged" in html(client.get(f"/classes/{world['robots'].pk}/"))
    rows = sheet(client.get("/classes/", {"flagged": "yes", "format": "xlsx"}))
    assert rows[1][-1] == "Library entry no longer usable"


# --- class detail and its actions -----------------------------------------------------------------------------
def test_class_detail_shows_slots_sessions_holds_and_the_waitlist_in_order(city, world):
    chess = world["chess"]
    text = html(page_as(world["admin"]).get(f"/classes/{chess.pk}/"))
    assert "Tue 16:00–17:00" in text
    assert f'data-enrolment="{world["waiting"].pk}"' in text
    assert 'data-list="held"' in text and 'data-list="waiting"' in text
    assert 'data-seconds="900"' in text  # the hold's countdown
    assert text.count('<li title="16:00–17:00">') == chess.session_count
    assert f'action="/classes/{chess.pk}/change"' in text
    # a bureau reads it without the change and cancel forms
    district = html(page_as(city.users["district_admin"]).get(f"/classes/{chess.pk}/"))
    assert 'data-list="waiting"' in district and "/change" not in district
    # another district's class is a 404
    assert page_as(city.users["district_admin"]).get(f"/classes/{world['b_class'].pk}/").status_code == 404


def test_raising_the_capacity_gives_the_seat_to_the_waitlist_head(city, world):
    chess = world["chess"]
    response = page_as(world["admin"]).post(
        f"/classes/{chess.pk}/change", {"capacity": "2", "room": "新教室"}, follow=True
    )
    assert response.redirect_chain[-1][0] == f"/classes/{chess.pk}/"
    chess.refresh_from_db()
    assert chess.capacity == 2 and chess.room == "新教室" and chess.taken == 2
    world["waiting"].refresh_from_db()
    assert world["waiting"].status == "held"


def test_capacity_below_taken_is_refused_with_its_message(city, world):
    robots = world["robots"]
    before = state()
    response = page_as(world["admin"]).post(f"/classes/{robots.pk}/change", {"capacity": "0"}, follow=True)
    assert response.status_code == 200 and messages_of(response)
    robots.refresh_from_db()
    assert robots.capacity == 2
    assert state() == before


def test_cancelling_a_class_needs_a_reason_and_ends_every_place(city, world):
    chess = world["chess"]
    client = page_as(world["admin"])
    before = state()
    response = client.post(f"/classes/{chess.pk}/cancel", {"reason": ""}, follow=True)
    assert "reason" in messages_of(response).lower()
    assert state() == before
    client.post(f"/classes/{chess.pk}/cancel", {"reason": "老师调离"})
    chess.refresh_from_db()
    assert chess.status == "cancelled" and chess.taken == 0
    assert not Enrolment.objects.filter(course_class=chess, status__in=["held", "waiting"]).exists()


@pytest.mark.parametrize("role", ["district_admin", "city_admin", "teacher", "parent"])
def test_bureaus_teachers_and_parents_cannot_change_or_cancel_a_class(city, world, role):
    chess = world["chess"]
    before = state()
    client = page_as(city.users[role])
    for url, data in (
        (f"/classes/{chess.pk}/change", {"capacity": "9"}),
        (f"/classes/{chess.pk}/cancel", {"reason": "x"}),
    ):
        response = client.post(url, data)
        assert response.status_code in (302, 404), (role, url, response.status_code)
    chess.refresh_from_db()
    assert chess.capacity == 1 and chess.status == "active"
    assert state() == before


def test_another_schools_admin_gets_404_on_the_class_actions(city, world):
    before = state()
    client = page_as(school_admin(city.a2))
    assert client.get(f"/classes/{world['chess'].pk}/").status_code == 404
    assert client.post(f"/classes/{world['chess'].pk}/cancel", {"reason": "x"}).status_code == 404
    assert client.post(f"/classes/{world['chess'].pk}/change", {"capacity": "5"}).status_code == 404
    assert state() == before


# --- creating a class -----------------------------------------------------------------------------------------
def _class_post(entry: LibraryEntry, teacher_id: int, **extra: Any) -> dict[str, Any]:
    data = {
        "kind": "course",
        "entry": entry.pk,
        "teacher": teacher_id,
        "term": autumn_term().pk,
        "room": "科技楼301",
        "capacity": "20",
        "grade_min": "3",
        "grade_max": "4",
        "pricing": "hour",
        "price": "30",
        "slot0_day": "3",
        "slot0_start": "16:00",
        "slot0_end": "17:00",
    }
    return data | extra


def test_school_admin_creates_a_class_from_the_school_library(city, world):
    entry = school_entry(city.a1, name="创意美术")
    teacher = f.teacher_at(city.a1).teacher_profile
    client = page_as(world["admin"])
    form = html(client.get("/classes/new/"))
    assert "创意美术" in form and 'name="slot4_day"' in form
    response = client.post("/classes/new/", _class_post(entry, teacher.pk, materials_name="画材包", materials_fee="45"))
    created = CourseClass.objects.get(name="创意美术")
    assert response.status_code == 302 and response["Location"] == f"/classes/{created.pk}/"
    assert created.session_count > 0 and created.fee_fen == 3000 * created.session_count
    assert created.materials_fee_fen == 4500
    assert AuditEntry.objects.filter(action="class.create", object_id=str(created.pk)).exists()


def test_class_form_errors_are_shown_never_a_500(city, world):
    entry = school_entry(city.a1, name="创意美术")
    teacher = f.teacher_at(city.a1).teacher_profile
    client = page_as(world["admin"])
    before = state()
    # above the fee standard (the service's message), a half-filled slot, no slot, garbage
    for data in (
        _class_post(entry, teacher.pk, price="999"),
        _class_post(entry, teacher.pk, slot0_end=""),
        _class_post(entry, teacher.pk, slot0_day="", slot0_start="", slot0_end=""),
        {"name": "改名"},
        _class_post(entry, teacher.pk) | {"entry": "999999"},
    ):
        response = client.post("/classes/new/", data)
        assert response.status_code == 400, data
        assert 'class="error' in response.content.decode() or "errorlist" in response.content.decode()
    assert state() == before
    assert not CourseClass.objects.filter(name="创意美术").exists()


def test_basic_care_is_priced_per_day(city, world):
    from .factories import care_standard

    care_standard()
    teacher = f.teacher_at(city.a1).teacher_profile
    data = _class_post(school_entry(city.a1), teacher.pk, kind="care", pricing="day", price="15") | {"entry": ""}
    data["slot0_day"] = "4"
    response = page_as(world["admin"]).post("/classes/new/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    care = CourseClass.objects.get(kind="care")
    assert care.pricing == "day" and care.unit_price_fen == 1500


@pytest.mark.parametrize("role", ["district_admin", "city_admin", "teacher", "parent", "nobody"])
def test_only_school_admins_get_the_class_form(city, world, role):
    client = page_as(city.users[role])
    text = html(client.get("/classes/new/"))
    assert 'data-notice="cannot-create"' in text
    before = state()
    entry = world["robots"].entry
    response = client.post("/classes/new/", _class_post(entry, world["robots"].teacher_id, school=city.a1.pk))
    assert response.status_code == 403
    assert state() == before


# --- windows ----------------------------------------------------------------------------------------------------
def test_window_list_create_publish_and_cancel(city, world):
    client = page_as(world["admin"])
    text = html(client.get("/windows/"))
    assert "Open now" in text
    rows = sheet(client.get("/windows/", {"format": "xlsx"}))
    assert len(rows) == 2 and "Actions" not in rows[0]
    response = client.post(
        "/windows/new/",
        {
            "term": autumn_term().pk,
            "grade": "4",
            "opens_at": "2026-08-25T09:00",
            "closes_at": "2026-08-27T18:00",
            "mode": "lottery",
            "max_classes": "2",
            "hold_minutes": "15",
        },
    )
    assert response.status_code == 302
    draft = SelectionWindow.objects.get(grade=4, school=city.a1)
    assert draft.status == "draft" and draft.mode == "lottery"
    assert draft.opens_at.hour == 1  # 09:00 Beijing time is 01:00 UTC
    text = html(client.get("/windows/"))
    assert f'action="/windows/{draft.pk}/publish"' in text
    client.post(f"/windows/{draft.pk}/publish")
    draft.refresh_from_db()
    assert draft.status == "published"
    client.post(f"/windows/{draft.pk}/cancel")
    draft.refresh_from_db()
    assert draft.status == "cancelled"


def test_window_errors_are_shown(city, world):
    client = page_as(world["admin"])
    before = state()
    overlapping = {
        "term": autumn_term().pk,
        "grade": "3",
        "opens_at": "2026-08-24T10:00",
        "closes_at": "2026-08-25T10:00",
        "mode": "first_come",
        "max_classes": "2",
        "hold_minutes": "15",
        "publish": "on",
    }
    response = client.post("/windows/new/", overlapping)
    assert response.status_code == 400 and "overlaps" in response.content.decode()
    response = client.post("/windows/new/", overlapping | {"opens_at": "yesterday"})
    assert response.status_code == 400
    assert state() == before
    # a window with selections cannot be cancelled once open: the message, not a 500
    response = client.post(f"/windows/{world['window'].pk}/cancel", follow=True)
    assert response.status_code == 200 and messages_of(response)
    assert state() == before


def test_bureaus_read_windows_but_cannot_act(city, world):
    window = world["window"]
    before = state()
    client = page_as(city.users["district_admin"])
    text = html(client.get("/windows/"))
    assert city.a1.name in text and f"/windows/{window.pk}/cancel" not in text
    assert client.post(f"/windows/{window.pk}/cancel").status_code == 302
    assert 'data-notice="cannot-create"' in html(client.get("/windows/new/"))
    window.refresh_from_db()
    assert window.status == "published"
    assert page_as(school_admin(city.b1)).post(f"/windows/{window.pk}/cancel").status_code == 404
    assert state() == before


def test_lottery_draw_after_close_and_the_published_result(city, world, monkeypatch):
    admin = world["admin"]
    lottery_class = make_class(city.a1, admin=admin, capacity=1, grades=(5, 5), name="篮球", slots=[TUE_1600])
    window = open_window(city.a1, 5, admin=admin, mode="lottery", hours=2)
    kids = []
    for _ in range(3):
        parent, [kid] = family(city.a1, grade=5)
        enrolment_select(actor=parent, pupil_id=kid.pk, class_id=lottery_class.pk, request_key=key(), now=NOW)
        kids.append((parent, kid))
    client = page_as(admin)
    # before the close the draw is refused with a message
    response = client.post(f"/windows/{window.pk}/draw", follow=True)
    assert messages_of(response) and not LotteryDraw.objects.exists()
    monkeypatch.setattr("kehou.core.clock.now", lambda: NOW + timedelta(hours=2))
    assert f'action="/windows/{window.pk}/draw"' in html(client.get("/windows/"))
    # the bureau cannot draw
    assert page_as(city.users["district_admin"]).post(f"/windows/{window.pk}/draw").status_code == 302
    assert not LotteryDraw.objects.exists()
    response = client.post(f"/windows/{window.pk}/draw")
    draw = LotteryDraw.objects.get()
    assert response["Location"] == f"/lottery-draws/?window={window.pk}"
    assert str(draw.pk) in html(client.get(response["Location"])) or draw.course_class.name in html(
        client.get(response["Location"])
    )
    text = html(client.get(f"/lottery-draws/{draw.pk}/"))
    assert draw.seed in text
    assert 'data-replay><span class="tag ok">yes' in text
    for pupil_id in draw.order:
        assert f'<td class="mono">{pupil_id}</td>' in text
    # a parent sees the result, their own child marked, other children's names not shown
    parent, kid = kids[0]
    parent_text = html(page_as(parent).get(f"/lottery-draws/{draw.pk}/"))
    assert "your child" in parent_text and kid.name in parent_text
    assert kids[1][1].name not in parent_text
    assert sheet(client.get("/lottery-draws/", {"format": "xlsx"}))[1][5] == draw.seed


def test_district_staggers_its_schools_windows(city, world):
    client = page_as(city.users["district_admin"])
    assert 'data-form="stagger"' in html(client.get("/windows/stagger/"))
    before = SelectionWindow.objects.count()
    response = client.post(
        "/windows/stagger/",
        {
            "term": autumn_term().pk,
            "first_opens_at": "2026-09-01T08:00",
            "step_minutes": "30",
            "length_minutes": "600",
            "mode": "first_come",
            "max_classes": "2",
            "hold_minutes": "15",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert "windows were published" in messages_of(response)
    created = SelectionWindow.objects.filter(opens_at__gte=NOW + timedelta(days=7))
    assert created.count() == SelectionWindow.objects.count() - before > 0
    assert set(created.values_list("school__district", flat=True)) == {city.district_a.pk}
    a2_first = created.filter(school=city.a2).first()
    assert a2_first.opens_at - created.filter(school=city.a1).first().opens_at == timedelta(minutes=30)


@pytest.mark.parametrize("role", ["school_admin", "city_admin", "parent", "nobody"])
def test_only_a_district_bureau_staggers(city, world, role):
    client = page_as(city.users[role])
    assert 'data-notice="cannot-stagger"' in html(client.get("/windows/stagger/"))
    before = state()
    response = client.post("/windows/stagger/", {"term": autumn_term().pk, "first_opens_at": "2026-09-01T08:00"})
    assert response.status_code == 403
    assert state() == before


# --- waivers ----------------------------------------------------------------------------------------------------
def test_waiver_mark_approve_by_a_second_person_and_revoke(city, world):
    admin = world["admin"]
    pupil = city.pupil_a1
    client = page_as(admin)
    response = client.post(
        "/waivers/new/", {"student_number": pupil.student_number, "term": autumn_term().pk, "reason": "低保家庭"}
    )
    assert response.status_code == 302
    waiver = HardshipWaiver.objects.get(pupil=pupil)
    text = html(client.get("/waivers/"))
    assert "低保家庭" in text and f"/waivers/{waiver.pk}/decide" not in text  # not the one who marked
    before = state()
    response = client.post(f"/waivers/{waiver.pk}/decide", {"decision": "approve"}, follow=True)
    assert messages_of(response)
    assert state() == before
    second = school_admin(city.a1)
    assert f"/waivers/{waiver.pk}/decide" in html(page_as(second).get("/waivers/"))
    page_as(second).post(f"/waivers/{waiver.pk}/decide", {"decision": "approve"})
    waiver.refresh_from_db()
    assert waiver.status == "approved" and waiver.decided_by == second
    # the district bureau reads it (and exports it), with the name and student number masked
    masked = pupil.name[0] + "*" * (len(pupil.name) - 1)
    district = page_as(city.users["district_admin"])
    text = html(district.get("/waivers/"))
    assert masked in text and pupil.name not in text and pupil.student_number not in text
    rows = sheet(district.get("/waivers/", {"format": "xlsx"}))
    assert rows[1][0] == masked
    client.post(f"/waivers/{waiver.pk}/revoke")
    waiver.refresh_from_db()
    assert waiver.status == "revoked"


def test_district_bureau_approves_a_waiver(city, world):
    pupil = city.pupil_a1
    page_as(world["admin"]).post(
        "/waivers/new/", {"student_number": pupil.student_number, "term": autumn_term().pk, "reason": "困难"}
    )
    waiver = HardshipWaiver.objects.get(pupil=pupil)
    # (a rejection names its reason: issue 14; kehou/enrolment/tests/test_pages_issue14.py)
    page_as(city.users["district_admin"]).post(
        f"/waivers/{waiver.pk}/decide", {"decision": "reject", "reason": "证明材料不全"}
    )
    waiver.refresh_from_db()
    assert waiver.status == "rejected"


def test_waiver_errors_and_denials_change_nothing(city, world):
    client = page_as(world["admin"])
    before = state()
    for data in (
        {"student_number": city.pupil_b1.student_number, "term": autumn_term().pk, "reason": "x"},  # other district
        {"student_number": "", "term": autumn_term().pk, "reason": "x"},
        {"name": "改名"},
    ):
        assert client.post("/waivers/new/", data).status_code == 400
    for role in ("parent", "teacher", "district_admin"):
        response = page_as(city.users[role]).post(
            "/waivers/new/", {"student_number": city.pupil_a1.student_number, "term": autumn_term().pk, "reason": "x"}
        )
        assert response.status_code == 403, role
    assert state() == before
    waiver = HardshipWaiver.objects.create(
        pupil=city.pupil_a1, term=autumn_term(), reason="r", requested_by=world["admin"], requested_at=NOW
    )
    before = state()
    assert (
        page_as(school_admin(city.b1)).post(f"/waivers/{waiver.pk}/decide", {"decision": "approve"}).status_code == 404
    )
    assert page_as(city.users["parent"]).post(f"/waivers/{waiver.pk}/revoke").status_code == 404
    page_as(school_admin(city.a1)).post(f"/waivers/{waiver.pk}/decide", {"decision": "maybe"})
    waiver.refresh_from_db()
    assert waiver.status == "pending"
    assert state() == before


# --- menus and home ---------------------------------------------------------------------------------------------
def test_menus_and_home_links(city, world):
    def menu(role: str) -> str:
        text = html(page_as(city.users[role]).get("/"))
        return re.search(r'<nav class="menu".*?</nav>', text, re.S).group(0)

    school = menu("school_admin")
    assert 'href="/classes/"' in school and 'href="/windows/"' in school and 'href="/waivers/"' in school
    for role in ("district_admin", "city_admin"):
        m = menu(role)
        assert 'href="/classes/"' in m and 'href="/windows/"' in m and 'href="/waivers/"' not in m
    home = html(page_as(city.users["school_admin"]).get("/"))
    assert f'href="/classes/?school={city.a1.pk}"' in home
    parent_home = html(page_as(city.users["parent"]).get("/"))
    assert f'href="/parent/children/{city.pupil_a1.pk}/classes/"' in parent_home


# --- places of the classes -----------------------------------------------------------------------------------
def test_places_list_filters_and_exports_with_waitlist_positions_and_hold_expiry(city, world):
    chess = world["chess"]
    client = page_as(world["admin"])
    text = html(client.get("/places/", {"class": chess.pk}))
    assert world["k2"].name in text and world["k1"].name in text
    rows = sheet(client.get("/places/", {"class": chess.pk, "format": "xlsx"}))
    by_pupil = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert by_pupil[world["k2"].name]["Waitlist position"] == 1
    assert by_pupil[world["k1"].name]["Hold expires"] == "2026-08-24 09:15"
    assert by_pupil[world["k1"].name]["Student number"] == world["k1"].student_number  # the own school: in full
    waiting = sheet(client.get("/places/", {"status": "waiting", "format": "xlsx"}))
    assert [r[0] for r in waiting[1:]] == [world["k2"].name]
    # the district bureau sees masked student numbers; another district's bureau sees none of it
    district = sheet(page_as(city.users["district_admin"]).get("/places/", {"format": "xlsx"}))
    assert world["k1"].student_number not in str(district) and world["k1"].name not in str(district)
    assert len(district) == len(sheet(client.get("/places/", {"format": "xlsx"})))
    bureau_b = f.UserFactory()
    from kehou.people.models import Role

    f.grant(bureau_b, Role.DISTRICT_ADMIN, district=city.district_b)
    assert len(sheet(page_as(bureau_b).get("/places/", {"format": "xlsx"}))) == 1
    assert f"/places/?class={chess.pk}" in html(client.get(f"/classes/{chess.pk}/"))


def test_a_teacher_sees_only_their_own_classes_with_full_names(city, world):
    teacher = world["chess"].teacher.user
    client = page_as(teacher)
    text = html(client.get("/"))
    assert 'href="/classes/"' in re.search(r'<nav class="menu".*?</nav>', text, re.S).group(0)
    listing = html(client.get("/classes/"))
    assert "围棋" in listing and "机器人编程" not in listing
    assert world["k2"].name in html(client.get(f"/classes/{world['chess'].pk}/"))
    assert client.get(f"/classes/{world['robots'].pk}/").status_code == 404
    assert 'data-notice="cannot-create"' in html(client.get("/classes/new/"))


@pytest.mark.parametrize("role", ["district_admin", "city_admin", "teacher", "parent", "operator_staff", "nobody"])
def test_window_and_waiver_actions_by_anyone_but_the_school_change_nothing(city, world, role):
    draft = SelectionWindow.objects.create(
        school=city.a1,
        term=autumn_term(),
        grade=5,
        opens_at=NOW + timedelta(days=1),
        closes_at=NOW + timedelta(days=2),
        created_at=NOW,
        created_by=world["admin"],
    )
    waiver = HardshipWaiver.objects.create(
        pupil=city.pupil_a1, term=autumn_term(), reason="r", requested_by=world["admin"], requested_at=NOW
    )
    before = state()
    client = page_as(city.users[role])
    for url in (
        f"/windows/{draft.pk}/publish",
        f"/windows/{world['window'].pk}/cancel",
        f"/windows/{world['window'].pk}/draw",
        f"/waivers/{waiver.pk}/revoke",
        f"/classes/{world['robots'].pk}/cancel",
    ):
        response = client.post(url, {"reason": "x"})
        assert response.status_code in (302, 404), (role, url, response.status_code)
    if role not in ("district_admin", "city_admin"):
        assert client.post(f"/waivers/{waiver.pk}/decide", {"decision": "approve"}).status_code in (302, 404)
    draft.refresh_from_db()
    waiver.refresh_from_db()
    assert draft.status == "draft" and waiver.status == "pending"
    assert state() == before
