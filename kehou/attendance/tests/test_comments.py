"""Comments and what guardians are told: the comment event on the guardians' streams, one push per session however
many comments, bad comments changing nothing, absences told once with the school's phone, SMS for an unread one,
who decides leave, and the roll call's counts to whoever follows the session."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from kehou.attendance.models import Comment, LeaveRequest
from kehou.attendance.services.notices import absences_notify
from kehou.conftest import City, api_as
from kehou.notify.models import Event, Notification
from kehou.notify.push import MemoryPushBackend
from kehou.notify.services import sms_unread
from kehou.notify.sms import MemorySmsBackend
from kehou.orgs.models import School
from kehou.testing import factories as f

from .factories import class_with_pupils, first_session, start_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def lesson(city: City, monkeypatch: pytest.MonkeyPatch) -> Any:
    cls, pupils = class_with_pupils(city.a1, 4, teacher=city.users["teacher"].teacher_profile)
    session = first_session(cls)
    monkeypatch.setattr("kehou.core.clock.now", lambda: start_of(session, 5))
    guardians = [f.guardian_of(p) for p in pupils]
    MemoryPushBackend.outbox.clear()
    MemorySmsBackend.outbox.clear()
    return session, pupils, guardians


class Committing:
    """An API client whose requests run their after-commit work (the pushes, the worker's tasks) as a commit would
    (the test's own transaction never commits)."""

    def __init__(self, user: Any) -> None:
        self.api = api_as(user)

    def post(self, *args: Any, **kwargs: Any) -> Any:
        from django.test import TestCase

        with TestCase.captureOnCommitCallbacks(execute=True):
            return self.api.post(*args, **kwargs)

    def get(self, *args: Any, **kwargs: Any) -> Any:
        return self.api.get(*args, **kwargs)


def _events(user: Any, kind: str) -> list[dict[str, Any]]:
    return [e.data for e in Event.objects.filter(user=user, kind=kind).order_by("seq")]


def test_a_comment_reaches_only_that_pupils_guardians_and_collapses_into_one_push(city: City, lesson: Any) -> None:
    session, pupils, guardians = lesson
    api = Committing(city.users["teacher"])
    url = f"/api/v1/sessions/{session.pk}/comments"
    first = api.post(
        url, {"pupil": pupils[0].pk, "text": "今天搭的机器人会转弯了", "tags": ["improving"]}, format="json"
    )
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["pupil"] == {"id": pupils[0].pk, "name": pupils[0].name}
    assert body["text"] == "今天搭的机器人会转弯了" and body["tags"] == ["improving"] and body["session"] == session.pk
    second = api.post(url, {"pupil": pupils[0].pk, "text": "收拾器材很主动"}, format="json")
    assert second.status_code == 201
    data = _events(guardians[0], "comment")
    assert [(d["kind"], d["pupil"], d["text"]) for d in data] == [
        ("comment", pupils[0].pk, "今天搭的机器人会转弯了"),
        ("comment", pupils[0].pk, "收拾器材很主动"),
    ]
    assert data[0]["tag_labels"] == ["进步明显"]
    for other in [*guardians[1:], city.users["parent"]]:
        assert not Event.objects.filter(user=other).exists()
    told = Notification.objects.get(user=guardians[0], kind="comment")
    assert told.count == 2 and told.body == "收拾器材很主动"
    assert [p.user_id for p in MemoryPushBackend.outbox] == [guardians[0].pk]  # one push for the session
    # the guardian reads them; another parent and the teacher of another school do not
    mine = Committing(guardians[0]).get("/api/v1/comments/").json()["results"]
    assert [c["text"] for c in mine] == ["收拾器材很主动", "今天搭的机器人会转弯了"]
    assert Committing(guardians[1]).get("/api/v1/comments/").json()["results"] == []
    assert Committing(guardians[1]).get(f"/api/v1/comments/?pupil={pupils[0].pk}").json()["results"] == []
    assert Committing(city.users["operator_staff"]).get(url).json()[0]["pupil"]["name"] != pupils[0].name  # masked
    assert len(Committing(city.users["school_admin"]).get(url).json()) == 2


@pytest.mark.parametrize(
    ("body", "code", "status"),
    [
        ({"pupil": "PUPIL", "text": ""}, "comment_invalid", 400),
        ({"pupil": "PUPIL", "text": "   "}, "comment_invalid", 400),
        ({"pupil": "PUPIL", "text": "很" * 501}, "comment_invalid", 400),
        ({"pupil": "PUPIL", "text": "好", "tags": ["best_in_class"]}, "comment_invalid", 400),
        (
            {
                "pupil": "PUPIL",
                "text": "好",
                "tags": ["attentive", "speaks_up", "cooperative", "improving", "creative", "helpful"],
            },
            "comment_invalid",
            400,
        ),
        ({"pupil": 999_999, "text": "好"}, "pupil_not_on_sheet", 400),
        ({"pupil": "PUPIL", "text": "好", "extra": 1}, "unknown_field", 400),
        ({"text": "好"}, "invalid", 400),
    ],
)
def test_bad_comments_change_nothing(city: City, lesson: Any, body: dict[str, Any], code: str, status: int) -> None:
    session, pupils, _guardians = lesson
    body = {k: (pupils[0].pk if v == "PUPIL" else v) for k, v in body.items()}
    r = Committing(city.users["teacher"]).post(f"/api/v1/sessions/{session.pk}/comments", body, format="json")
    assert r.status_code == status and r.json()["error"]["code"] == code, r.content
    assert not Comment.objects.exists() and not Event.objects.exists() and not Notification.objects.exists()


def test_only_the_teacher_who_runs_the_session_comments_and_only_while_it_is_open(
    city: City, lesson: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    session, pupils, _guardians = lesson
    url = f"/api/v1/sessions/{session.pk}/comments"
    body = {"pupil": pupils[0].pk, "text": "好"}
    other_teacher = f.teacher_at(city.a1)
    far_teacher = f.teacher_at(city.b1)
    assert Committing(city.users["school_admin"]).post(url, body, format="json").json()["error"]["code"] == (
        "not_session_teacher"
    )
    assert Committing(other_teacher).post(url, body, format="json").status_code in (403, 404)
    assert Committing(far_teacher).post(url, body, format="json").status_code == 404
    assert Committing(city.users["parent"]).post(url, body, format="json").status_code in (403, 404)
    monkeypatch.setattr("kehou.core.clock.now", lambda: start_of(session, 60 * 24))
    late = Committing(city.users["teacher"]).post(url, body, format="json")
    assert late.status_code == 409 and late.json()["error"]["code"] == "roll_call_closed"
    assert not Comment.objects.exists() and not Event.objects.exists()


def test_an_absence_without_leave_is_told_once_with_the_schools_phone(city: City, lesson: Any) -> None:
    session, pupils, guardians = lesson
    School.objects.filter(pk=city.a1.pk).update(phone="0791-86123456")
    api = Committing(city.users["teacher"])
    url = f"/api/v1/sessions/{session.pk}/roll-call"
    api.post(url, {"marks": [{"pupil": pupils[0].pk, "status": "absent"}]}, format="json")
    api.post(url, {"marks": [{"pupil": pupils[0].pk, "status": "present"}]}, format="json")
    api.post(url, {"marks": [{"pupil": pupils[0].pk, "status": "absent"}]}, format="json")
    told = Notification.objects.filter(kind="absent")
    assert [(n.user_id, n.important) for n in told] == [(guardians[0].pk, True)]
    assert "0791-86123456" in told[0].body and session.course_class.name in told[0].title
    assert [d["type"] for d in _events(guardians[0], "notification")] == ["absent"]
    assert not Notification.objects.filter(user__in=[g.pk for g in guardians[1:]]).exists()
    # a pupil marked absent and corrected before the worker ran is not told
    api.post(url, {"marks": [{"pupil": pupils[1].pk, "status": "late"}]}, format="json")
    assert absences_notify(session_id=session.pk, now=start_of(session, 6)) == 0


def test_an_unread_absence_goes_out_by_sms_once(city: City, lesson: Any) -> None:
    session, pupils, guardians = lesson
    api = Committing(city.users["teacher"])
    marks = [{"pupil": pupils[0].pk, "status": "absent"}, {"pupil": pupils[1].pk, "status": "absent"}]
    api.post(f"/api/v1/sessions/{session.pk}/roll-call", {"marks": marks}, format="json")
    read = Notification.objects.get(user=guardians[1], kind="absent")
    Committing(guardians[1]).post("/api/v1/notifications/read", {"ids": [read.pk]}, format="json")
    soon = start_of(session, 10)
    assert sms_unread(now=soon) == {"sms_sent": 0, "sms_no_phone": 0}
    later = start_of(session, 5 + 31)
    assert sms_unread(now=later) == {"sms_sent": 1, "sms_no_phone": 0}
    assert [m.phone for m in MemorySmsBackend.outbox] == [guardians[0].phone]
    assert pupils[0].name in MemorySmsBackend.outbox[0].text
    assert sms_unread(now=later + timedelta(minutes=5)) == {"sms_sent": 0, "sms_no_phone": 0}


def test_the_school_decides_who_approves_leave_for_one_session(city: City, lesson: Any) -> None:
    session, pupils, guardians = lesson
    made = Committing(guardians[0]).post(
        "/api/v1/leave-requests/",
        {"pupil": pupils[0].pk, "session": session.pk, "kind": "leave_sick", "reason": "发烧"},
        format="json",
    )
    assert made.status_code == 201, made.content
    pk = made.json()["id"]
    School.objects.filter(pk=city.a1.pk).update(leave_approver=School.LeaveApprover.SCHOOL)
    refused = Committing(city.users["teacher"]).post(
        f"/api/v1/leave-requests/{pk}/decide", {"approve": True}, format="json"
    )
    assert refused.status_code == 403
    assert LeaveRequest.objects.get(pk=pk).status == "pending"
    School.objects.filter(pk=city.a1.pk).update(leave_approver=School.LeaveApprover.TEACHER)
    ok = Committing(city.users["teacher"]).post(f"/api/v1/leave-requests/{pk}/decide", {"approve": True}, format="json")
    assert ok.status_code == 200 and LeaveRequest.objects.get(pk=pk).status == "approved"
    assert _events(guardians[0], "notification")[-1]["type"] == "leave_decided"


def test_comment_tags_are_listed(city: City) -> None:
    tags = Committing(city.users["teacher"]).get("/api/v1/comment-tags/").json()
    assert {"code": "attentive", "label": "专注认真"} in tags
    assert not any("排名" in t["label"] or "rank" in t["code"] for t in tags)


def test_the_session_page_comments_and_the_guardians_page_lists_them(city: City, lesson: Any) -> None:
    from kehou.conftest import page_as

    session, pupils, guardians = lesson
    teacher = page_as(city.users["teacher"])
    page = teacher.get(f"/sessions/{session.pk}/?pupil={pupils[1].pk}").content.decode()
    assert "data-comment-form" in page and f'<option value="{pupils[1].pk}" selected>' in page
    assert 'data-live-topics="session:' in page  # the counts follow the session live
    sent = teacher.post(
        f"/sessions/{session.pk}/comments", {"pupil": pupils[1].pk, "text": "画得很用心", "tags": ["creative"]}
    )
    assert sent.status_code == 302 and sent["Location"].endswith("#comments")
    assert "画得很用心" in teacher.get(f"/sessions/{session.pk}/").content.decode()
    refused = teacher.post(f"/sessions/{session.pk}/comments", {"pupil": pupils[1].pk, "text": ""})
    assert refused.status_code in (302, 400) and Comment.objects.count() == 1
    school_page = page_as(city.users["school_admin"]).get(f"/sessions/{session.pk}/").content.decode()
    assert "画得很用心" in school_page and "data-comment-form" not in school_page
    assert page_as(city.users["school_admin"]).post(
        f"/sessions/{session.pk}/comments", {"pupil": pupils[1].pk, "text": "x"}
    ).status_code in (302, 403)
    assert Comment.objects.count() == 1
    mine = page_as(guardians[1]).get("/parent/comments/").content.decode()
    assert "画得很用心" in mine and "富有创意" in mine and "data-comment-list" in mine
    assert Notification.objects.get(user=guardians[1], kind="comment").read_at is not None  # seen on the page
    theirs = page_as(guardians[0]).get("/parent/comments/").content.decode()
    assert "画得很用心" not in theirs


def test_the_school_sets_who_decides_leave_on_its_page(city: City) -> None:
    from kehou.conftest import page_as
    from kehou.core.models import AuditEntry

    page = page_as(city.users["school_admin"])
    body = page.get("/leave-requests/").content.decode()
    assert f'data-leave-approver="{city.a1.pk}"' in body and f'data-leave-approver="{city.b1.pk}"' not in body
    assert page.post(f"/schools/{city.a1.pk}/leave-approver", {"approver": "school"}).status_code == 302
    assert School.objects.get(pk=city.a1.pk).leave_approver == "school"
    assert AuditEntry.objects.filter(action="attendance.leave_approver_set").count() == 1
    page.post(f"/schools/{city.a1.pk}/leave-approver", {"approver": "nobody"})
    assert School.objects.get(pk=city.a1.pk).leave_approver == "school"
    # another school's, and a teacher's, attempts change nothing
    assert page.post(f"/schools/{city.b1.pk}/leave-approver", {"approver": "school"}).status_code in (302, 404)
    page_as(city.users["teacher"]).post(f"/schools/{city.a1.pk}/leave-approver", {"approver": "teacher"})
    assert School.objects.get(pk=city.b1.pk).leave_approver == "teacher"
    assert School.objects.get(pk=city.a1.pk).leave_approver == "school"


def test_what_is_told_about_the_past_is_not_pushed(city: City, lesson: Any) -> None:
    from django.test import TestCase

    from kehou.notify.services import notify

    _session, _pupils, guardians = lesson  # the clock is 5 minutes into the session
    with TestCase.captureOnCommitCallbacks(execute=True):
        notify(user_ids=[guardians[0].pk], kind="test", title="旧消息", now=start_of(_session, -60 * 24 * 3))
        notify(user_ids=[guardians[1].pk], kind="test", title="新消息", now=start_of(_session, 4))
    assert [p.title for p in MemoryPushBackend.outbox] == ["新消息"]
    assert Notification.objects.filter(title="旧消息").exists()
