"""Leave requests: who asks, who decides, and the roll call they fill."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from kehou.attendance.models import LeaveRequest, RollCallRow
from kehou.attendance.services import leave, rollcall
from kehou.conftest import City
from kehou.core.errors import KehouError
from kehou.testing import factories as f

from .factories import class_with_pupils, first_session, start_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def lesson(city: City) -> Any:
    cls, pupils = class_with_pupils(city.a1, 3, teacher=city.users["teacher"].teacher_profile)
    parent = f.guardian_of(pupils[0])
    return first_session(cls), pupils, parent


def code_of(call: Any) -> str:
    with pytest.raises(KehouError) as exc:
        call()
    return str(exc.value.code)


def test_a_guardian_asks_the_school_decides_and_the_open_sheet_follows(city: City, lesson: Any) -> None:
    session, pupils, parent = lesson
    before = start_of(session, -120)
    sheet = rollcall.roll_call_open(session=session, now=start_of(session, -20))
    req = leave.leave_request(
        actor=parent, pupil=pupils[0], kind="leave_sick", reason="发烧", session=session, now=before
    )
    assert req.status == "pending" and req.first_date == session.date
    # the class's teacher may decide a one-session leave; another school's admin may not see it
    assert code_of(lambda: leave.leave_decide(actor=city.users["nobody"], leave=req, approve=True, now=before)) == (
        "not_found"
    )
    leave.leave_decide(actor=city.users["teacher"], leave=req, approve=True, now=before)
    row = RollCallRow.objects.get(roll_call=sheet, pupil=pupils[0])
    assert (row.status_id, row.source) == ("leave_sick", "leave")
    sheet.refresh_from_db()
    assert sheet.leave == 1 and sheet.unmarked == 2
    assert code_of(
        lambda: leave.leave_decide(actor=city.users["school_admin"], leave=req, approve=True, now=before)
    ) == ("leave_decided")


def test_bad_leave_requests_write_nothing(city: City, lesson: Any) -> None:
    session, pupils, parent = lesson
    now = start_of(session, -60)
    ask = leave.leave_request
    assert code_of(
        lambda: ask(actor=parent, pupil=pupils[1], kind="leave_sick", reason="x", session=session, now=now)
    ) == ("not_found")  # someone else's child
    assert code_of(
        lambda: ask(actor=parent, pupil=pupils[0], kind="holiday", reason="x", session=session, now=now)
    ) == ("invalid_choice")
    assert code_of(
        lambda: ask(actor=parent, pupil=pupils[0], kind="leave_sick", reason=" ", session=session, now=now)
    ) == ("reason_required")
    late = start_of(session, 61)
    assert code_of(
        lambda: ask(actor=parent, pupil=pupils[0], kind="leave_sick", reason="x", session=session, now=late)
    ) == ("leave_in_past")
    yesterday = session.date - timedelta(days=1)
    assert (
        code_of(
            lambda: ask(actor=parent, pupil=pupils[0], kind="leave_sick", reason="x", first_date=yesterday, now=now)
        )
        == "leave_in_past"
    )
    assert not LeaveRequest.objects.exists()


def test_a_rejection_needs_a_reason_and_a_guardian_may_withdraw(city: City, lesson: Any) -> None:
    session, pupils, parent = lesson
    now = start_of(session, -600)
    req = leave.leave_request(
        actor=parent,
        pupil=pupils[0],
        kind="leave_personal",
        reason="探亲",
        first_date=session.date,
        last_date=session.date + timedelta(days=3),
        now=now,
    )
    assert code_of(lambda: leave.leave_decide(actor=city.users["school_admin"], leave=req, approve=False, now=now)) == (
        "reason_required"
    )
    # a range is the school's to decide, not the teacher's
    assert code_of(lambda: leave.leave_decide(actor=city.users["teacher"], leave=req, approve=True, now=now)) in (
        "not_school_admin",
        "not_found",
    )
    leave.leave_withdraw(actor=parent, leave=req, now=now)
    assert LeaveRequest.objects.get(pk=req.pk).status == "withdrawn"


def test_the_leave_api(city: City, lesson: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from kehou.conftest import api_as

    session, pupils, parent = lesson
    monkeypatch.setattr("kehou.core.clock.now", lambda: start_of(session, -180))
    api = api_as(parent)
    body = {"pupil": pupils[0].pk, "kind": "leave_sick", "reason": "咳嗽", "session": session.pk}
    r = api.post("/api/v1/leave-requests/", body, format="json")
    assert r.status_code == 201, r.content
    req = r.json()
    assert req["status"] == "pending" and req["session"] == session.pk
    assert [x["id"] for x in api.get("/api/v1/leave-requests/").json()["results"]] == [req["id"]]
    # someone else's child, a made-up session, an unknown field: refused, nothing written
    for bad, status in (
        ({**body, "pupil": pupils[1].pk}, 404),
        ({**body, "session": 999_999}, 404),
        ({**body, "colour": "red"}, 400),
        ({**body, "kind": "holiday"}, 400),
    ):
        assert api.post("/api/v1/leave-requests/", bad, format="json").status_code == status
    assert LeaveRequest.objects.count() == 1
    # another school's people do not see it; the school decides it
    assert api_as(city.users["nobody"]).get("/api/v1/leave-requests/").json()["results"] == []
    school = api_as(city.users["school_admin"])
    decided = school.post(f"/api/v1/leave-requests/{req['id']}/decide", {"approve": True}, format="json")
    assert decided.status_code == 200 and decided.json()["status"] == "approved"
    again = api.post(f"/api/v1/leave-requests/{req['id']}/withdraw", format="json")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "leave_decided")
    sheet = api_as(city.users["teacher"]).get(f"/api/v1/sessions/{session.pk}/roll-call")
    # the roll call opens 30 minutes before; asked at -180 the sheet is made early by the GET (read-only)
    assert sheet.status_code == 200
    assert {r["pupil"]["id"]: r["status"] for r in sheet.json()["rows"]}[pupils[0].pk] == "leave_sick"
