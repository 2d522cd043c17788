"""What the guardians are told about a held seat (issue 14): an offer from the waitlist (or the lottery) names the
child and the time the hold ends, in local time; a hold about to run out is reminded once, by a scheduled job; a
hold that ran out says the seat is gone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import translation

from kehou.core import schedule
from kehou.core.jobs import run_inline
from kehou.enrolment.models import Enrolment
from kehou.enrolment.services.lottery import lottery_draw
from kehou.enrolment.services.selection import enrolment_cancel, enrolment_confirm, enrolment_select
from kehou.enrolment.services.waitlist import HOLD_REMINDER, holds_expire, holds_remind
from kehou.notify.models import Notification
from kehou.testing import factories as f

from .factories import NOW, family, key, make_class, open_window

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


@pytest.fixture
def school():
    return f.SchoolFactory()


def select(parent, pupil, course_class, *, now=NOW, **kw):
    return enrolment_select(actor=parent, pupil_id=pupil.pk, class_id=course_class.pk, request_key=key(), now=now, **kw)


def told(user, kind: str) -> list[Notification]:
    return list(Notification.objects.filter(user=user, kind=kind))


def test_a_seat_offered_from_the_waitlist_names_the_child_and_when_the_hold_ends(school):
    # Given a full class (capacity 1) and a second family on its waitlist
    course_class = make_class(school, capacity=1, name="围棋入门")
    open_window(school, 3)
    (p1, [k1]), (p2, [k2]) = family(school), family(school)
    held = select(p1, k1, course_class).enrolment
    assert select(p2, k2, course_class, join_waitlist=True).enrolment.status == "waiting"

    # When the first family cancels at 09:01 (the window holds seats for 15 minutes)
    enrolment_cancel(actor=p1, enrolment=held, now=NOW + timedelta(minutes=1))

    # Then the waiting family is told which child holds the seat and until when (local time, in Chinese)
    [note] = told(p2, "waitlist_promoted")
    assert k2.name in note.title and "围棋入门" in note.title
    assert "8月24日 09:16" in note.body
    place = Enrolment.objects.get(pupil=k2)
    assert note.link == f"/parent/enrolments/{place.pk}/"


def test_a_lottery_win_names_the_child_and_when_the_hold_ends(school):
    course_class = make_class(school, capacity=1, name="合唱团")
    window = open_window(school, 3, mode="lottery", hours=2)
    parents = {}
    for _ in range(2):
        parent, [kid] = family(school)
        assert select(parent, kid, course_class).enrolment.status == "applied"
        parents[kid.pk] = (parent, kid)

    lottery_draw(window=window, now=window.closes_at, seed="nanchang")

    winner = Enrolment.objects.get(status="held")
    parent, kid = parents[winner.pupil_id]
    [note] = told(parent, "lottery_won")
    local_end = winner.hold_expires_at.astimezone(NOW.tzinfo)
    assert kid.name in note.title and f"{local_end.month}月{local_end.day}日 {local_end:%H:%M}" in note.body


def test_the_guardians_are_reminded_once_shortly_before_a_hold_runs_out(school):
    # Given a seat held at 09:00 until 09:15, and the child's second guardian
    course_class = make_class(school, name="机器人")
    open_window(school, 3)
    parent, [kid] = family(school)
    other = f.guardian_of(kid)
    held = select(parent, kid, course_class).enrolment
    assert held.hold_expires_at == NOW + timedelta(minutes=15)

    # When the reminder job runs before the last five minutes, nobody is told
    assert holds_remind(now=NOW + timedelta(minutes=15) - HOLD_REMINDER - timedelta(seconds=1)) == 0
    # When it runs in the last five minutes, both guardians are told, once
    assert holds_remind(now=NOW + timedelta(minutes=10)) == 1
    assert holds_remind(now=NOW + timedelta(minutes=11)) == 0
    for guardian in (parent, other):
        [note] = told(guardian, "hold_expiring")
        assert kid.name in note.title and "机器人" in note.title and "09:15" in note.body
        assert note.link == f"/parent/enrolments/{held.pk}/"


def test_a_confirmed_or_already_expired_place_is_not_reminded(school):
    course_class = make_class(school)
    open_window(school, 3)
    (p1, [k1]), (p2, [k2]) = family(school), family(school)
    paid = select(p1, k1, course_class).enrolment
    late = select(p2, k2, course_class).enrolment
    enrolment_confirm(enrolment_id=paid.pk, now=NOW + timedelta(minutes=2), actor=p1)
    holds_expire(now=NOW + timedelta(minutes=15))

    assert holds_remind(now=NOW + timedelta(minutes=15)) == 0
    assert not Notification.objects.filter(kind="hold_expiring").exists()
    assert Enrolment.objects.get(pk=late.pk).status == "expired"


def test_a_hold_that_ran_out_tells_the_guardians_the_seat_is_gone(school):
    course_class = make_class(school, name="书法")
    open_window(school, 3)
    parent, [kid] = family(school)
    held = select(parent, kid, course_class).enrolment

    assert holds_expire(now=NOW + timedelta(minutes=15)) == 1

    [note] = told(parent, "hold_expired")
    assert kid.name in note.title and "书法" in note.title and "09:15" in note.body
    assert note.link == f"/parent/enrolments/{held.pk}/"


def test_the_reminder_is_a_scheduled_job_of_enrolment(school, monkeypatch):
    [job] = [j for j in schedule.SCHEDULE.jobs() if j.name == "enrolment.remind_holds"]
    assert job.task == "kehou.enrolment.tasks.remind_holds" and job.every <= 60
    schedule.SCHEDULE.check()
    course_class = make_class(school)
    open_window(school, 3)
    parent, [kid] = family(school)
    select(parent, kid, course_class)
    monkeypatch.setattr("kehou.core.clock.now", lambda: NOW + timedelta(minutes=12))

    assert run_inline(job.task) == {"reminded": 1}
    assert len(told(parent, "hold_expiring")) == 1
