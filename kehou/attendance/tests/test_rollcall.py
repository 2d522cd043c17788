"""The roll call: the sheet, the live counts, all present, leave on the sheet, bad marks, closing, query counts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kehou.attendance.models import BUILTIN, AttendanceStatus, CheckIn, LeaveRequest, RollCall, RollCallRow
from kehou.attendance.services import rollcall
from kehou.conftest import City, api_as
from kehou.enrolment.models import Enrolment
from kehou.enrolment.tests import factories as ef

from .factories import class_with_pupils, first_session, start_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def lesson(city: City) -> Any:
    cls, pupils = class_with_pupils(city.a1, 6, teacher=city.users["teacher"].teacher_profile)
    return first_session(cls), pupils


def at(monkeypatch: pytest.MonkeyPatch, when: Any) -> None:
    monkeypatch.setattr("kehou.core.clock.now", lambda: when)


def test_the_builtin_statuses_are_installed_as_the_contract_says() -> None:
    rows = {s.code: (s.label_zh, s.label_en, s.group, s.counts_as_attended) for s in AttendanceStatus.objects.all()}
    assert rows == {code: (zh, en, g, a) for code, (zh, en, g, a, _p) in BUILTIN.items()}
    assert all(AttendanceStatus.objects.filter(builtin=True).values_list("builtin", flat=True))


def test_marking_updates_the_counts_and_all_present_fills_only_the_rest(
    city: City, lesson: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    session, pupils = lesson
    at(monkeypatch, start_of(session, 2))
    api = api_as(city.users["teacher"])
    sheet = api.get(f"/api/v1/sessions/{session.pk}/roll-call").json()
    assert sheet | {"rows": None} == {
        "session": session.pk,
        "closed": False,
        "expected": 6,
        "present": 0,
        "absent": 0,
        "leave": 0,
        "unmarked": 6,
        "rows": None,
    }
    assert {r["pupil"]["id"] for r in sheet["rows"]} == {p.pk for p in pupils}
    assert {r["pupil"]["name"] for r in sheet["rows"]} == {p.name for p in pupils}  # the teacher reads names
    marks = [{"pupil": pupils[0].pk, "status": "absent"}, {"pupil": pupils[1].pk, "status": "late"}]
    counts = api.post(f"/api/v1/sessions/{session.pk}/roll-call", {"marks": marks}, format="json").json()
    assert (counts["present"], counts["absent"], counts["unmarked"]) == (1, 1, 4)
    done = api.post(f"/api/v1/sessions/{session.pk}/roll-call", {"marks": [], "all_present": True}, format="json")
    assert (done.json()["present"], done.json()["absent"], done.json()["unmarked"]) == (5, 1, 0)
    by_pupil = {r["pupil"]["id"]: r["status"] for r in done.json()["rows"]}
    assert by_pupil[pupils[0].pk] == "absent" and by_pupil[pupils[1].pk] == "late"
    # the school and the operator read the same counts; the operator reads masked names
    school = api_as(city.users["school_admin"]).get(f"/api/v1/sessions/{session.pk}/roll-call").json()
    operator = api_as(city.users["operator_staff"]).get(f"/api/v1/sessions/{session.pk}/roll-call").json()
    assert school["present"] == operator["present"] == 5
    assert all("*" in r["pupil"]["name"] for r in operator["rows"])
    assert api_as(city.users["nobody"]).get(f"/api/v1/sessions/{session.pk}/roll-call").status_code == 404


@pytest.mark.parametrize(
    ("marks", "code"),
    [
        ([{"pupil": 999_999, "status": "present"}], "pupil_not_on_sheet"),
        ([{"pupil": "first", "status": "present"}], "invalid"),
        ([{"status": "present"}], "invalid"),
        ([{"pupil": "PUPIL0", "status": "asleep"}], "status_unknown"),
        ([{"pupil": "PUPIL0", "status": "unmarked"}], "status_unknown"),
        ([{"pupil": "PUPIL0", "status": "present"}, {"pupil": "PUPIL0", "status": "absent"}], "invalid"),
        ([{"pupil": "PUPIL0", "status": "present"}, {"pupil": 999_999, "status": "present"}], "pupil_not_on_sheet"),
    ],
)
def test_bad_marks_change_nothing(
    city: City, lesson: Any, monkeypatch: pytest.MonkeyPatch, marks: list[dict[str, Any]], code: str
) -> None:
    session, pupils = lesson
    at(monkeypatch, start_of(session, 2))
    marks = [{k: (pupils[0].pk if v == "PUPIL0" else v) for k, v in m.items()} for m in marks]
    api = api_as(city.users["teacher"])
    api.get(f"/api/v1/sessions/{session.pk}/roll-call")
    r = api.post(f"/api/v1/sessions/{session.pk}/roll-call", {"marks": marks}, format="json")
    assert r.status_code == 400, r.content
    assert r.json()["error"]["code"] == code
    assert not RollCallRow.objects.exclude(status_id="unmarked").exists()
    assert RollCall.objects.get(session=session).unmarked == 6


def test_a_pupil_from_another_class_is_not_on_the_sheet(
    city: City, lesson: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    session, _pupils = lesson
    _other, strangers = class_with_pupils(city.a1, 1)
    at(monkeypatch, start_of(session))
    r = api_as(city.users["teacher"]).post(
        f"/api/v1/sessions/{session.pk}/roll-call",
        {"marks": [{"pupil": strangers[0].pk, "status": "present"}]},
        format="json",
    )
    assert r.json()["error"]["code"] == "pupil_not_on_sheet"


def test_who_may_mark_and_when(city: City, lesson: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    session, pupils = lesson
    mark = {"marks": [{"pupil": pupils[0].pk, "status": "present"}]}
    url = f"/api/v1/sessions/{session.pk}/roll-call"
    at(monkeypatch, start_of(session, -31))
    assert api_as(city.users["teacher"]).post(url, mark, format="json").json()["error"]["code"] == "roll_call_not_open"
    at(monkeypatch, start_of(session, 10))
    for role, status in (("district_admin", 403), ("operator_staff", 403), ("parent", 403), ("nobody", 404)):
        assert api_as(city.users[role]).post(url, mark, format="json").status_code == status, role
    # the school may correct (and it is audited)
    assert api_as(city.users["school_admin"]).post(url, mark, format="json").status_code == 200
    assert RollCallRow.objects.get(pupil=pupils[0]).source == "school"
    at(monkeypatch, start_of(session, 60 + 121))
    closed = api_as(city.users["teacher"]).post(url, mark, format="json")
    assert closed.json()["error"]["code"] == "roll_call_closed"


def test_approved_leave_is_on_the_sheet_before_the_teacher_opens_it(
    city: City, lesson: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    session, pupils = lesson
    LeaveRequest.objects.create(
        pupil=pupils[2],
        kind="leave_sick",
        first_date=session.date,
        last_date=session.date + timedelta(days=2),
        reason="发烧",
        status="approved",
        requested_by=city.users["parent"],
        requested_at=start_of(session, -600),
    )
    LeaveRequest.objects.create(
        pupil=pupils[3],
        kind="leave_personal",
        first_date=session.date,
        last_date=session.date,
        reason="家中有事",
        status="pending",
        requested_by=city.users["parent"],
        requested_at=start_of(session, -600),
    )
    at(monkeypatch, start_of(session))
    api = api_as(city.users["teacher"])
    sheet = api.get(f"/api/v1/sessions/{session.pk}/roll-call").json()
    by_pupil = {r["pupil"]["id"]: r["status"] for r in sheet["rows"]}
    assert by_pupil[pupils[2].pk] == "leave_sick" and by_pupil[pupils[3].pk] == "unmarked"
    assert sheet["leave"] == 1 and sheet["unmarked"] == 5
    done = api.post(f"/api/v1/sessions/{session.pk}/roll-call", {"marks": [], "all_present": True}, format="json")
    assert done.json()["leave"] == 1 and done.json()["present"] == 5


def test_a_place_cancelled_after_the_session_stays_on_its_sheet(city: City, lesson: Any) -> None:
    session, pupils = lesson
    Enrolment.objects.filter(pupil=pupils[0]).update(status="cancelled", status_changed_at=start_of(session, 24 * 60))
    Enrolment.objects.filter(pupil=pupils[1]).update(status="cancelled", status_changed_at=start_of(session, -60))
    sheet = rollcall.roll_call_open(session=session, now=start_of(session, 30 * 60))
    on = set(RollCallRow.objects.filter(roll_call=sheet).values_list("pupil_id", flat=True))
    assert pupils[0].pk in on and pupils[1].pk not in on and sheet.expected == 5


def test_closing_keeps_the_unmarked_and_records_a_missed_check_in(city: City, lesson: Any) -> None:
    session, _pupils = lesson
    assert rollcall.roll_calls_close(now=start_of(session, 30)) == {"roll_calls_closed": 0, "check_ins_missed": 0}
    assert rollcall.roll_calls_close(now=start_of(session, 61)) == {"roll_calls_closed": 0, "check_ins_missed": 1}
    result = rollcall.roll_calls_close(now=start_of(session, 60 + 121))
    assert result == {"roll_calls_closed": 1, "check_ins_missed": 0}
    sheet = RollCall.objects.get(session=session)
    assert sheet.closed_at is not None and sheet.unmarked == sheet.expected == 6
    assert CheckIn.objects.get(session=session).outcome == "missed"
    assert rollcall.roll_calls_close(now=start_of(session, 300)) == {"roll_calls_closed": 0, "check_ins_missed": 0}


def test_marking_a_class_of_40_takes_a_fixed_number_of_queries(city: City, monkeypatch: pytest.MonkeyPatch) -> None:
    from .factories import class_with_pupils as make

    def queries(n: int, slot: Any) -> int:
        cls, pupils = make(city.a1, n, teacher=city.users["teacher"].teacher_profile, slots=[slot])
        session = first_session(cls)
        at(monkeypatch, start_of(session, 1))
        api = api_as(city.users["teacher"])
        api.get(f"/api/v1/sessions/{session.pk}/roll-call")  # the sheet is made on first read
        statuses = ["present", "late", "absent", "leave_sick", "left_early"]
        marks = [{"pupil": p.pk, "status": statuses[i % len(statuses)]} for i, p in enumerate(pupils)]
        with CaptureQueriesContext(connection) as ctx:
            r = api.post(f"/api/v1/sessions/{session.pk}/roll-call", {"marks": marks}, format="json")
        assert r.status_code == 200 and r.json()["unmarked"] == 0
        return len(ctx.captured_queries)

    ten, forty = queries(10, ef.TUE_1600), queries(40, ef.WED_1600)
    assert forty == ten, (ten, forty)
    assert forty <= 25
