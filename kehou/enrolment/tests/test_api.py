"""The selection API: POST /enrolments/ (the hot path of the rush: Idempotency-Key, 201/200, every refusal changes
nothing), the places list and cancel, the children's pages of the API, and the classes API (create, list with
counts and filters, detail, update, cancel, waitlist with masked names)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from kehou.catalog.models import LibraryEntry
from kehou.conftest import City, api_as
from kehou.core.models import AuditEntry
from kehou.enrolment.models import ClassSession, CourseClass, Enrolment
from kehou.enrolment.services.selection import enrolment_select
from kehou.notify.models import Notification

from .factories import (
    MON_1600,
    NOW,
    TUE_1600,
    WED_1600,
    autumn_term,
    care_standard,
    family,
    key,
    make_class,
    open_window,
    school_admin,
    school_entry,
    staff_teacher,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The API reads the clock through kehou.core.clock.now: fixed at the builders' NOW (a Monday, 09:00)."""
    monkeypatch.setattr("kehou.core.clock.now", lambda: NOW)
    return NOW


def state() -> tuple[int, int, int, int]:
    """What a refused request must leave as it was: places, seats taken, audit rows, notifications."""
    taken = CourseClass.objects.aggregate(n=Sum("taken"))["n"] or 0
    return Enrolment.objects.count(), taken, AuditEntry.objects.count(), Notification.objects.count()


@pytest.fixture
def rush(city: City) -> dict[str, Any]:
    """School A1 offers 机器人编程 (2 seats, Mon 16:00) and 围棋 (1 seat, Tue 16:00); A2 offers 书法. Grade 3 of A1
    and of A2 have windows open now. The city's parent has pupil_a1 (A1, grade 3)."""
    admin = city.users["school_admin"]
    robots = make_class(city.a1, admin=admin, capacity=2, grades=(3, 3), name="机器人编程")
    chess = make_class(
        city.a1,
        admin=admin,
        capacity=1,
        grades=(3, 3),
        name="围棋",
        slots=[TUE_1600],
        teacher=city.users["teacher"].teacher_profile,
    )
    calligraphy = make_class(city.a2, capacity=5, grades=(3, 3), name="书法", slots=[WED_1600])
    window = open_window(city.a1, 3, admin=admin)
    open_window(city.a2, 3)
    return {
        "parent": city.users["parent"],
        "kid": city.pupil_a1,
        "robots": robots,
        "chess": chess,
        "calligraphy": calligraphy,
        "window": window,
    }


def select(client: Any, pupil: Any, course_class: Any, k: str | None = None, **body: Any) -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": k or key()}
    return client.post(
        "/api/v1/enrolments/", {"pupil": pupil.pk, "course_class": course_class.pk, **body}, format="json", **headers
    )


def fill(course_class: CourseClass, n: int) -> list[Enrolment]:
    rows = []
    for _ in range(n):
        parent, [kid] = family(course_class.school, grade=3)
        rows.append(
            enrolment_select(
                actor=parent, pupil_id=kid.pk, class_id=course_class.pk, request_key=key(), now=NOW
            ).enrolment
        )
    return rows


# --- POST /enrolments/ --------------------------------------------------------------------------------------------
def test_select_holds_a_seat_and_answers_201(rush: dict[str, Any]) -> None:
    client = api_as(rush["parent"])
    response = select(client, rush["kid"], rush["robots"])

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "status", "pupil", "course_class", "fee_fen", "hold_expires_at", "position", "created"}
    assert body["status"] == "held" and body["created"] is True and body["position"] is None
    assert body["pupil"] == rush["kid"].pk and body["course_class"] == rush["robots"].pk
    assert body["fee_fen"] == rush["robots"].fee_fen > 0
    assert body["hold_expires_at"].startswith("2026-08-24T09:15:00") and body["hold_expires_at"].endswith("+08:00")
    rush["robots"].refresh_from_db()
    assert rush["robots"].taken == 1


def test_a_retried_request_answers_200_with_the_same_place_and_writes_nothing(rush: dict[str, Any]) -> None:
    client = api_as(rush["parent"])
    k = key()
    first = select(client, rush["kid"], rush["robots"], k)
    before = state()

    again = select(client, rush["kid"], rush["robots"], k)

    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"] and again.json()["created"] is False
    assert state() == before


