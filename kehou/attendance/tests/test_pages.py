"""The teacher's pages: the timetable, the session page (check-in and roll call by form), flagged check-ins."""

from __future__ import annotations

from typing import Any

import pytest

from kehou.attendance.models import CheckIn, RollCallRow
from kehou.conftest import City, page_as

from .factories import at_school, class_with_pupils, first_session, start_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def lesson(city: City) -> Any:
    cls, pupils = class_with_pupils(city.a1, 4, teacher=city.users["teacher"].teacher_profile)
    return first_session(cls), pupils


def at(monkeypatch: pytest.MonkeyPatch, when: Any) -> None:
    monkeypatch.setattr("kehou.core.clock.now", lambda: when)


def test_the_timetable_shows_the_day_and_the_session_now(
    city: City, lesson: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    session, _pupils = lesson
    at(monkeypatch, start_of(session, 5))
    page = page_as(city.users["teacher"])
    body = page.get(f"/timetable/?date={session.date.isoformat()}").content.decode()
    assert f'data-session="{session.pk}"' in body and 'data-state="in_progress"' in body
    assert f'data-now-session="{session.pk}"' in body
    week = page.get(f"/timetable/?date={session.date.isoformat()}&view=week").content.decode()
    assert f'data-session="{session.pk}"' in week
    assert page.get("/timetable/?date=not-a-date").status_code == 200
    # someone with no teacher profile has an empty one
    empty = page_as(city.users["school_admin"]).get("/timetable/")
    assert empty.status_code == 200 and "data-session" not in empty.content.decode()


def test_check_in_and_roll_call_by_form(city: City, lesson: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    session, pupils = lesson
    at(monkeypatch, start_of(session, -3))
    page = page_as(city.users["teacher"])
    body = page.get(f"/sessions/{session.pk}/").content.decode()
    assert "data-geo-check-in" in body and "data-roll-call-form" in body
    fix = at_school(city.a1, metres_north=30)
    r = page.post(f"/sessions/{session.pk}/check-in", fix, follow=True)
    assert (
        "30 m" in r.content.decode()
        or "30 米" in r.content.decode()
        or CheckIn.objects.filter(session=session).exists()
    )
    assert CheckIn.objects.get(session=session).outcome == "inside"
    form = {f"p{pupils[0].pk}": "absent", f"p{pupils[1].pk}": "leave_sick", "all_present": "1"}
    r = page.post(f"/sessions/{session.pk}/roll-call", form, follow=True)
    assert r.status_code == 200
    statuses = dict(RollCallRow.objects.values_list("pupil_id", "status_id"))
    assert statuses == {
        pupils[0].pk: "absent",
        pupils[1].pk: "leave_sick",
        pupils[2].pk: "present",
        pupils[3].pk: "present",
    }
    # a bad status sent by hand is refused with a message, nothing changed
    r = page.post(f"/sessions/{session.pk}/roll-call", {f"p{pupils[2].pk}": "asleep"}, follow=True)
    assert RollCallRow.objects.get(pupil=pupils[2]).status_id == "present"
    assert r.status_code == 200


def test_the_school_watches_and_names_a_substitute(city: City, lesson: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from kehou.testing import factories as f

    session, _pupils = lesson
    other = f.teacher_at(city.a1)
    at(monkeypatch, start_of(session, -60))
    school = page_as(city.users["school_admin"])
    body = school.get(f"/sessions/{session.pk}/").content.decode()
    assert 'id="substitute"' in body
    school.post(f"/sessions/{session.pk}/substitute", {"teacher": other.teacher_profile.pk, "reason": "病假"})
    # the substitute now runs it; the class's own teacher sees it as replaced and cannot check in
    at(monkeypatch, start_of(session))
    sub = page_as(other)
    assert "data-geo-check-in" in sub.get(f"/sessions/{session.pk}/").content.decode()
    sub.post(f"/sessions/{session.pk}/check-in", at_school(city.a1))
    assert CheckIn.objects.get(session=session).teacher_id == other.teacher_profile.pk
    own = page_as(city.users["teacher"]).get(f"/timetable/?date={session.date.isoformat()}").content.decode()
    assert f'data-session="{session.pk}"' in own
    assert "data-geo-check-in" not in page_as(city.users["teacher"]).get(f"/sessions/{session.pk}/").content.decode()
    assert page_as(city.users["nobody"]).get(f"/sessions/{session.pk}/").status_code == 404


def test_flagged_check_ins_page_decides_make_ups(city: City, lesson: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    session, _pupils = lesson
    at(monkeypatch, start_of(session))
    teacher = page_as(city.users["teacher"])
    teacher.post(f"/sessions/{session.pk}/check-in", at_school(city.a1, metres_north=5000))
    teacher.post(f"/sessions/{session.pk}/makeup", {"reason": "GPS 漂移"})
    row = CheckIn.objects.get(session=session)
    assert row.makeup == "pending"
    school = page_as(city.users["school_admin"])
    listing = school.get("/check-ins/?makeup=pending").content.decode()
    assert "GPS 漂移" in listing and f"/check-ins/{row.pk}/decide" in listing
    operator = page_as(city.users["operator_staff"]).get("/check-ins/").content.decode()
    assert session.course_class.name in operator and f"/check-ins/{row.pk}/decide" not in operator
    school.post(f"/check-ins/{row.pk}/decide", {"decision": "reject"})  # no reason: refused
    row.refresh_from_db()
    assert row.makeup == "pending"
    school.post(f"/check-ins/{row.pk}/decide", {"decision": "approve"})
    row.refresh_from_db()
    assert row.makeup == "approved"
    assert school.get("/check-ins/?format=xlsx").status_code == 200


def test_a_parent_asks_leave_and_the_school_decides_on_the_pages(
    city: City, lesson: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kehou.attendance.models import LeaveRequest
    from kehou.testing import factories as f

    session, pupils = lesson
    parent = f.guardian_of(pupils[0])
    at(monkeypatch, start_of(session, -24 * 60))
    page = page_as(parent)
    body = page.get("/parent/leave/").content.decode()
    assert "data-leave-form" in body and f'value="{session.pk}"' in body
    bad = page.post("/parent/leave/", {"pupil": pupils[0].pk, "kind": "leave_sick", "reason": ""})
    assert bad.status_code == 400 and not LeaveRequest.objects.exists()
    other = page.post(
        "/parent/leave/", {"pupil": pupils[1].pk, "kind": "leave_sick", "reason": "x", "session": session.pk}
    )
    assert other.status_code in (400, 404) and not LeaveRequest.objects.exists()
    page.post("/parent/leave/", {"pupil": pupils[0].pk, "kind": "leave_sick", "reason": "发烧", "session": session.pk})
    req = LeaveRequest.objects.get()
    school = page_as(city.users["school_admin"])
    listing = school.get("/leave-requests/?status=pending").content.decode()
    assert "发烧" in listing and f"/leave-requests/{req.pk}/decide" in listing
    school.post(f"/leave-requests/{req.pk}/decide", {"decision": "reject"})  # no reason: refused
    assert LeaveRequest.objects.get().status == "pending"
    school.post(f"/leave-requests/{req.pk}/decide", {"decision": "reject", "reason": "当天测验"})
    assert LeaveRequest.objects.get().status == "rejected"
    assert "当天测验" in page.get("/parent/leave/").content.decode()
    assert page_as(city.users["nobody"]).get("/leave-requests/").status_code == 200
    assert "发烧" not in page_as(city.users["nobody"]).get("/leave-requests/").content.decode()
