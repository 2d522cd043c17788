"""The demo teacher's day: the week's sessions already held, with check-ins (most inside and on time, some late, one
outside, one uncertain with a make-up awaiting the school, one missed), roll calls and leave requests in every state;
and, on every load (a fresh database or one loaded before), a session of the demo ``teacher`` **in progress now**
whose class includes a child of the demo ``parent``, so that a new user can check in, take the roll and watch.

Everything goes through the attendance services (``check_in``, ``makeup_request``, ``roll_call_mark``,
``roll_call_all_present``, ``roll_calls_close``, ``leave_request``, ``leave_decide``, ``leave_withdraw``) at the
moments they would have happened; the one thing written directly is the date and time of the session moved to now
(a session rescheduled, as schools do), and the child's place in that class is paid through the simulator like
every other demo place.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from kehou.demo import data
from kehou.demo.common import LoadResult, seeded_rng

log = logging.getLogger(__name__)
HISTORY_DAYS = 7
# The weekday fixes of a held session's check-in: (metres from the school's point, accuracy, minutes from the start)
FIXES = {
    "inside": (60, 15, -6),
    "late": (80, 20, 22),
    "outside": (1800, 25, -3),
    "uncertain": (240, 180, -8),
}


# What the demo's teachers wrote after class (with the preset tags that go with each): about the child alone.
COMMENTS: list[tuple[str, list[str]]] = [
    ("今天搭建很投入，能独立完成转向结构，回家可以和家长讲讲其中的原理。", ["attentive", "improving"]),
    ("课堂上积极举手发言，表达清楚，继续保持！", ["speaks_up"]),
    ("和同组同学配合默契，还主动帮助同伴整理器材。", ["cooperative", "helpful"]),
    ("练习时坐姿端正，笔画比上周稳了很多。", ["improving"]),
    ("今天有点走神，建议回家早点休息，下次课我们一起加油。", ["needs_encouragement"]),
    ("声音洪亮，音准有明显进步，可以在家多哼唱今天学的曲子。", ["improving"]),
    ("作品构图很有想法，色彩搭配大胆。", ["creative"]),
    ("动作要领掌握得很快，注意运动后及时补水。", ["attentive"]),
    ("能耐心听完同学的想法再补充自己的意见，很棒。", ["cooperative"]),
]


def _fix(school: Any, metres: float, accuracy: float) -> dict[str, Any]:
    return {
        "lat": float(school.latitude) + metres / 111_195.0,
        "lng": float(school.longitude),
        "accuracy_m": accuracy,
        "crs": "wgs84",
    }


def _fix_for(kind: str, radius: int) -> tuple[float, float, int]:
    """The fix of a check-in of this kind at a school of this radius: an uncertain one straddles the edge and an
    outside one lies beyond it whatever the radius (a school with a wide radius would otherwise judge the usual
    fixes inside, and its make-up would not be needed)."""
    metres, accuracy, minutes = FIXES[kind]
    if kind == "uncertain":
        return float(radius), float(accuracy), minutes
    if kind == "outside":
        return float(radius + metres), float(accuracy), minutes
    return min(float(metres), radius / 4), min(float(accuracy), radius / 4), minutes


def _held_sessions(now: datetime) -> list[Any]:
    from kehou.attendance.services.common import session_bounds
    from kehou.enrolment.models import ClassSession

    today = timezone.localdate(now)
    sessions = (
        ClassSession.objects.filter(
            date__gte=today - timedelta(days=HISTORY_DAYS),
            date__lte=today,
            course_class__status="active",
            course_class__enrolments__status="confirmed",
        )
        .distinct()
        .select_related("course_class__school", "course_class__teacher__user")
        .order_by("date", "starts_at", "pk")
    )
    return [s for s in sessions if session_bounds(s)[1] + timedelta(hours=3) <= now]


def build_history(*, seed: int, now: datetime) -> dict[str, int]:
    """The week's held sessions, once (skipped when any check-in exists)."""
    from kehou.attendance.models import CheckIn
    from kehou.attendance.services import checkin, comments, notices, rollcall
    from kehou.attendance.services.common import session_bounds
    from kehou.notify.models import Notification

    counts = {
        "sessions_held": 0,
        "check_ins": 0,
        "roll_call_marks": 0,
        "makeups_pending": 0,
        "absences_told": 0,
        "comments": 0,
    }
    if CheckIn.objects.exists():
        return counts
    rng = seeded_rng(seed, "attendance")
    sessions = _held_sessions(now)
    specials = {0: "outside", 1: "uncertain", 2: "missed", 3: "late", 4: "late"}
    order = list(range(len(sessions)))
    rng.shuffle(order)
    kind_of = {order[i]: kind for i, kind in specials.items() if i < len(order)}
    for i, session in enumerate(sessions):
        start, _end = session_bounds(session)
        teacher = session.course_class.teacher.user
        kind = kind_of.get(i, "inside")
        if kind != "missed":
            metres, accuracy, minutes = _fix_for(kind, session.course_class.school.checkin_radius_m)
            checkin.check_in(
                actor=teacher,
                session=session,
                now=start + timedelta(minutes=minutes),
                **_fix(session.course_class.school, metres, accuracy),
            )
            counts["check_ins"] += 1
        if kind == "uncertain":
            checkin.makeup_request(
                actor=teacher, session=session, reason="在教学楼内，定位信号弱", now=start + timedelta(minutes=30)
            )
            counts["makeups_pending"] += 1
        at = start + timedelta(minutes=3)
        sheet = rollcall.roll_call_open(session=session, now=at)
        rows = list(sheet.rows.values_list("pupil_id", flat=True))
        marks = []
        for pupil_id in rows:
            roll = rng.random()
            if roll < 0.04:
                marks.append({"pupil": pupil_id, "status": "absent"})
            elif roll < 0.08:
                marks.append({"pupil": pupil_id, "status": "late"})
            elif roll < 0.10:
                marks.append({"pupil": pupil_id, "status": "leave_sick"})
            elif roll < 0.11:
                marks.append({"pupil": pupil_id, "status": "left_early"})
        if kind != "missed":
            rollcall.roll_call_mark(actor=teacher, session=session, marks=marks, now=at)
            rollcall.roll_call_all_present(actor=teacher, session=session, now=at + timedelta(seconds=40))
            counts["roll_call_marks"] += len(rows)
            # the worker tells the guardians of the absent at once; here that is done at the moment it happened
            counts["absences_told"] += notices.absences_notify(session_id=session.pk, now=at + timedelta(minutes=1))
            away = {m["pupil"] for m in marks if m["status"] != "late"}
            present = [p for p in rows if p not in away]
            for j, pupil_id in enumerate(rng.sample(present, min(len(present), rng.randint(1, 3)))):
                text, tags = COMMENTS[rng.randrange(len(COMMENTS))]
                comments.comment_add(
                    actor=teacher,
                    session=session,
                    pupil_id=pupil_id,
                    text=text,
                    tags=tags,
                    now=_end - timedelta(minutes=5 - j),
                )
                counts["comments"] += 1
        counts["sessions_held"] += 1
    rollcall.roll_calls_close(now=now)
    # the week's absence notices that nobody read went out by SMS when their time came
    Notification.objects.filter(kind="absent", read_at=None, sms_sent_at=None, sms_due_at__lte=now).update(
        sms_sent_at=F("sms_due_at")
    )
    Notification.objects.filter(kind="comment", pushed_at=None, created_at__lte=now - timedelta(minutes=5)).update(
        pushed_at=F("created_at")
    )
    return counts