def test_the_key_may_come_in_the_body(rush: dict[str, Any]) -> None:
    client = api_as(rush["parent"])
    k = key()
    body = {"pupil": rush["kid"].pk, "course_class": rush["robots"].pk, "request_key": k}
    first = client.post("/api/v1/enrolments/", body, format="json")
    again = client.post("/api/v1/enrolments/", body, format="json", HTTP_IDEMPOTENCY_KEY=k)

    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"]


def test_a_key_reused_for_another_class_is_refused(rush: dict[str, Any]) -> None:
    client = api_as(rush["parent"])
    k = key()
    assert select(client, rush["kid"], rush["robots"], k).status_code == 201
    before = state()

    response = select(client, rush["kid"], rush["chess"], k)

    assert response.status_code == 409 and response.json()["error"]["code"] == "request_key_reused"
    assert state() == before


@pytest.mark.parametrize(
    ("headers", "extra", "code"),
    [
        ({}, {}, "request_key_required"),
        ({"HTTP_IDEMPOTENCY_KEY": "short"}, {}, "request_key_invalid"),
        ({"HTTP_IDEMPOTENCY_KEY": "x" * 65}, {}, "request_key_invalid"),
        ({"HTTP_IDEMPOTENCY_KEY": "has spaces in it"}, {}, "request_key_invalid"),
        ({"HTTP_IDEMPOTENCY_KEY": "key-aaaaaaaa"}, {"request_key": "key-bbbbbbbb"}, "request_key_mismatch"),
        ({}, {"request_key": "short"}, "request_key_invalid"),
    ],
)
def test_a_missing_or_bad_idempotency_key_is_400_and_changes_nothing(
    rush: dict[str, Any], headers: dict[str, str], extra: dict[str, Any], code: str
) -> None:
    before = state()
    body = {"pupil": rush["kid"].pk, "course_class": rush["robots"].pk, **extra}

    response = api_as(rush["parent"]).post("/api/v1/enrolments/", body, format="json", **headers)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert state() == before


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"pupil": "{kid}", "course_class": "{robots}", "seat": 1}, "unknown_field"),
        ({"pupil": "str", "course_class": "{robots}"}, "invalid"),
        ({"pupil": "{kid}", "course_class": 1.5}, "invalid"),
        ({"pupil": "{kid}", "course_class": "{robots}", "join_waitlist": "true"}, "invalid"),
        ({"pupil": True, "course_class": "{robots}"}, "invalid"),
        ({"course_class": "{robots}"}, "invalid"),
        ({"pupil": "{kid}", "course_class": 2**70}, "invalid"),
    ],
)
def test_bad_bodies_are_400_and_change_nothing(rush: dict[str, Any], body: dict[str, Any], code: str) -> None:
    values = {"{kid}": rush["kid"].pk, "{robots}": rush["robots"].pk}
    body = {k: values.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    if body.get("pupil") == "str":
        body["pupil"] = str(rush["kid"].pk)
    before = state()

    response = api_as(rush["parent"]).post("/api/v1/enrolments/", body, format="json", HTTP_IDEMPOTENCY_KEY=key())

    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == code
    assert state() == before


def test_a_body_that_is_not_json_is_400(rush: dict[str, Any]) -> None:
    before = state()
    response = api_as(rush["parent"]).post(
        "/api/v1/enrolments/", "{not json", content_type="application/json", HTTP_IDEMPOTENCY_KEY=key()
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "malformed_request"
    response = api_as(rush["parent"]).post("/api/v1/enrolments/", [1, 2], format="json", HTTP_IDEMPOTENCY_KEY=key())
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"
    assert state() == before


def test_a_full_class_is_409_class_full_and_changes_nothing(rush: dict[str, Any]) -> None:
    fill(rush["chess"], 1)
    before = state()

    response = select(api_as(rush["parent"]), rush["kid"], rush["chess"])

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "class_full" and error["fields"] == {"capacity": 1, "waiting": 0}
    assert state() == before


def test_a_full_class_offers_the_waitlist_with_the_position(rush: dict[str, Any]) -> None:
    fill(rush["chess"], 1)
    other, [other_kid] = family(rush["chess"].school, grade=3)
    assert select(api_as(other), other_kid, rush["chess"], join_waitlist=True).json()["position"] == 1

    response = select(api_as(rush["parent"]), rush["kid"], rush["chess"], join_waitlist=True)

    assert response.status_code == 201
    assert response.json()["status"] == "waiting" and response.json()["position"] == 2
    assert response.json()["hold_expires_at"] is None


def test_a_closed_window_is_409_and_changes_nothing(rush: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("kehou.core.clock.now", lambda: rush["window"].closes_at)
    before = state()

    response = select(api_as(rush["parent"]), rush["kid"], rush["robots"])

    assert response.status_code == 409 and response.json()["error"]["code"] == "window_closed"
    assert state() == before


def test_one_second_before_the_window_opens_is_409(city: City, monkeypatch: pytest.MonkeyPatch) -> None:
    admin = city.users["school_admin"]
    robots = make_class(city.a1, admin=admin, grades=(3, 3))
    window = open_window(city.a1, 3, admin=admin, opens_at=NOW + timedelta(hours=1))
    monkeypatch.setattr("kehou.core.clock.now", lambda: window.opens_at - timedelta(seconds=1))
    client = api_as(city.users["parent"])

    assert select(client, city.pupil_a1, robots).json()["error"]["code"] == "window_closed"
    monkeypatch.setattr("kehou.core.clock.now", lambda: window.opens_at)
    assert select(client, city.pupil_a1, robots).status_code == 201


def test_another_schools_class_and_someone_elses_child_are_404(rush: dict[str, Any], city: City) -> None:
    client = api_as(rush["parent"])
    before = state()

    other_school = select(client, rush["kid"], rush["calligraphy"])
    not_mine = select(client, city.pupil_a2, rush["calligraphy"])
    missing_class = client.post(
        "/api/v1/enrolments/", {"pupil": rush["kid"].pk, "course_class": 999999}, format="json",
        HTTP_IDEMPOTENCY_KEY=key(),
    )  # fmt: skip

    assert other_school.status_code == 404 and other_school.json()["error"]["code"] == "class_not_found"
    assert not_mine.status_code == 404 and not_mine.json()["error"]["code"] == "not_found"
    assert missing_class.status_code == 404
    assert state() == before


@pytest.mark.parametrize("role", ["school_admin", "teacher", "district_admin", "city_admin", "operator_staff"])
def test_only_a_guardian_selects(rush: dict[str, Any], city: City, role: str) -> None:
    before = state()
    response = select(api_as(city.users[role]), rush["kid"], rush["robots"])
    assert response.status_code == 404
    assert state() == before


def test_a_time_clash_is_409(rush: dict[str, Any], city: City) -> None:
    clash = make_class(city.a1, admin=city.users["school_admin"], grades=(3, 3), name="绘画", slots=[MON_1600])
    client = api_as(rush["parent"])
    assert select(client, rush["kid"], rush["robots"]).status_code == 201
    before = state()

    response = select(client, rush["kid"], clash)

    assert response.status_code == 409 and response.json()["error"]["code"] == "time_clash"
    assert state() == before


def test_too_many_classes_and_already_selected_are_409(city: City) -> None:
    admin = city.users["school_admin"]
    first = make_class(city.a1, admin=admin, grades=(3, 3), name="一", slots=[MON_1600])
    second = make_class(city.a1, admin=admin, grades=(3, 3), name="二", slots=[TUE_1600])
    open_window(city.a1, 3, admin=admin, max_classes=1)
    client = api_as(city.users["parent"])
    assert select(client, city.pupil_a1, first).status_code == 201
    before = state()

    again = select(client, city.pupil_a1, first)  # a new key: not a retry
    more = select(client, city.pupil_a1, second)

    assert again.status_code == 409 and again.json()["error"]["code"] == "already_selected"
    assert more.status_code == 409 and more.json()["error"]["code"] == "too_many_classes"
    assert state() == before


def test_the_hot_path_builds_no_scope_and_reads_no_more_than_the_service(rush: dict[str, Any], city: City) -> None:
    """The view adds no query to what enrolment_select itself does (measured on two identical first selections)."""
    other, [other_kid] = family(city.a1, grade=3)
    with CaptureQueriesContext(connection) as direct:
        enrolment_select(actor=other, pupil_id=other_kid.pk, class_id=rush["robots"].pk, request_key=key(), now=NOW)
    client = api_as(rush["parent"])
    with CaptureQueriesContext(connection) as via_api:
        assert select(client, rush["kid"], rush["robots"]).status_code == 201

    assert len(via_api) == len(direct)
    assert not [q for q in via_api.captured_queries if "role" in q["sql"].lower() and "assignment" in q["sql"].lower()]


def test_a_sold_out_answer_is_cheap(rush: dict[str, Any]) -> None:
    fill(rush["chess"], 1)
    client = api_as(rush["parent"])
    with CaptureQueriesContext(connection) as queries:
        assert select(client, rush["kid"], rush["chess"]).status_code == 409
    writes = [q for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE"))]
    assert writes == []
    assert len(queries) <= 8


# --- GET /enrolments/, cancel ------------------------------------------------------------------------------------
def test_parents_list_their_own_places_with_the_waitlist_position(rush: dict[str, Any], city: City) -> None:
    fill(rush["chess"], 1)
    client = api_as(rush["parent"])
    held = select(client, rush["kid"], rush["robots"]).json()["id"]
    waiting = select(client, rush["kid"], rush["chess"], join_waitlist=True).json()["id"]
    fill(rush["robots"], 1)  # another family's place: not the parent's to see

    rows = client.get("/api/v1/enrolments/").json()["results"]

    assert {r["id"] for r in rows} == {held, waiting}
    by_id = {r["id"]: r for r in rows}
    assert by_id[waiting]["position"] == 1 and by_id[held]["position"] is None
    assert by_id[held]["pupil"] == {"id": rush["kid"].pk, "name": rush["kid"].name}
    assert by_id[held]["school"]["id"] == city.a1.pk
    assert [r["id"] for r in client.get("/api/v1/enrolments/?status=waiting").json()["results"]] == [waiting]
    detail = client.get(f"/api/v1/enrolments/{waiting}/").json()
    assert detail["status"] == "waiting" and detail["position"] == 1


def test_school_lists_places_by_class_and_the_bureau_sees_names_masked(rush: dict[str, Any], city: City) -> None:
    fill(rush["robots"], 2)
    url = f"/api/v1/enrolments/?class={rush['robots'].pk}"

    school_rows = api_as(city.users["school_admin"]).get(url).json()["results"]
    bureau_rows = api_as(city.users["district_admin"]).get(url).json()["results"]

    assert len(school_rows) == 2 and len(bureau_rows) == 2
    names = {r["pupil"]["name"] for r in school_rows}
    assert all("*" not in n for n in names)
    assert all(r["pupil"]["name"].endswith("*") for r in bureau_rows)
    assert api_as(city.users["school_admin"]).get(f"/api/v1/enrolments/?school={city.a2.pk}").json()["count"] == 0


def test_a_parent_cancels_and_the_seat_goes_to_the_head_of_the_waitlist(rush: dict[str, Any]) -> None:
    client = api_as(rush["parent"])
    place = select(client, rush["kid"], rush["chess"]).json()["id"]
    other, [other_kid] = family(rush["chess"].school, grade=3)
    waiter = select(api_as(other), other_kid, rush["chess"], join_waitlist=True).json()["id"]

    response = client.post(f"/api/v1/enrolments/{place}/cancel", {"reason": "换课"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled" and response.json()["ended_reason"] == "换课"
    assert Enrolment.objects.get(pk=waiter).status == "held"
    assert Notification.objects.filter(user=other, kind="waitlist_promoted").exists()
    rush["chess"].refresh_from_db()
    assert rush["chess"].taken == 1
    # Cancelling twice answers the cancelled place.
    assert client.post(f"/api/v1/enrolments/{place}/cancel", {}, format="json").json()["status"] == "cancelled"


def test_cancel_refusals_change_nothing(rush: dict[str, Any], city: City) -> None:
    place = select(api_as(rush["parent"]), rush["kid"], rush["chess"]).json()["id"]
    stranger, _kids = family(city.a1, grade=3)
    url = f"/api/v1/enrolments/{place}/cancel"
    before = state()

    teacher = api_as(city.users["teacher"]).post(url, {}, format="json")  # the class's teacher sees it
    bureau = api_as(city.users["district_admin"]).post(url, {}, format="json")
    other_parent = api_as(stranger).post(url, {}, format="json")
    other_school = api_as(school_admin(city.a2)).post(url, {}, format="json")
    unknown = api_as(rush["parent"]).post(url, {"why": "x"}, format="json")

    assert teacher.status_code == 403 and teacher.json()["error"]["code"] == "not_guardian"
    assert bureau.status_code == 403
    assert other_parent.status_code == 404 and other_school.status_code == 404
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "unknown_field"
    assert state() == before


def test_the_school_may_cancel_a_place(rush: dict[str, Any], city: City) -> None:
    place = select(api_as(rush["parent"]), rush["kid"], rush["robots"]).json()["id"]
    response = api_as(city.users["school_admin"]).post(f"/api/v1/enrolments/{place}/cancel", {}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"


# --- children ----------------------------------------------------------------------------------------------------
def test_children_lists_the_callers_children_with_their_windows(rush: dict[str, Any], city: City) -> None:
    response = api_as(rush["parent"]).get("/api/v1/children/")

    assert response.status_code == 200
    [child] = response.json()
    assert child["id"] == rush["kid"].pk and child["school"]["id"] == city.a1.pk
    [window] = child["windows"]
    assert window["id"] == rush["window"].pk and window["state"] == "open"
    assert window["seconds_to_open"] == 0 and window["seconds_to_close"] == 47 * 3600
    assert api_as(city.users["school_admin"]).get("/api/v1/children/").json() == []


def test_a_childs_classes_show_seats_left_and_the_own_place(rush: dict[str, Any], city: City) -> None:
    fill(rush["chess"], 1)
    client = api_as(rush["parent"])
    select(client, rush["kid"], rush["chess"], join_waitlist=True)
    select(client, rush["kid"], rush["robots"])

    response = client.get(f"/api/v1/children/{rush['kid'].pk}/classes")

    assert response.status_code == 200
    body = response.json()
    assert body["pupil"]["id"] == rush["kid"].pk and body["windows"][0]["state"] == "open"
    by_name = {c["name"]: c for c in body["classes"]}
    assert set(by_name) == {"机器人编程", "围棋"}  # not A2's 书法
    robots, chess = by_name["机器人编程"], by_name["围棋"]
    assert robots["seats"] == 2 and robots["seats_left"] == 1
    assert robots["place"]["status"] == "held" and robots["place"]["hold_expires_at"].endswith("+08:00")
    assert chess["seats_left"] == 0 and chess["place"]["status"] == "waiting" and chess["place"]["position"] == 1
    assert robots["slots"] == [{"weekday": 0, "starts_at": "16:00:00", "ends_at": "17:00:00"}]
    assert robots["teacher"] and robots["course"] == "机器人编程" and robots["category"] == "科技"
    assert robots["unit_price_fen"] == 3000 and robots["fee_fen"] == 3000 * robots["session_count"]
    assert robots["fee_for_child_fen"] == robots["fee_fen"]


def test_someone_elses_child_is_404(rush: dict[str, Any], city: City) -> None:
    assert api_as(rush["parent"]).get(f"/api/v1/children/{city.pupil_a2.pk}/classes").status_code == 404
    assert api_as(city.users["school_admin"]).get(f"/api/v1/children/{city.pupil_a1.pk}/classes").status_code == 200
    assert api_as(city.users["school_admin"]).get(f"/api/v1/children/{city.pupil_a2.pk}/classes").status_code == 404


# --- classes -----------------------------------------------------------------------------------------------------
def class_body(city: City, **over: Any) -> dict[str, Any]:
    body = {
        "school": city.a1.pk,
        "term": autumn_term().pk,
        "entry": school_entry(city.a1, name="航模").pk,
        "teacher": staff_teacher(city.a1).pk,
        "room": "科技楼305",
        "capacity": 25,
        "grade_min": 3,
        "grade_max": 5,
        "unit_price_fen": 2500,
        "slots": [{"weekday": 2, "starts_at": "16:00", "ends_at": "17:00"}],
        "introduction": "从零开始做航模。",
        "materials_name": "航模套件",
        "materials_fee_fen": 8000,
    }
    return body | over


def test_a_school_admin_creates_a_class_with_sessions_from_the_calendar(city: City) -> None:
    before = AuditEntry.objects.count()
    response = api_as(city.users["school_admin"]).post("/api/v1/classes/", class_body(city), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "航模" and body["kind"] == "course" and body["pricing"] == "hour"
    assert body["seats"] == 25 and body["taken"] == 0 and body["seats_left"] == 25 and body["waiting"] == 0
    assert body["slots"] == [{"weekday": 2, "starts_at": "16:00:00", "ends_at": "17:00:00"}]
    assert body["session_count"] == len(body["sessions"]) > 10
    assert "2026-09-30" in {s["date"] for s in body["sessions"]}
    assert not {"2026-10-07"} & {s["date"] for s in body["sessions"]}  # National Day week
    assert body["fee_fen"] == 2500 * body["session_count"]
    assert body["materials_fee_fen"] == 8000 and body["flagged"] is False
    assert AuditEntry.objects.count() == before + 1


def test_basic_care_is_priced_per_day_within_its_standard(city: City) -> None:
    care_standard()
    body = class_body(city, kind="care", pricing="day", entry=None, unit_price_fen=1500, materials_fee_fen=0)
    body["slots"] = [{"weekday": d, "starts_at": "16:30", "ends_at": "18:00"} for d in range(5)]
    client = api_as(city.users["school_admin"])

    response = client.post("/api/v1/classes/", body, format="json")

    assert response.status_code == 201, response.content
    days = {s["date"] for s in response.json()["sessions"]}
    assert response.json()["fee_fen"] == 1500 * len(days) and response.json()["course"] is None
    too_dear = client.post("/api/v1/classes/", body | {"unit_price_fen": 2001}, format="json")
    assert too_dear.status_code == 400 and too_dear.json()["error"]["code"] == "fee_out_of_standard"


@pytest.mark.parametrize(
    ("over", "status", "code"),
    [
        ({"colour": "red"}, 400, "unknown_field"),
        ({"capacity": "25"}, 400, "invalid"),
        ({"capacity": 0}, 400, "invalid"),
        ({"slots": [{"weekday": 2, "starts_at": "16:00", "ends_at": "17:00", "x": 1}]}, 400, "invalid"),
        ({"slots": []}, 400, "no_slots"),
        ({"slots": [{"weekday": 5, "starts_at": "16:00", "ends_at": "17:00"}]}, 400, "slot_weekday"),
        ({"unit_price_fen": 99999}, 400, "fee_out_of_standard"),
        ({"grade_min": 5, "grade_max": 3}, 400, "grades_out_of_range"),
        ({"term": 999999}, 400, "unknown_term"),
        ({"teacher": 999999}, 400, "unknown_teacher"),
        ({"entry": 999999}, 404, "entry_not_found"),
        ({"school": 999999}, 404, "not_found"),
    ],
)
def test_bad_class_bodies_change_nothing(city: City, over: dict[str, Any], status: int, code: str) -> None:
    body = class_body(city, **over)
    before = (CourseClass.objects.count(), ClassSession.objects.count(), AuditEntry.objects.count())

    response = api_as(city.users["school_admin"]).post("/api/v1/classes/", body, format="json")

    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    assert (CourseClass.objects.count(), ClassSession.objects.count(), AuditEntry.objects.count()) == before


@pytest.mark.parametrize(
    ("role", "school", "status"),
    [
        ("school_admin", "a2", 404),  # another school
        ("district_admin", "a1", 403),  # the bureau sees the school but does not run it
        ("city_admin", "a1", 403),
        ("parent", "a1", 404),
        ("teacher", "a1", 404),
        ("expert", "a1", 404),
    ],
)
def test_who_may_not_create_a_class(city: City, role: str, school: str, status: int) -> None:
    body = class_body(city, school=getattr(city, school).pk)
    before = (CourseClass.objects.count(), AuditEntry.objects.count())
    response = api_as(city.users[role]).post("/api/v1/classes/", body, format="json")
    assert response.status_code == status, response.content
    assert (CourseClass.objects.count(), AuditEntry.objects.count()) == before


def test_class_list_counts_and_filters(rush: dict[str, Any], city: City) -> None:
    fill(rush["robots"], 1)
    fill(rush["chess"], 1)
    parent, [kid] = family(city.a1, grade=3)
    enrolment_select(
        actor=parent, pupil_id=kid.pk, class_id=rush["chess"].pk, request_key=key(), now=NOW, join_waitlist=True
    )
    client = api_as(city.users["school_admin"])

    rows = client.get("/api/v1/classes/").json()["results"]

    by_name = {r["name"]: r for r in rows}
    assert set(by_name) == {"机器人编程", "围棋"}  # A2's class is not the school's
    robots, chess = by_name["机器人编程"], by_name["围棋"]
    assert (robots["seats"], robots["taken"], robots["held"], robots["confirmed"], robots["waiting"]) == (2, 1, 1, 0, 0)
    assert (chess["seats"], chess["taken"], chess["held"], chess["waiting"], chess["seats_left"]) == (1, 1, 1, 1, 0)

    def names(query: str, who: Any = client) -> set[str]:
        return {r["name"] for r in who.get(f"/api/v1/classes/?{query}").json()["results"]}

    teacher_id = city.users["teacher"].teacher_profile.pk
    assert names(f"teacher={teacher_id}") == {"围棋"}
    assert names("search=机器") == {"机器人编程"}
    assert names("grade=4") == set() and names("grade=3") == {"机器人编程", "围棋"}
    assert names("kind=care") == set() and names("status=cancelled") == set()
    assert names(f"term={autumn_term().pk}") == {"机器人编程", "围棋"}
    city_admin = api_as(city.users["city_admin"])
    assert names(f"school={city.a2.pk}", city_admin) == {"书法"}
    assert names(f"district={city.district_b.code}", city_admin) == set()
    assert names("flagged=1") == set()
    LibraryEntry.objects.filter(pk=rush["chess"].entry.upstream_id).update(status="suspended")
    assert names("flagged=1") == {"围棋"}
    assert client.get(f"/api/v1/classes/{rush['chess'].pk}/").json()["flagged"] is True
    assert names("school=abc") == {"机器人编程", "围棋"}  # a non-number is no filter
    assert client.get(f"/api/v1/classes/?school={2**70}").status_code == 400


def test_class_detail_has_slots_and_sessions(rush: dict[str, Any], city: City) -> None:
    response = api_as(rush["parent"]).get(f"/api/v1/classes/{rush['robots'].pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["introduction"] == "" and body["slots"][0]["weekday"] == 0
    assert [s["number"] for s in body["sessions"]] == list(range(1, body["session_count"] + 1))
    assert api_as(rush["parent"]).get(f"/api/v1/classes/{rush['calligraphy'].pk}/").status_code == 404


def test_update_capacity_gives_new_seats_to_the_waitlist(rush: dict[str, Any], city: City) -> None:
    fill(rush["chess"], 1)
    parent, [kid] = family(city.a1, grade=3)
    waiter = enrolment_select(
        actor=parent, pupil_id=kid.pk, class_id=rush["chess"].pk, request_key=key(), now=NOW, join_waitlist=True
    ).enrolment
    client = api_as(city.users["school_admin"])

    response = client.post(
        f"/api/v1/classes/{rush['chess'].pk}/update",
        {"capacity": 2, "room": "二楼", "introduction": "新"},
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["seats"], body["taken"], body["room"], body["introduction"]) == (2, 2, "二楼", "新")
    waiter.refresh_from_db()
    assert waiter.status == "held"
    lower = client.post(f"/api/v1/classes/{rush['chess'].pk}/update", {"capacity": 1}, format="json")
    assert lower.status_code == 409 and lower.json()["error"]["code"] == "capacity_below_taken"


@pytest.mark.parametrize(
    ("role", "status"),
    [("district_admin", 403), ("parent", 404), ("teacher", 404), ("operator_staff", 404), ("expert", 404)],
)
def test_who_may_not_change_or_cancel_a_class(rush: dict[str, Any], city: City, role: str, status: int) -> None:
    client = api_as(city.users[role])
    pk = rush["chess"].pk  # the teacher's own class: readable by the teacher, the parent and the bureau
    before = state()

    update = client.post(f"/api/v1/classes/{pk}/update", {"capacity": 5}, format="json")
    cancel = client.post(f"/api/v1/classes/{pk}/cancel", {"reason": "x"}, format="json")

    assert (update.status_code, cancel.status_code) == (status, status)
    rush["chess"].refresh_from_db()
    assert rush["chess"].capacity == 1 and rush["chess"].status == "active"
    assert state() == before


def test_another_schools_class_is_404_for_a_school_admin(rush: dict[str, Any], city: City) -> None:
    client = api_as(city.users["school_admin"])
    pk = rush["calligraphy"].pk
    before = state()
    assert client.post(f"/api/v1/classes/{pk}/update", {"capacity": 9}, format="json").status_code == 404
    assert client.post(f"/api/v1/classes/{pk}/cancel", {"reason": "x"}, format="json").status_code == 404
    assert client.get(f"/api/v1/classes/{pk}/waitlist").status_code == 404
    assert state() == before


def test_cancel_a_class_ends_every_place_and_tells_the_guardians(rush: dict[str, Any], city: City) -> None:
    [held] = fill(rush["robots"], 1)
    client = api_as(city.users["school_admin"])
    url = f"/api/v1/classes/{rush['robots'].pk}/cancel"

    no_reason = client.post(url, {}, format="json")
    assert no_reason.status_code == 400 and no_reason.json()["error"]["code"] == "reason_required"
    response = client.post(url, {"reason": "老师调走"}, format="json")

    assert response.status_code == 200
    assert response.json() == {"id": rush["robots"].pk, "status": "cancelled", "enrolments_ended": 1}
    held.refresh_from_db()
    assert held.status == "cancelled"
    assert Notification.objects.filter(kind="class_cancelled").count() == 1
    again = client.post(url, {"reason": "x"}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "class_cancelled"


def test_the_waitlist_is_ordered_and_masks_names_for_those_outside_the_school(rush: dict[str, Any], city: City) -> None:
    fill(rush["chess"], 1)
    waiters = []
    for _ in range(2):
        parent, [kid] = family(city.a1, grade=3)
        enrolment_select(
            actor=parent, pupil_id=kid.pk, class_id=rush["chess"].pk, request_key=key(), now=NOW, join_waitlist=True
        )
        waiters.append(kid)
    enrolment_select(
        actor=rush["parent"],
        pupil_id=rush["kid"].pk,
        class_id=rush["chess"].pk,
        request_key=key(),
        now=NOW,
        join_waitlist=True,
    )
    url = f"/api/v1/classes/{rush['chess'].pk}/waitlist"

    school = api_as(city.users["school_admin"]).get(url).json()
    bureau = api_as(city.users["district_admin"]).get(url).json()
    parent = api_as(rush["parent"]).get(url).json()
    teacher = api_as(city.users["teacher"]).get(url).json()

    assert (school["capacity"], school["taken"], school["waiting"]) == (1, 1, 3)
    assert [r["position"] for r in school["results"]] == [1, 2, 3]
    assert [r["pupil"]["name"] for r in school["results"]] == [waiters[0].name, waiters[1].name, rush["kid"].name]
    assert [r["pupil"]["name"] for r in teacher["results"]] == [waiters[0].name, waiters[1].name, rush["kid"].name]
    assert all(r["pupil"]["name"].endswith("*") and "*" in r["pupil"]["name"] for r in bureau["results"])
    assert [r["pupil"]["name"] == rush["kid"].name for r in parent["results"]] == [False, False, True]
    assert parent["results"][0]["pupil"]["name"][0] == waiters[0].name[0]


def test_in_a_lottery_window_a_selection_is_an_application(city: City) -> None:
    admin = city.users["school_admin"]
    robots = make_class(city.a1, admin=admin, capacity=1, grades=(3, 3))
    open_window(city.a1, 3, admin=admin, mode="lottery")
    fill(robots, 2)  # applications take no seat
    before_taken = CourseClass.objects.get(pk=robots.pk).taken

    response = select(api_as(city.users["parent"]), city.pupil_a1, robots)

    assert response.status_code == 201
    assert response.json()["status"] == "applied" and response.json()["hold_expires_at"] is None
    assert CourseClass.objects.get(pk=robots.pk).taken == before_taken == 0
