"""The windows API (create, list with state and countdown, update, publish, cancel, draw, district stagger), waivers,
lottery draws (verified), notifications and the care fee standards: happy paths, bad input and the roles that may
not write, each refusal changing nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db.models import Sum

from kehou.conftest import City, api_as
from kehou.core.models import AuditEntry
from kehou.enrolment.models import CareFeeStandard, CourseClass, Enrolment, HardshipWaiver, LotteryDraw, SelectionWindow
from kehou.enrolment.services.selection import enrolment_select
from kehou.notify.models import Notification
from kehou.notify.services import notify
from kehou.orgs.models import School
from kehou.testing import factories as f

from .factories import NOW, autumn_term, care_standard, city_region, family, key, make_class, open_window, school_admin

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr("kehou.core.clock.now", lambda: NOW)
    return NOW


def state() -> tuple[int, ...]:
    taken = CourseClass.objects.aggregate(n=Sum("taken"))["n"] or 0
    return (
        SelectionWindow.objects.count(),
        Enrolment.objects.count(),
        taken,
        HardshipWaiver.objects.count(),
        LotteryDraw.objects.count(),
        AuditEntry.objects.count(),
        Notification.objects.filter(read_at__isnull=False).count(),
        CareFeeStandard.objects.count(),
    )


def iso(dt: Any) -> str:
    return dt.isoformat()


# --- windows -----------------------------------------------------------------------------------------------------
def window_body(city: City, **over: Any) -> dict[str, Any]:
    return {
        "school": city.a1.pk,
        "term": autumn_term().pk,
        "grade": 3,
        "opens_at": iso(NOW + timedelta(hours=2)),
        "closes_at": iso(NOW + timedelta(days=2)),
        "mode": "first_come",
        "max_classes": 2,
        "hold_minutes": 15,
        "publish": True,
    } | over


def test_a_school_admin_sets_a_window_with_a_countdown(city: City) -> None:
    before = AuditEntry.objects.count()
    response = api_as(city.users["school_admin"]).post("/api/v1/windows/", window_body(city), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "published" and body["state"] == "upcoming"
    assert body["seconds_to_open"] == 2 * 3600 and body["seconds_to_close"] == 48 * 3600
    assert body["school"]["id"] == city.a1.pk and body["term"]["id"] == autumn_term().pk
    assert body["opens_at"].endswith("+08:00") and body["enrolment_count"] == 0
    assert AuditEntry.objects.count() == before + 1


@pytest.mark.parametrize(
    ("over", "status", "code"),
    [
        ({"colour": 1}, 400, "unknown_field"),
        ({"grade": "3"}, 400, "invalid"),
        ({"publish": "yes"}, 400, "invalid"),
        ({"opens_at": "tomorrow"}, 400, "invalid"),
        ({"grade": 8}, 400, "grade_out_of_range"),
        ({"closes_at": iso(NOW + timedelta(hours=1))}, 400, "window_dates"),
        ({"closes_at": iso(NOW + timedelta(days=40))}, 400, "window_too_long"),
        ({"mode": "raffle"}, 400, "invalid_mode"),
        ({"term": 999999}, 400, "unknown_term"),
        ({"school": 999999}, 404, "not_found"),
    ],
)
def test_bad_window_bodies_change_nothing(city: City, over: dict[str, Any], status: int, code: str) -> None:
    before = state()
    response = api_as(city.users["school_admin"]).post("/api/v1/windows/", window_body(city, **over), format="json")
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    assert state() == before


def test_an_overlapping_window_is_409(city: City) -> None:
    open_window(city.a1, 3, admin=city.users["school_admin"])
    before = state()
    response = api_as(city.users["school_admin"]).post("/api/v1/windows/", window_body(city), format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "window_overlap"
    assert state() == before


@pytest.mark.parametrize(
    ("role", "school", "status"),
    [("school_admin", "a2", 404), ("district_admin", "a1", 403), ("parent", "a1", 404), ("teacher", "a1", 404)],
)
def test_who_may_not_set_a_window(city: City, role: str, school: str, status: int) -> None:
    before = state()
    body = window_body(city, school=getattr(city, school).pk)
    response = api_as(city.users[role]).post("/api/v1/windows/", body, format="json")
    assert response.status_code == status
    assert state() == before


def test_window_list_filters_and_detail_state(city: City) -> None:
    admin = city.users["school_admin"]
    open3 = open_window(city.a1, 3, admin=admin)
    later4 = open_window(city.a1, 4, admin=admin, opens_at=NOW + timedelta(days=1))
    open_window(city.a2, 3)
    client = api_as(admin)

    def ids(query: str = "", who: Any = client) -> list[int]:
        return [w["id"] for w in who.get(f"/api/v1/windows/?{query}").json()["results"]]

    assert ids() == [open3.pk, later4.pk]
    assert ids("grade=4") == [later4.pk]
    assert ids("status=draft") == []
    assert ids(f"term={autumn_term().pk}") == [open3.pk, later4.pk]
    assert len(ids(f"district={city.district_a.code}", api_as(city.users["district_admin"]))) == 3
    assert ids(f"school={city.a1.pk}", api_as(city.users["city_admin"])) == [open3.pk, later4.pk]
    detail = client.get(f"/api/v1/windows/{open3.pk}/").json()
    assert detail["state"] == "open" and detail["seconds_to_open"] == 0 and detail["seconds_to_close"] == 47 * 3600
    assert client.get(f"/api/v1/windows/{later4.pk}/").json()["state"] == "upcoming"
    # Parents see their children's school's windows, not another school's.
    assert set(ids(who=api_as(city.users["parent"]))) == {open3.pk, later4.pk}


def test_update_publish_and_cancel_a_draft(city: City) -> None:
    client = api_as(city.users["school_admin"])
    draft = client.post("/api/v1/windows/", window_body(city, publish=False), format="json").json()
    assert draft["status"] == "draft"
    url = f"/api/v1/windows/{draft['id']}"

    updated = client.post(f"{url}/update", {"max_classes": 3, "mode": "lottery"}, format="json")
    assert updated.status_code == 200, updated.content
    assert (updated.json()["max_classes"], updated.json()["mode"]) == (3, "lottery")
    published = client.post(f"{url}/publish", format="json")
    assert published.status_code == 200 and published.json()["status"] == "published"
    again = client.post(f"{url}/publish", {}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "window_status"
    cancelled = client.post(f"{url}/cancel", {}, format="json")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"


def test_an_open_window_may_only_be_extended(city: City) -> None:
    window = open_window(city.a1, 3, admin=city.users["school_admin"])
    client = api_as(city.users["school_admin"])
    url = f"/api/v1/windows/{window.pk}/update"
    before = state()

    shorter = client.post(url, {"closes_at": iso(NOW + timedelta(hours=2))}, format="json")
    unknown = client.post(url, {"closes": iso(NOW + timedelta(days=3))}, format="json")
    publish_body = client.post(f"/api/v1/windows/{window.pk}/publish", {"now": 1}, format="json")

    assert shorter.status_code == 409 and shorter.json()["error"]["code"] == "window_started"
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "unknown_field"
    assert publish_body.status_code == 400 and publish_body.json()["error"]["code"] == "unknown_field"
    assert state() == before
    longer = client.post(url, {"closes_at": iso(window.closes_at + timedelta(days=1))}, format="json")
    assert longer.status_code == 200


@pytest.mark.parametrize(("role", "status"), [("district_admin", 403), ("parent", 404), ("teacher", 404)])
def test_who_may_not_change_a_window(city: City, role: str, status: int) -> None:
    window = open_window(city.a1, 3, admin=city.users["school_admin"], opens_at=NOW + timedelta(hours=1))
    client = api_as(city.users[role])
    before = state()
    url = f"/api/v1/windows/{window.pk}"
    answers = [
        client.post(f"{url}/update", {"max_classes": 5}, format="json").status_code,
        client.post(f"{url}/publish", {}, format="json").status_code,
        client.post(f"{url}/cancel", {}, format="json").status_code,
        client.post(f"{url}/draw", {}, format="json").status_code,
    ]
    assert answers == [status] * 4
    assert state() == before


def test_another_schools_window_is_404(city: City) -> None:
    window = open_window(city.a2, 3)
    client = api_as(city.users["school_admin"])
    before = state()
    for action in ("update", "publish", "cancel", "draw"):
        assert client.post(f"/api/v1/windows/{window.pk}/{action}", {}, format="json").status_code == 404
    assert client.get(f"/api/v1/windows/{window.pk}/").status_code == 404
    assert state() == before


def lottery(city: City, *, capacity: int, applicants: int) -> tuple[CourseClass, SelectionWindow]:
    admin = city.users["school_admin"]
    course_class = make_class(city.a1, admin=admin, capacity=capacity, grades=(3, 3))
    window = open_window(city.a1, 3, admin=admin, mode="lottery", hours=2)
    for _ in range(applicants):
        parent, [kid] = family(city.a1, grade=3)
        enrolment_select(actor=parent, pupil_id=kid.pk, class_id=course_class.pk, request_key=key(), now=NOW)
    return course_class, window


def test_draw_a_closed_lottery_window_and_verify_it(city: City, monkeypatch: pytest.MonkeyPatch) -> None:
    _course_class, window = lottery(city, capacity=2, applicants=5)
    client = api_as(city.users["school_admin"])
    url = f"/api/v1/windows/{window.pk}/draw"
    early = client.post(url, {}, format="json")
    assert early.status_code == 409 and early.json()["error"]["code"] == "window_still_open"
    monkeypatch.setattr("kehou.core.clock.now", lambda: window.closes_at)

    response = client.post(url, {}, format="json")

    assert response.status_code == 200, response.content
    [draw_id] = response.json()["draws"]
    assert response.json() == {"window": window.pk, "drawn": 1, "draws": [draw_id]}
    again = client.post(url, {}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "lottery_drawn"
    detail = client.get(f"/api/v1/lottery-draws/{draw_id}/").json()
    assert detail["verified"] is True and detail["seats"] == 2 and len(detail["applicants"]) == 5
    assert detail["winners"] == detail["order"][:2] and detail["seed"]
    held = set(Enrolment.objects.filter(status="held").values_list("pupil_id", flat=True))
    assert held == set(detail["winners"])
    # The parents of the school read the draw; a tampered order no longer verifies.
    parent_view = api_as(city.users["parent"]).get(f"/api/v1/lottery-draws/{draw_id}/")
    assert parent_view.status_code == 200
    row = LotteryDraw.objects.get(pk=draw_id)
    LotteryDraw.objects.filter(pk=draw_id).update(order=list(reversed(row.order)))
    assert client.get(f"/api/v1/lottery-draws/{draw_id}/").json()["verified"] is False
    listed = client.get(f"/api/v1/lottery-draws/?window={window.pk}").json()["results"]
    assert [d["id"] for d in listed] == [draw_id]
    assert client.get(f"/api/v1/lottery-draws/?school={city.a2.pk}").json()["results"] == []
    assert api_as(school_admin(city.a2)).get(f"/api/v1/lottery-draws/{draw_id}/").status_code == 404


def test_a_first_come_window_has_no_draw(city: City, monkeypatch: pytest.MonkeyPatch) -> None:
    window = open_window(city.a1, 3, admin=city.users["school_admin"], hours=2)
    monkeypatch.setattr("kehou.core.clock.now", lambda: window.closes_at)
    response = api_as(city.users["school_admin"]).post(f"/api/v1/windows/{window.pk}/draw", {}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "not_lottery"


def test_the_district_bureau_staggers_its_schools(city: City) -> None:
    School.objects.filter(district=city.district_a).update(joined_at=NOW)
    body = {
        "term": autumn_term().pk,
        "first_opens_at": iso(NOW + timedelta(days=1)),
        "step_minutes": 30,
        "length_minutes": 120,
    }
    url = f"/api/v1/districts/{city.district_a.pk}/windows/stagger"
    before = state()

    for role, status in (("school_admin", 404), ("parent", 404), ("city_admin", 403)):
        assert api_as(city.users[role]).post(url, body, format="json").status_code == status
    other = api_as(city.users["district_admin"]).post(
        f"/api/v1/districts/{city.district_b.pk}/windows/stagger", body, format="json"
    )
    assert other.status_code == 404
    bad = api_as(city.users["district_admin"]).post(url, body | {"step_minutes": -1}, format="json")
    assert bad.status_code == 400
    assert state() == before

    response = api_as(city.users["district_admin"]).post(url, body, format="json")

    assert response.status_code == 201, response.content
    grades = len(city.a1.grade_range) + len(city.a2.grade_range)
    assert response.json()["created"] == grades and response.json()["schools"] == 2
    assert response.json()["last_opens_at"] == iso(NOW + timedelta(days=1, minutes=30))
    opens = sorted(set(SelectionWindow.objects.values_list("opens_at", flat=True)))
    assert opens == [NOW + timedelta(days=1), NOW + timedelta(days=1, minutes=30)]


# --- waivers -----------------------------------------------------------------------------------------------------
def test_a_waiver_is_marked_by_one_admin_and_approved_by_another(city: City) -> None:
    marker = api_as(city.users["school_admin"])
    body = {"pupil": city.pupil_a1.pk, "term": autumn_term().pk, "reason": "低保家庭"}

    created = marker.post("/api/v1/waivers/", body, format="json")

    assert created.status_code == 201, created.content
    waiver = created.json()
    assert waiver["status"] == "pending" and waiver["pupil"]["name"] == city.pupil_a1.name
    url = f"/api/v1/waivers/{waiver['id']}"
    same = marker.post(f"{url}/decide", {"approve": True}, format="json")
    assert same.status_code == 403 and same.json()["error"]["code"] == "four_eyes"
    dup = marker.post("/api/v1/waivers/", body, format="json")
    assert dup.status_code == 409 and dup.json()["error"]["code"] == "waiver_exists"
    second = api_as(school_admin(city.a1))
    approved = second.post(f"{url}/decide", {"approve": True}, format="json")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    # The bureau reads it with the name masked.
    [row] = api_as(city.users["district_admin"]).get("/api/v1/waivers/").json()["results"]
    assert row["id"] == waiver["id"] and row["pupil"]["name"] != city.pupil_a1.name
    assert row["pupil"]["name"].startswith(city.pupil_a1.name[0])
    # An approved pupil's classes cost nothing to the child.
    make_class(city.a1, admin=city.users["school_admin"], grades=(3, 3))
    offer = api_as(city.users["parent"]).get(f"/api/v1/children/{city.pupil_a1.pk}/classes").json()["classes"][0]
    assert offer["fee_fen"] > 0 and offer["fee_for_child_fen"] == 0
    revoked = marker.post(f"{url}/revoke", {}, format="json")
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert marker.post(f"{url}/revoke", {}, format="json").json()["error"]["code"] == "waiver_not_approved"
    assert [w["id"] for w in marker.get("/api/v1/waivers/?status=revoked").json()["results"]] == [waiver["id"]]


def test_the_district_bureau_may_decide_a_waiver(city: City) -> None:
    body = {"pupil": city.pupil_a1.pk, "term": autumn_term().pk, "reason": "困难"}
    waiver = api_as(city.users["school_admin"]).post("/api/v1/waivers/", body, format="json").json()
    response = api_as(city.users["district_admin"]).post(
        f"/api/v1/waivers/{waiver['id']}/decide", {"approve": False}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "rejected"


@pytest.mark.parametrize(
    ("role", "pupil", "status"),
    [
        ("school_admin", "pupil_a2", 404),
        ("district_admin", "pupil_a1", 403),
        ("parent", "pupil_a1", 404),
        ("teacher", "pupil_a1", 404),
    ],
)
def test_who_may_not_mark_a_waiver(city: City, role: str, pupil: str, status: int) -> None:
    before = state()
    body = {"pupil": getattr(city, pupil).pk, "term": autumn_term().pk, "reason": "困难"}
    response = api_as(city.users[role]).post("/api/v1/waivers/", body, format="json")
    assert response.status_code == status
    assert state() == before


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"reason": ""}, "reason_required"),
        ({"approve": True}, "unknown_field"),
        ({"term": "1"}, "invalid"),
        ({"term": 999999}, "unknown_term"),
    ],
)
def test_bad_waiver_bodies_change_nothing(city: City, body: dict[str, Any], code: str) -> None:
    before = state()
    full = {"pupil": city.pupil_a1.pk, "term": autumn_term().pk, "reason": "困难"} | body
    response = api_as(city.users["school_admin"]).post("/api/v1/waivers/", full, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == code
    assert state() == before


def test_deciding_needs_a_json_boolean_and_an_in_scope_waiver(city: City) -> None:
    body = {"pupil": city.pupil_a1.pk, "term": autumn_term().pk, "reason": "困难"}
    waiver = api_as(city.users["school_admin"]).post("/api/v1/waivers/", body, format="json").json()
    url = f"/api/v1/waivers/{waiver['id']}/decide"
    before = state()
    assert api_as(school_admin(city.a1)).post(url, {"approve": "yes"}, format="json").status_code == 400
    assert api_as(school_admin(city.a2)).post(url, {"approve": True}, format="json").status_code == 404
    assert api_as(city.users["parent"]).post(url, {"approve": True}, format="json").status_code == 404
    assert state() == before


# --- notifications -----------------------------------------------------------------------------------------------
def test_notifications_are_ones_own_and_can_be_marked_read(city: City) -> None:
    parent = city.users["parent"]
    notify(user_ids=[parent.pk], kind="a", title="一", now=NOW)
    notify(user_ids=[parent.pk], kind="b", title="二", now=NOW + timedelta(minutes=1))
    notify(user_ids=[city.users["teacher"].pk], kind="c", title="别人的", now=NOW)
    client = api_as(parent)

    rows = client.get("/api/v1/notifications/").json()["results"]

    assert [r["title"] for r in rows] == ["二", "一"] and rows[0]["read_at"] is None
    others = Notification.objects.get(title="别人的").pk
    first = client.post("/api/v1/notifications/read", {"ids": [rows[1]["id"], others]}, format="json")
    assert first.json() == {"marked": 1}
    assert [r["title"] for r in client.get("/api/v1/notifications/?unread=1").json()["results"]] == ["二"]
    assert client.post("/api/v1/notifications/read", {}, format="json").json() == {"marked": 1}
    assert Notification.objects.get(pk=others).read_at is None
    bad = client.post("/api/v1/notifications/read", {"ids": ["1"]}, format="json")
    assert bad.status_code == 400
    assert api_as(city.users["city_admin"]).get("/api/v1/notifications/").json()["results"] == []


# --- care standards ----------------------------------------------------------------------------------------------
def test_the_city_and_a_stricter_district_set_care_standards(city: City) -> None:
    city_region()
    city_client = api_as(city.users["city_admin"])
    district = api_as(city.users["district_admin"])

    set_city = city_client.post(
        "/api/v1/care-standards/", {"max_per_day_fen": 2000, "max_per_month_fen": 30000}, format="json"
    )
    assert set_city.status_code == 200, set_city.content
    assert set_city.json()["region"]["code"] == "360100"
    looser = district.post(
        "/api/v1/care-standards/", {"max_per_day_fen": 2500, "max_per_month_fen": 30000}, format="json"
    )
    assert looser.status_code == 400 and looser.json()["error"]["code"] == "standard_looser_than_city"
    stricter = district.post(
        "/api/v1/care-standards/", {"max_per_day_fen": 1500, "max_per_month_fen": 25000}, format="json"
    )
    assert stricter.status_code == 200 and stricter.json()["region"]["code"] == city.district_a.code

    codes = {r["region"]["code"] for r in api_as(city.users["school_admin"]).get("/api/v1/care-standards/").json()}
    assert codes == {"360100", city.district_a.code}
    assert {r["region"]["code"] for r in city_client.get("/api/v1/care-standards/").json()} == codes


@pytest.mark.parametrize(
    ("role", "body", "status"),
    [
        ("school_admin", {}, 400),  # no region of its own to name
        ("school_admin", {"region": "360102"}, 404),
        ("parent", {"region": "360100"}, 403),  # the city region is public; only its bureau sets it
        ("district_admin", {"region": "360103"}, 404),  # another district
        ("district_admin", {"region": "360100"}, 403),  # the city's
        ("city_admin", {"max_per_day_fen": "20"}, 400),
        ("city_admin", {"extra": 1}, 400),
        ("city_admin", {"region": "999999"}, 400),
    ],
)
def test_who_may_not_set_a_care_standard(city: City, role: str, body: dict[str, Any], status: int) -> None:
    care_standard()
    before = state()
    full = {"max_per_day_fen": 1000, "max_per_month_fen": 20000} | body
    response = api_as(city.users[role]).post("/api/v1/care-standards/", full, format="json")
    assert response.status_code == status, response.content
    assert state() == before
    assert CareFeeStandard.objects.get().max_per_day_fen == 2000


def test_a_nobody_sees_no_standards(city: City) -> None:
    care_standard()
    f.UserFactory(username="someone")
    assert api_as(city.users["nobody"]).get("/api/v1/care-standards/").json() == []