def build_leave(*, seed: int, now: datetime) -> dict[str, int]:
    """Leave requests in every state, from the guardians of the first-period classes (once)."""
    from kehou.attendance.models import LeaveRequest
    from kehou.attendance.services import leave
    from kehou.demo.stages.payments.story import EARLY_SCHOOLS
    from kehou.enrolment.models import ClassSession, Enrolment
    from kehou.people.models import Guardian, User

    if LeaveRequest.objects.exists():
        return {"leave_requests": 0}
    today = timezone.localdate(now)
    schools = [name for name, _days in EARLY_SCHOOLS]
    coming = list(
        ClassSession.objects.filter(
            date__gt=today, date__lte=today + timedelta(days=14), course_class__school__name__in=schools
        )
        .select_related("course_class__school", "course_class__teacher__user")
        .order_by("date", "pk")[:6]
    )
    made = 0
    reasons = ["孩子发烧，在家休息", "家中有事，提前接回", "去医院复查", "参加区里的比赛", "外出探亲"]
    states = ["pending", "approved", "rejected", "withdrawn", "approved", "pending"]
    for i, session in enumerate(coming):
        place = Enrolment.objects.filter(course_class=session.course_class, status="confirmed").order_by("pk")[
            i : i + 1
        ]
        place_row = place.first()
        if place_row is None:
            continue
        guardian = Guardian.objects.filter(pupil_id=place_row.pupil_id).select_related("user").first()
        if guardian is None:
            continue
        asked = now - timedelta(hours=30 - i)
        kind = "leave_sick" if i % 2 == 0 else "leave_personal"
        req = leave.leave_request(
            actor=guardian.user,
            pupil=place_row.pupil,
            kind=kind,
            reason=reasons[i % len(reasons)],
            session=session,
            now=asked,
        )
        admin = User.objects.filter(
            role_assignments__role="school_admin", role_assignments__school=session.course_class.school
        ).first()
        state = states[i]
        if state in ("approved", "rejected") and admin is not None:
            leave.leave_decide(
                actor=admin,
                leave=req,
                approve=state == "approved",
                note="" if state == "approved" else "当天有测验，请尽量出席",
                now=asked + timedelta(hours=2),
            )
        elif state == "withdrawn":
            leave.leave_withdraw(actor=guardian.user, leave=req, now=asked + timedelta(hours=1))
        made += 1
    return {"leave_requests": made}


