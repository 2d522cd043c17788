"""Check-in by the phone's location: the window, the accuracy circle, coordinate systems, make-ups, bad input."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from kehou.attendance import geo
from kehou.attendance.models import CheckIn
from kehou.attendance.services import checkin
from kehou.conftest import City, api_as
from kehou.core.models import AuditEntry
from kehou.enrolment.tests import factories as ef

from .factories import at_school, class_with_pupils, first_session, start_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def lesson(city: City) -> Any:
    cls, _pupils = class_with_pupils(city.a1, 3, teacher=city.users["teacher"].teacher_profile)
    return first_session(cls)


def post(user: Any, session: Any, body: dict[str, Any], monkeypatch: pytest.MonkeyPatch, at: Any) -> Any:
    monkeypatch.setattr("kehou.core.clock.now", lambda: at)
    return api_as(user).post(f"/api/v1/sessions/{session.pk}/check-in", body, format="json")


def test_a_teacher_at_the_gate_on_time_is_inside(city: City, lesson: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    r = post(city.users["teacher"], lesson, at_school(city.a1, metres_north=50), monkeypatch, start_of(lesson, -10))
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["outcome"] == "inside" and body["on_time"] is True and 45 <= body["distance_m"] <= 55
    row = CheckIn.objects.get(session=lesson)
    assert row.latitude is not None and not row.flagged
    assert AuditEntry.objects.filter(action="attendance.check_in").count() == 1


def test_late_outside_and_uncertain_are_recorded_and_flagged(
    city: City, lesson: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    far = at_school(city.a1, metres_north=2000)
    r = post(city.users["teacher"], lesson, far, monkeypatch, start_of(lesson, 20))
    assert r.status_code == 201
    assert r.json() | {"distance_m": 0} == r.json() | {
        "outcome": "outside",
        "on_time": False,
        "timing": "late",
        "distance_m": 0,
    }
    row = CheckIn.objects.get(session=lesson)
    assert row.flagged
    # the school and the operator see it among the flagged
    for role in ("school_admin", "operator_staff"):
        flagged = api_as(city.users[role]).get("/api/v1/check-ins/").json()["results"]
        assert [c["session"] for c in flagged] == [lesson.pk]
    # a school elsewhere does not
    assert api_as(city.users["nobody"]).get("/api/v1/check-ins/").json()["results"] == []


def test_an_imprecise_fix_at_the_gate_is_uncertain(city: City, lesson: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    body = at_school(city.a1, metres_north=100) | {"accuracy_m": 500}
    assert post(city.users["teacher"], lesson, body, monkeypatch, start_of(lesson)).json()["outcome"] == "uncertain"


def test_gcj02_is_converted_on_the_server(city: City, lesson: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # The school's own point, as a Chinese map SDK reports it: a few hundred metres off in raw numbers.
    glat, glng = geo.wgs84_to_gcj02(float(city.a1.latitude), float(city.a1.longitude))
    body = {"lat": glat, "lng": glng, "accuracy_m": 15, "crs": "gcj02"}
    r = post(city.users["teacher"], lesson, body, monkeypatch, start_of(lesson))
    assert r.json()["outcome"] == "inside" and r.json()["distance_m"] <= 1


def test_a_school_stated_in_gcj02_is_converted_too(city: City, lesson: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    glat, glng = geo.wgs84_to_gcj02(float(city.a1.latitude), float(city.a1.longitude))
    type(city.a1).objects.filter(pk=city.a1.pk).update(
        latitude=f"{glat:.6f}", longitude=f"{glng:.6f}", coordinate_system="gcj02"
    )
    r = post(city.users["teacher"], lesson, at_school(city.a1), monkeypatch, start_of(lesson))
    assert r.json()["distance_m"] <= 1


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"lat": 91, "lng": 115.8, "accuracy_m": 10}, "coordinates_invalid"),
        ({"lat": 28.6, "lng": -181, "accuracy_m": 10}, "coordinates_invalid"),
        ({"lat": "NaN", "lng": 115.8, "accuracy_m": 10}, "coordinates_invalid"),
        ({"lat": "1e999", "lng": 115.8, "accuracy_m": 10}, "coordinates_invalid"),
        ({"lat": "north", "lng": 115.8, "accuracy_m": 10}, "coordinates_invalid"),
        ({"lat": True, "lng": 115.8, "accuracy_m": 10}, "coordinates_invalid"),
        ({"lat": None, "lng": 115.8, "accuracy_m": 10}, "invalid"),
        ({"lat": 28.6, "lng": 115.8, "accuracy_m": 0}, "accuracy_invalid"),
        ({"lat": 28.6, "lng": 115.8, "accuracy_m": -5}, "accuracy_invalid"),
        ({"lat": 28.6, "lng": 115.8, "accuracy_m": 1e9}, "accuracy_invalid"),
        ({"lat": 28.6, "lng": 115.8, "accuracy_m": 10, "crs": "bd09"}, "crs_unknown"),
        ({"lat": 28.6, "lng": 115.8, "accuracy_m": 10, "speed": 3}, "unknown_field"),
        ({"lng": 115.8, "accuracy_m": 10}, "invalid"),
    ],
)
def test_bad_fixes_are_refused_and_nothing_is_written(
    city: City, lesson: Any, monkeypatch: pytest.MonkeyPatch, body: dict[str, Any], code: str
) -> None:
    body = {"crs": "wgs84", **body}
    r = post(city.users["teacher"], lesson, body, monkeypatch, start_of(lesson))
    assert r.status_code == 400, r.content
    assert r.json()["error"]["code"] == code
    assert not CheckIn.objects.exists() and not AuditEntry.objects.filter(action="attendance.check_in").exists()


def test_nan_as_a_json_literal_is_a_malformed_body(city: City, lesson: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("kehou.core.clock.now", lambda: start_of(lesson))
    r = api_as(city.users["teacher"]).post(
        f"/api/v1/sessions/{lesson.pk}/check-in",
        '{"lat": NaN, "lng": 115.8, "accuracy_m": 10, "crs": "wgs84"}',
        content_type="application/json",
    )
    assert r.status_code == 400 and not CheckIn.objects.exists()


def test_the_window_twice_and_strangers(city: City, lesson: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    teacher = city.users["teacher"]
    fix = at_school(city.a1)
    early = post(teacher, lesson, fix, monkeypatch, start_of(lesson, -31))
    assert (early.status_code, early.json()["error"]["code"]) == (409, "check_in_too_early")
    ended = post(teacher, lesson, fix, monkeypatch, start_of(lesson, 60))
    assert (ended.status_code, ended.json()["error"]["code"]) == (409, "check_in_closed")
    # the school sees the session but does not run it: 403; another school's people: 404
    school = post(city.users["school_admin"], lesson, fix, monkeypatch, start_of(lesson))
    assert (school.status_code, school.json()["error"]["code"]) == (403, "not_session_teacher")
    assert post(city.users["nobody"], lesson, fix, monkeypatch, start_of(lesson)).status_code == 404
    assert post(city.users["parent"], lesson, fix, monkeypatch, start_of(lesson)).status_code in (403, 404)
    assert not CheckIn.objects.exists()
    assert post(teacher, lesson, fix, monkeypatch, start_of(lesson, 15)).json()["on_time"] is True
    again = post(teacher, lesson, fix, monkeypatch, start_of(lesson, 16))
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_checked_in")
    assert CheckIn.objects.count() == 1


def test_a_make_up_clears_a_flag_once_the_school_approves(
    city: City, lesson: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    teacher = city.users["teacher"]
    post(teacher, lesson, at_school(city.a1, metres_north=3000), monkeypatch, start_of(lesson))
    api = api_as(teacher)
    no_reason = api.post(f"/api/v1/sessions/{lesson.pk}/check-in/makeup", {"reason": " "}, format="json")
    assert no_reason.json()["error"]["code"] == "reason_required"
    r = api.post(f"/api/v1/sessions/{lesson.pk}/check-in/makeup", {"reason": "定位漂移，在校门口"}, format="json")
    assert r.status_code == 200 and r.json()["makeup"] == "pending"
    twice = api.post(f"/api/v1/sessions/{lesson.pk}/check-in/makeup", {"reason": "again"}, format="json")
    assert twice.json()["error"]["code"] == "makeup_not_needed"
    row = CheckIn.objects.get(session=lesson)
    # the teacher cannot approve their own; the school can, once
    assert api.post(f"/api/v1/check-ins/{row.pk}/decide", {"approve": True}, format="json").status_code in (403, 404)
    school = api_as(city.users["school_admin"])
    pending = school.get("/api/v1/check-ins/?makeup=pending").json()["results"]
    assert [p["id"] for p in pending] == [row.pk]
    assert (
        school.post(f"/api/v1/check-ins/{row.pk}/decide", {"approve": False}, format="json").json()["error"]["code"]
        == "reason_required"
    )
    assert school.post(f"/api/v1/check-ins/{row.pk}/decide", {"approve": True}, format="json").status_code == 200
    assert (
        school.post(f"/api/v1/check-ins/{row.pk}/decide", {"approve": True}, format="json").json()["error"]["code"]
        == "makeup_decided"
    )
    row.refresh_from_db()
    assert row.makeup == "approved" and not row.flagged
    assert school.get("/api/v1/check-ins/").json()["results"] == []


def test_the_monthly_make_up_quota(city: City, settings: Any) -> None:
    settings.KEHOU_ATTENDANCE = {**settings.KEHOU_ATTENDANCE, "MAKEUPS_PER_MONTH": 2}
    teacher = city.users["teacher"]
    cls, _pupils = class_with_pupils(city.a1, 1, teacher=teacher.teacher_profile)
    sessions = list(cls.sessions.order_by("number")[:3])
    assert len({s.date.month for s in sessions}) == 1
    after = start_of(sessions[-1], 120)
    for s in sessions[:2]:
        checkin.makeup_request(actor=teacher, session=s, reason="忘记签到", now=after)  # missed: no check-in
    with pytest.raises(Exception) as exc:
        checkin.makeup_request(actor=teacher, session=sessions[2], reason="忘记签到", now=after)
    assert getattr(exc.value, "code", "") == "makeup_quota_exceeded"
    assert CheckIn.objects.exclude(makeup="").count() == 2
    # next month the quota is whole again (the count is per calendar month of the request)
    checkin.makeup_request(actor=teacher, session=sessions[2], reason="忘记签到", now=after + timedelta(days=31))


def test_raw_coordinates_are_purged_after_the_retention_period(
    city: City, lesson: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    post(city.users["teacher"], lesson, at_school(city.a1, metres_north=40), monkeypatch, start_of(lesson))
    at = start_of(lesson)
    assert checkin.coordinates_purge(now=at + timedelta(days=29)) == 0
    assert checkin.coordinates_purge(now=at + timedelta(days=31)) == 1
    row = CheckIn.objects.get(session=lesson)
    assert row.latitude is None and row.longitude is None and row.purged_at is not None
    assert row.outcome == "inside" and 35 <= (row.distance_m or 0) <= 45


def test_the_session_list_shows_the_check_in(city: City, lesson: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    post(city.users["teacher"], lesson, at_school(city.a1), monkeypatch, start_of(lesson, -5))
    monkeypatch.setattr("kehou.core.clock.now", lambda: start_of(lesson, 5))
    r = api_as(city.users["teacher"]).get(f"/api/v1/teacher/sessions/?date={lesson.date.isoformat()}")
    assert r.status_code == 200
    (card,) = r.json()
    assert card["id"] == lesson.pk and card["check_in"]["outcome"] == "inside" and card["state"] == "checked_in"
    assert card["course_class"]["name"] and card["school"] == {"id": city.a1.pk, "name": city.a1.name}
    assert card["roll_call"] == {"expected": 0, "present": 0, "absent": 0, "leave": 0, "unmarked": 0}
    assert card["starts_at"].endswith("+08:00")
    bad = api_as(city.users["teacher"]).get("/api/v1/teacher/sessions/?date=2026-13-01")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid"
    # the session's week, for the week view
    until = (lesson.date + timedelta(days=6)).isoformat()
    week = api_as(city.users["teacher"]).get(f"/api/v1/teacher/sessions/?date={lesson.date.isoformat()}&until={until}")
    assert [c["id"] for c in week.json()][:1] == [lesson.pk]
    assert lesson.date >= ef.NOW.date()  # the class's term starts after the factories' NOW
