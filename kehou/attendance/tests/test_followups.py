"""The follow-up queue (the operator's exceptions): opened, cleared and escalated from the evidence, closed by hand;
the live view of schools (API and page) and who may follow its topics."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from openpyxl import load_workbook

from kehou.attendance.apps import _may_follow_district, _may_follow_operator, _may_follow_school
from kehou.attendance.models import FollowUp, ensure_builtin_statuses
from kehou.attendance.services import checkin, rollcall
from kehou.attendance.services.common import live_topics
from kehou.attendance.services.followups import followups_scan
from kehou.conftest import City, api_as
from kehou.core.models import AuditEntry
from kehou.notify.models import Notification

from .factories import at_school, class_with_pupils, first_session, start_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def lesson(city: City) -> Any:
    ensure_builtin_statuses()
    cls, pupils = class_with_pupils(city.a1, 3, teacher=city.users["teacher"].teacher_profile)
    session = first_session(cls)
    session.pupils = pupils
    return session


@pytest.fixture
def elsewhere(city: City) -> Any:
    """A session at b1, a school the operator is not authorised for."""
    from kehou.testing import factories as f

    teacher = f.teacher_at(city.b1)
    cls, _pupils = class_with_pupils(city.b1, 2, teacher=teacher.teacher_profile, name="书法")
    return first_session(cls)


def rows(session: Any) -> dict[str, FollowUp]:
    return {f.kind: f for f in FollowUp.objects.filter(session=session)}


def told(user: Any) -> int:
    return Notification.objects.filter(user=user, kind="follow_up").count()


def test_no_check_in_opens_after_ten_minutes_and_escalates_teacher_school_operator(city: City, lesson: Any) -> None:
    teacher, school, operator = city.users["teacher"], city.users["school_admin"], city.users["operator_staff"]
    assert followups_scan(now=start_of(lesson, 9))["follow_ups_opened"] == 0
    assert followups_scan(now=start_of(lesson, 10))["follow_ups_opened"] == 1
    row = rows(lesson)["no_check_in"]
    assert row.level == "teacher" and row.is_open and row.school_id == city.a1.pk
    assert (told(teacher), told(school), told(operator)) == (1, 0, 0)
    # the same moment again changes nothing
    assert followups_scan(now=start_of(lesson, 10)) == dict.fromkeys(
        ["follow_ups_opened", "follow_ups_cleared", "follow_ups_escalated", "follow_ups_updated"], 0
    )
    assert followups_scan(now=start_of(lesson, 24))["follow_ups_escalated"] == 0
    assert followups_scan(now=start_of(lesson, 25))["follow_ups_escalated"] == 1
    row.refresh_from_db()
    assert row.level == "school" and (told(teacher), told(school), told(operator)) == (1, 1, 0)
    assert followups_scan(now=start_of(lesson, 40))["follow_ups_escalated"] == 1
    row.refresh_from_db()
    assert row.level == "operator" and told(operator) == 1
    assert Notification.objects.get(user=operator, kind="follow_up").important
    assert followups_scan(now=start_of(lesson, 44))["follow_ups_escalated"] == 0  # the top of the ladder


def test_a_late_check_in_clears_it_and_nobody_is_told_again(city: City, lesson: Any) -> None:
    followups_scan(now=start_of(lesson, 12))
    checkin.check_in(
        actor=city.users["teacher"], session=lesson, now=start_of(lesson, 13), **at_school(city.a1, metres_north=30)
    )
    assert followups_scan(now=start_of(lesson, 14))["follow_ups_cleared"] == 1
    row = rows(lesson)["no_check_in"]
    assert row.resolution == "cleared" and row.resolved_at == start_of(lesson, 14)
    assert followups_scan(now=start_of(lesson, 30))["follow_ups_opened"] == 0  # cleared stays cleared


def test_no_roll_call_after_the_end_cleared_by_a_mark_and_absences_counted(city: City, lesson: Any) -> None:
    checkin.check_in(
        actor=city.users["teacher"], session=lesson, now=start_of(lesson, -5), **at_school(city.a1, metres_north=30)
    )
    end = lesson_end(lesson)
    followups_scan(now=end - timedelta(minutes=1))
    assert rows(lesson) == {}
    followups_scan(now=end)
    assert rows(lesson)["no_roll_call"].level == "teacher"
    rollcall.roll_call_mark(
        actor=city.users["teacher"],
        session=lesson,
        marks=[{"pupil": lesson.pupils[0].pk, "status": "absent"}],
        now=end + timedelta(minutes=2),
    )
    counts = followups_scan(now=end + timedelta(minutes=3))
    assert counts["follow_ups_cleared"] == 1 and counts["follow_ups_opened"] == 1
    found = rows(lesson)
    assert found["no_roll_call"].resolution == "cleared"
    assert found["absent"].count == 1 and found["absent"].level == "school"
    rollcall.roll_call_mark(
        actor=city.users["teacher"],
        session=lesson,
        marks=[{"pupil": lesson.pupils[1].pk, "status": "absent"}],
        now=end + timedelta(minutes=4),
    )
    assert followups_scan(now=end + timedelta(minutes=5))["follow_ups_updated"] == 1
    assert rows(lesson)["absent"].count == 2


def lesson_end(session: Any) -> Any:
    from kehou.attendance.services.common import session_bounds

    return session_bounds(session)[1]


def test_outside_then_make_up_pending_then_approved_clears_both(city: City, lesson: Any) -> None:
    checkin.check_in(
        actor=city.users["teacher"], session=lesson, now=start_of(lesson, -3), **at_school(city.a1, metres_north=2500)
    )
    followups_scan(now=start_of(lesson, 0))
    assert rows(lesson)["outside"].level == "teacher"
    checkin.makeup_request(actor=city.users["teacher"], session=lesson, reason="定位漂移", now=start_of(lesson, 5))
    followups_scan(now=start_of(lesson, 6))
    assert rows(lesson)["makeup_pending"].level == "school"
    row = checkin.CheckIn.objects.get(session=lesson)
    checkin.makeup_decide(
        actor=city.users["school_admin"], check_in=row, approve=True, note="", now=start_of(lesson, 7)
    )
    assert followups_scan(now=start_of(lesson, 8))["follow_ups_cleared"] == 2
    assert all(not f.is_open for f in rows(lesson).values())


# --- closing by hand ----------------------------------------------------------------------------------------------
@pytest.fixture
def open_row(lesson: Any) -> FollowUp:
    followups_scan(now=start_of(lesson, 12))
    return rows(lesson)["no_check_in"]


def handle(user: Any, row: FollowUp, body: Any) -> Any:
    return api_as(user).post(f"/api/v1/follow-ups/{row.pk}/handle", body, format="json")


def test_the_school_closes_a_follow_up_with_a_note_once(city: City, open_row: FollowUp) -> None:
    r = handle(city.users["school_admin"], open_row, {"note": "已电话联系老师，老师堵车"})
    assert r.status_code == 200, r.content
    assert r.json()["resolution"] == "handled" and r.json()["note"] == "已电话联系老师，老师堵车"
    open_row.refresh_from_db()
    assert open_row.handled_by == city.users["school_admin"] and not open_row.is_open
    assert AuditEntry.objects.filter(action="attendance.follow_up_handle", object_id=str(open_row.pk)).count() == 1
    again = handle(city.users["operator_staff"], open_row, {"note": "再次关闭"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "follow_up_closed"
    # a scan later does not reopen it
    followups_scan(now=start_of(open_row.session, 30))
    open_row.refresh_from_db()
    assert open_row.resolution == "handled"


@pytest.mark.parametrize(
    ("who", "body", "status", "code"),
    [
        ("school_admin", {"note": ""}, 400, "follow_up_note_invalid"),
        ("school_admin", {"note": "   "}, 400, "follow_up_note_invalid"),
        ("school_admin", {"note": "长" * 201}, 400, "invalid"),
        ("school_admin", {"note": "ok", "extra": 1}, 400, "unknown_field"),
        ("teacher", {"note": "我来了"}, 403, "not_follow_up_handler"),
        ("district_admin", {"note": "督促"}, 403, "not_follow_up_handler"),
        ("parent", {"note": "?"}, 404, "not_found"),
        ("nobody", {"note": "?"}, 404, "not_found"),
    ],
)
def test_closing_refused_leaves_it_open_and_unaudited(
    city: City, open_row: FollowUp, who: str, body: Any, status: int, code: str
) -> None:
    r = handle(city.users[who], open_row, body)
    assert (r.status_code, r.json()["error"]["code"]) == (status, code), r.content
    open_row.refresh_from_db()
    assert open_row.is_open and open_row.note == ""
    assert not AuditEntry.objects.filter(action="attendance.follow_up_handle").exists()


def test_an_operator_not_authorised_for_the_school_gets_404(city: City, elsewhere: Any) -> None:
    followups_scan(now=start_of(elsewhere, 12))
    row = FollowUp.objects.get(session=elsewhere)
    r = handle(city.users["operator_staff"], row, {"note": "越权"})
    assert r.status_code == 404
    row.refresh_from_db()
    assert row.is_open
    listed = api_as(city.users["operator_staff"]).get("/api/v1/follow-ups/?open=true").json()["results"]
    assert row.pk not in [f["id"] for f in listed]


# --- the live view ------------------------------------------------------------------------------------------------
def live(user: Any, query: str = "", monkeypatch: Any = None, at: Any = None) -> Any:
    if monkeypatch is not None:
        monkeypatch.setattr("kehou.core.clock.now", lambda: at)
    return api_as(user).get(f"/api/v1/operator/live/{query}")


def test_the_operator_sees_its_schools_sessions_now_with_check_ins_and_counts(
    city: City, lesson: Any, elsewhere: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kehou.enrolment.models import ClassSession

    # a second session at a1 at the same time, whose teacher checks in late
    from kehou.testing import factories as f

    other_teacher = f.teacher_at(city.a1)
    cls2, _ = class_with_pupils(city.a1, 4, teacher=other_teacher.teacher_profile, name="围棋")
    late = first_session(cls2)
    ClassSession.objects.filter(pk=late.pk).update(date=lesson.date, starts_at=lesson.starts_at, ends_at=lesson.ends_at)
    ClassSession.objects.filter(pk=elsewhere.pk).update(
        date=lesson.date, starts_at=lesson.starts_at, ends_at=lesson.ends_at
    )
    late.refresh_from_db()
    checkin.check_in(actor=other_teacher, session=late, now=start_of(lesson, 20), **at_school(city.a1, metres_north=20))
    rollcall.roll_call_mark(
        actor=other_teacher,
        session=late,
        marks=[{"pupil": p, "status": "present"} for p in late.course_class.enrolments.values_list("pupil", flat=True)],
        now=start_of(lesson, 21),
    )
    followups_scan(now=start_of(lesson, 22))
    r = live(city.users["operator_staff"], f"?date={lesson.date}", monkeypatch, start_of(lesson, 22))
    assert r.status_code == 200, r.content
    board = r.json()
    by_id = {s["id"]: s for s in board["sessions"]}
    assert set(by_id) == {lesson.pk, late.pk}  # not b1's
    assert by_id[lesson.pk]["check_in"]["code"] == "missing" and by_id[lesson.pk]["follow_ups"] == ["no_check_in"]
    assert by_id[late.pk]["check_in"]["code"] == "late" and by_id[late.pk]["state"] == "roll_call_taken"
    assert by_id[late.pk]["roll_call"] | {"unmarked": 0} == {
        "expected": 4,
        "present": 4,
        "absent": 0,
        "leave": 0,
        "unmarked": 0,
    }
    s = board["summary"]
    assert (s["sessions"], s["running_now"], s["late"], s["missing"], s["follow_ups_open"]) == (2, 2, 1, 1, 1)
    assert (s["pupils_expected"], s["pupils_present"]) == (7, 4)
    assert [f["kind"] for f in board["follow_ups"]] == ["no_check_in"]
    assert board["topics"] == [f"operator:{city.users['operator_staff'].role_assignments.get().operator_id}"]
    # the city sees all three; the district of a1 two; the school its own
    assert len(live(city.users["city_admin"], f"?date={lesson.date}").json()["sessions"]) == 3
    assert len(live(city.users["district_admin"], f"?date={lesson.date}").json()["sessions"]) == 2
    one = live(city.users["school_admin"], f"?date={lesson.date}&teacher={other_teacher.full_name}").json()
    assert [x["id"] for x in one["sessions"]] == [late.pk]


@pytest.mark.parametrize("who", ["teacher", "parent", "expert", "nobody"])
def test_those_who_watch_no_school_get_an_empty_board(city: City, lesson: Any, who: str) -> None:
    r = live(city.users[who], f"?date={lesson.date}")
    assert r.status_code == 200
    assert r.json()["sessions"] == [] and r.json()["summary"]["sessions"] == 0
    assert live(city.users["school_admin"], f"?date={lesson.date}").json()["summary"]["sessions"] == 1


@pytest.mark.parametrize("query", ["?date=2026-13-01", "?date=yesterday", "?school=99999999999999999999999"])
def test_the_live_view_refuses_bad_filters_clearly(city: City, query: str) -> None:
    r = live(city.users["operator_staff"], query)
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid"


def test_topics_are_followed_only_by_the_schools_watchers(city: City) -> None:
    op = city.users["operator_staff"]
    op_id = op.role_assignments.get().operator_id
    above = [f"district:{r}" for r in (city.a1.district_id, city.a1.district.parent_id) if r]  # district, city
    assert live_topics(city.a1.pk) == [f"school:{city.a1.pk}", *above, f"operator:{op_id}"]
    assert _may_follow_school(op.pk, city.a1.pk) and not _may_follow_school(op.pk, city.b1.pk)
    assert not _may_follow_school(city.users["teacher"].pk, city.a1.pk)  # a teacher of the school is no watcher
    assert not _may_follow_school(city.users["parent"].pk, city.a1.pk)
    assert _may_follow_district(city.users["district_admin"].pk, city.a1.district_id)
    assert not _may_follow_district(city.users["district_admin"].pk, city.b1.district_id)
    assert _may_follow_operator(op.pk, op_id) and not _may_follow_operator(city.users["school_admin"].pk, op_id)


# --- the page -----------------------------------------------------------------------------------------------------
def test_the_page_shows_the_board_the_fragment_and_both_exports(
    city: City, lesson: Any, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    followups_scan(now=start_of(lesson, 12))
    monkeypatch.setattr("kehou.core.clock.now", lambda: start_of(lesson, 12))
    client.force_login(city.users["operator_staff"])
    page = client.get(f"/operations/live/?date={lesson.date}")
    assert page.status_code == 200
    html = page.content.decode()
    assert lesson.course_class.name in html and 'data-follow-up="' in html and 'data-live-topics="operator:' in html
    assert 'data-confirm="' in html  # closing asks first
    fragment = client.get(f"/operations/live/?date={lesson.date}&fragment=1").content.decode()
    assert "<html" not in fragment and f'data-session="{lesson.pk}"' in fragment
    export = client.get(f"/operations/live/?date={lesson.date}&format=xlsx&list=sessions")
    assert export.status_code == 200 and export["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(b"".join(export.streaming_content))).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert len(values) == 2 and values[1][3] == lesson.course_class.name
    fu = client.get(f"/operations/live/?date={lesson.date}&format=xlsx&list=follow_ups")
    sheet = load_workbook(io.BytesIO(b"".join(fu.streaming_content))).active
    assert sheet.max_row == 2
    # closing from the page
    row = rows(lesson)["no_check_in"]
    done = client.post(f"/follow-ups/{row.pk}/handle", {"note": "已联系"})
    assert done.status_code == 302
    row.refresh_from_db()
    assert row.resolution == "handled"


def test_the_page_shows_a_parent_and_a_teacher_nothing_and_their_menu_does_not_offer_it(
    city: City, lesson: Any, client: Any
) -> None:
    for who in ("parent", "teacher"):
        client.force_login(city.users[who])
        page = client.get(f"/operations/live/?date={lesson.date}").content.decode()
        assert lesson.course_class.name not in page
        assert 'href="/operations/live/"' not in client.get("/").content.decode()
    client.force_login(city.users["operator_staff"])
    assert 'href="/operations/live/"' in client.get("/").content.decode()


def test_homes_start_with_the_open_follow_ups(city: City, open_row: FollowUp, client: Any) -> None:
    client.force_login(city.users["operator_staff"])
    home = client.get("/").content.decode()
    assert 'data-todo="follow-ups"' in home and "/operations/live/" in home
    client.force_login(city.users["teacher"])
    mine = client.get("/").content.decode()
    assert 'data-todo="follow-ups"' in mine and f"/sessions/{open_row.session_id}/" in mine
    client.force_login(city.users["parent"])
    assert 'data-todo="follow-ups"' not in client.get("/").content.decode()