def session_now(*, seed: int, now: datetime) -> dict[str, int]:
    """The demo teacher's session in progress now, with a child of the demo parent on its sheet."""
    from kehou.attendance.services.common import session_bounds
    from kehou.enrolment.models import ClassSession, CourseClass, Enrolment, SelectionWindow
    from kehou.people.models import Guardian, User

    teacher = User.objects.filter(username="teacher").select_related("teacher_profile").first()
    parent = User.objects.filter(username="parent").first()
    if teacher is None or parent is None or not hasattr(teacher, "teacher_profile"):
        return {"session_now": 0}
    profile = teacher.teacher_profile
    kids = [g.pupil for g in Guardian.objects.filter(user=parent).select_related("pupil")]
    classes = list(CourseClass.objects.filter(teacher=profile, status="active").order_by("pk"))
    pair = next(((c, k) for c in classes for k in kids if k.school_id == c.school_id), None)
    if pair is None:
        return {"session_now": 0}
    cls, kid = pair
    today = timezone.localdate(now)
    for s in ClassSession.objects.filter(course_class=cls, date=today):
        start, end = session_bounds(s)
        if start <= now < end:
            session = s
            break
    else:
        start = (timezone.localtime(now) - timedelta(minutes=10)).replace(second=0, microsecond=0)
        if start.date() != today:
            start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
        finish = start + timedelta(minutes=45)
        end_time = finish.time() if finish.date() == today else time(23, 59)
        upcoming = ClassSession.objects.filter(course_class=cls, date__gte=today).order_by("number").first()
        if upcoming is None:
            upcoming = ClassSession.objects.filter(course_class=cls).order_by("-number").first()
        if upcoming is None:
            return {"session_now": 0}
        ClassSession.objects.filter(pk=upcoming.pk).update(date=today, starts_at=start.time(), ends_at=end_time)
        session = ClassSession.objects.get(pk=upcoming.pk)
    if not Enrolment.objects.filter(course_class=cls, pupil=kid, status="confirmed").exists():
        _place(cls=cls, kid=kid, parent=parent, seed=seed, now=now, windows=SelectionWindow, enrolments=Enrolment)
    return {"session_now": session.pk}


# The operator's day (the live view): in the demo operator's schools, three sessions of other teachers moved to today
# around the load: (minutes from now to the start, what the teacher did). One checked in late, one has not checked
# in (its follow-up already escalated from the teacher to the school), one starts later.
OPERATOR_DAY = [(-25, "late"), (-35, "missing"), (40, "upcoming")]


def operator_day(*, now: datetime) -> dict[str, int]:
    """Today's sessions of the operator's live view, arranged on every load where not yet arranged today, then the
    follow-up scan at the moments the task worker would have run it."""
    from kehou.attendance.models import CheckIn
    from kehou.attendance.services import checkin
    from kehou.attendance.services.followups import followups_scan
    from kehou.enrolment.models import ClassSession, CourseClass
    from kehou.orgs.models import OperatorAuthorisation
    from kehou.people.models import User

    operator = User.objects.filter(username="operator").first()
    ra = operator.role_assignments.filter(role="operator_staff").first() if operator else None
    if ra is None:
        return {"operator_sessions": 0}
    schools = list(OperatorAuthorisation.objects.filter(operator_id=ra.operator_id).values_list("school_id", flat=True))
    today = timezone.localdate(now)
    classes = (
        CourseClass.objects.filter(school_id__in=schools, status="active", enrolments__status="confirmed")
        .exclude(teacher__user__username="teacher")
        .select_related("school", "teacher__user")
        .distinct()
        .order_by("pk")
    )
    picked: list[Any] = []
    for cls in classes:
        if cls.teacher_id not in {c.teacher_id for c in picked}:
            picked.append(cls)
        if len(picked) == len(OPERATOR_DAY):
            break
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    arranged = 0
    for cls, (minutes, what) in zip(picked, OPERATOR_DAY, strict=False):
        start = max((timezone.localtime(now) + timedelta(minutes=minutes)).replace(second=0, microsecond=0), midnight)
        finish = start + timedelta(minutes=45)
        end_time = finish.time() if finish.date() == today else time(23, 59)
        if ClassSession.objects.filter(course_class=cls, date=today, starts_at=start.time()).exists():
            continue  # arranged by an earlier load this minute
        session = ClassSession.objects.filter(course_class=cls, date__gte=today).order_by("number").first()
        if session is None or CheckIn.objects.filter(session=session).exists():
            continue
        ClassSession.objects.filter(pk=session.pk).update(date=today, starts_at=start.time(), ends_at=end_time)
        session = ClassSession.objects.select_related("course_class__school", "course_class__teacher__user").get(
            pk=session.pk
        )
        arranged += 1
        if what == "late":
            at = min(start + timedelta(minutes=22), now)
            fix = _fix(cls.school, 70, 18)
            checkin.check_in(actor=cls.teacher.user, session=session, now=at, **fix)
    # The worker scans every minute; the demo runs the scans that changed something: when the missing check-in was
    # first seen, when nobody had acted a quarter of an hour later, and now.
    for minutes, what in OPERATOR_DAY:
        if what == "missing":
            start = timezone.localtime(now) + timedelta(minutes=minutes)
            for at in (start + timedelta(minutes=10), start + timedelta(minutes=26)):
                if at < now:
                    followups_scan(now=at, school_ids=schools)
    followups_scan(now=now)
    from kehou.attendance.models import FollowUp

    still_open = FollowUp.objects.filter(school_id__in=schools, resolved_at__isnull=True).count()
    return {"operator_sessions": arranged, "follow_ups_open": still_open}


def _place(*, cls: Any, kid: Any, parent: Any, seed: int, now: datetime, windows: Any, enrolments: Any) -> None:
    """A paid place for the parent's child in the class (held, ordered and paid through the simulator)."""
    from kehou.demo.stages.payments import DemoPayer, payments_state, simulator_enabled
    from kehou.enrolment.models import CourseClass

    window = windows.objects.filter(school=cls.school, term=cls.term).order_by("pk").first()
    if window is None:
        return
    with transaction.atomic():
        CourseClass.objects.filter(pk=cls.pk, taken__gte=F("capacity")).update(capacity=F("taken") + 1)
        held = enrolments.objects.create(
            course_class=cls,
            pupil=kid,
            window=window,
            status="held",
            fee_fen=cls.fee_fen,
            hold_expires_at=now + timedelta(minutes=15),
            requested_by=parent,
            created_at=now,
            status_changed_at=now,
        )
        CourseClass.objects.filter(pk=cls.pk).update(taken=F("taken") + 1)
    if simulator_enabled() and payments_state() == "loaded":  # paid like the demo's other places
        payer = DemoPayer(seed=seed)
        payer.begin(now)
        payer.confirm(enrolment_id=held.pk, now=now, actor=parent)
    else:
        from kehou.enrolment.services.selection import enrolment_confirm

        enrolment_confirm(enrolment_id=held.pk, now=now, actor=parent)


def _school_phones() -> int:
    """Each school's office phone (told to guardians with an absence), where it has none: a Nanchang landline made
    from the school's code, so the same on every load."""
    from kehou.orgs.models import School

    schools = list(School.objects.filter(phone=""))
    for school in schools:
        digits = "".join(ch for ch in school.code if ch.isdigit())[-7:].rjust(7, "0")
        school.phone = f"0791-8{digits}"
    School.objects.bulk_update(schools, ["phone"], batch_size=500)
    return len(schools)


def build_attendance(*, seed: int = data.SEED, now: datetime) -> LoadResult:
    from kehou.attendance.models import ensure_builtin_statuses

    ensure_builtin_statuses()
    counts: dict[str, int] = {"school_phones": _school_phones()}
    fresh = False
    try:
        history = build_history(seed=seed, now=now)
        fresh = history["sessions_held"] > 0
        counts |= history
        counts |= build_leave(seed=seed, now=now)
    except Exception:  # the demo's history must not stop the server from starting
        log.exception("the demo's week of sessions could not be loaded")
    try:
        counts |= session_now(seed=seed, now=now)
    except Exception:
        log.exception("the demo teacher's session now could not be arranged")
        counts["session_now"] = 0
    try:
        counts |= operator_day(now=now)
    except Exception:
        log.exception("the operator's day could not be arranged")
        counts["operator_sessions"] = 0
    return LoadResult(loaded=fresh, state="loaded" if fresh else "present", counts=counts)
