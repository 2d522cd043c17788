"""Attendance's reads: a teacher's day and week, a session's state, the roll-call sheet, flagged check-ins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy

from kehou.core.scope import Scope
from kehou.enrolment.models import ClassSession
from kehou.people.models import TeacherProfile
from kehou.people.selectors import shown_pupil_name

from .models import AttendanceStatus, CheckIn, Comment, RollCall, RollCallRow, SessionSubstitute
from .services.common import check_in_opens, rules, runner_id, session_bounds


def teacher_profile_of(user: Any) -> TeacherProfile | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return TeacherProfile.objects.filter(user_id=user.pk).first()


def sessions_with_state() -> QuerySet[ClassSession]:
    return ClassSession.objects.select_related(
        "course_class__school",
        "course_class__teacher__user",
        "substitute__teacher__user",
        "check_in",
        "roll_call",
    ).order_by("date", "starts_at", "course_class__name")


def teacher_sessions(*, teacher: TeacherProfile, first: date, last: date | None = None) -> QuerySet[ClassSession]:
    """The sessions a teacher runs (or was replaced at) from ``first`` to ``last``: of their classes, and those
    they substitute at. Cancelled classes are left out."""
    last = last or first
    return sessions_with_state().filter(
        Q(course_class__teacher=teacher) | Q(substitute__teacher=teacher),
        date__gte=first,
        date__lte=last,
        course_class__status="active",
    )


@dataclass(frozen=True)
class SessionState:
    code: str  # upcoming | open | in_progress | checked_in | roll_call_taken | missed | ended
    runs_it: bool
    substitute_name: str


def _one(session: ClassSession, name: str) -> Any:
    try:
        return getattr(session, name)
    except Exception:  # RelatedObjectDoesNotExist of a reverse one-to-one
        return None


def check_in_of(session: ClassSession) -> CheckIn | None:
    return _one(session, "check_in")  # type: ignore[no-any-return]


def roll_call_of(session: ClassSession) -> RollCall | None:
    return _one(session, "roll_call")  # type: ignore[no-any-return]


def substitute_of(session: ClassSession) -> SessionSubstitute | None:
    return _one(session, "substitute")  # type: ignore[no-any-return]


STATE_LABELS = {
    "upcoming": gettext_lazy("Upcoming"),
    "open": gettext_lazy("Check-in open"),
    "in_progress": gettext_lazy("Class under way"),
    "checked_in": gettext_lazy("Checked in"),
    "roll_call_taken": gettext_lazy("Roll call taken"),
    "missed": gettext_lazy("Missed"),
}


def state_code(
    *, start: datetime, end: datetime, outcome: str | None, expected: int | None, unmarked: int | None, now: datetime
) -> str:
    """A session's state from its times, its check-in's outcome (None: none) and its roll call's counts (None: no
    sheet yet). The timetable and the live view both read it."""
    if expected is not None and (unmarked or 0) < expected:
        return "roll_call_taken"
    if outcome is not None and outcome != CheckIn.Outcome.MISSED:
        return "checked_in"
    if now >= end or outcome is not None:
        return "missed"
    if now >= start:
        return "in_progress"
    if now >= start - timedelta(minutes=int(rules()["OPENS_BEFORE_MINUTES"])):
        return "open"
    return "upcoming"


def session_state(session: ClassSession, *, now: datetime, teacher_id: int | None = None) -> SessionState:
    start, end = session_bounds(session)
    check_in = check_in_of(session)
    roll_call = roll_call_of(session)
    substitute = substitute_of(session)
    return SessionState(
        code=state_code(
            start=start,
            end=end,
            outcome=check_in.outcome if check_in is not None else None,
            expected=roll_call.expected if roll_call is not None else None,
            unmarked=roll_call.unmarked if roll_call is not None else None,
            now=now,
        ),
        runs_it=teacher_id is not None and teacher_id == runner_id(session),
        substitute_name=(substitute.teacher.user.full_name if substitute is not None else ""),
    )


def session_in_progress(*, teacher: TeacherProfile, now: datetime) -> ClassSession | None:
    """The session the teacher runs now, or the next one today whose check-in is open."""
    today = timezone.localdate(now)
    for session in teacher_sessions(teacher=teacher, first=today):
        if runner_id(session) != teacher.pk:
            continue
        _start, end = session_bounds(session)
        if check_in_opens(session) <= now < end:
            return session
    return None


def statuses() -> list[AttendanceStatus]:
    return list(AttendanceStatus.objects.filter(active=True))


def roll_call_rows(*, scope: Scope, roll_call: RollCall, session: ClassSession) -> list[dict[str, Any]]:
    """The sheet's rows as the viewer may see them (names in full for the school and the teacher who runs it)."""
    teacher_id = runner_id(session)
    rows = (
        RollCallRow.objects.filter(roll_call=roll_call)
        .select_related("pupil")
        .order_by("pupil__grade", "pupil__class_name", "pupil__name", "pupil_id")
    )
    return [
        {
            "pupil": {
                "id": row.pupil_id,
                "name": shown_pupil_name(scope=scope, pupil=row.pupil, teacher_id=teacher_id),
                "class_name": row.pupil.class_name,
                "grade": row.pupil.grade,
            },
            "status": row.status_id,
            "source": row.source,
            "marked_at": row.marked_at,
        }
        for row in rows
    ]


def flagged_check_ins(*, scope: Scope, since: date | None = None) -> QuerySet[CheckIn]:
    """Check-ins outside, uncertain, late or missed (not cleared by an approved make-up), newest first."""
    qs = scope.filter(
        CheckIn.objects.exclude(outcome=CheckIn.Outcome.INSIDE, timing=CheckIn.Timing.ON_TIME).exclude(
            makeup=CheckIn.Makeup.APPROVED
        )
    ).select_related("session__course_class__school", "teacher__user")
    if since is not None:
        qs = qs.filter(session__date__gte=since)
    return qs.order_by("-session__date", "-session__starts_at")


def pending_makeups(*, scope: Scope) -> QuerySet[CheckIn]:
    return scope.filter(CheckIn.objects.filter(makeup=CheckIn.Makeup.PENDING)).select_related(
        "session__course_class__school", "teacher__user"
    )


def week_of(day: date) -> tuple[date, date]:
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def session_card(session: ClassSession, *, now: datetime, teacher_id: int | None) -> dict[str, Any]:
    """One session as the timetable (API and page) shows it."""
    start, end = session_bounds(session)
    state = session_state(session, now=now, teacher_id=teacher_id)
    check_in = check_in_of(session)
    roll_call = roll_call_of(session)
    cls = session.course_class
    if roll_call is not None:
        counts = roll_call.counts()
    else:
        counts = {"expected": 0, "present": 0, "absent": 0, "leave": 0, "unmarked": 0}
    return {
        "id": session.pk,
        "date": session.date,
        "number": session.number,
        "starts_at": timezone.localtime(start),
        "ends_at": timezone.localtime(end),
        "course_class": {"id": cls.pk, "name": cls.name},
        "school": {"id": cls.school_id, "name": cls.school.name},
        "room": cls.room,
        "state": state.code,
        "runs_it": state.runs_it,
        "substitute": state.substitute_name,
        "check_in": (
            {
                "outcome": check_in.outcome,
                "at": check_in.at,
                "timing": check_in.timing,
                "distance_m": check_in.distance_m,
                "makeup": check_in.makeup,
            }
            if check_in is not None
            else None
        ),
        "roll_call": counts,
        "expected_pupils": cls.taken if roll_call is None else roll_call.expected,
    }


def comments(*, scope: Scope | None) -> QuerySet[Comment]:
    """Comments, newest first, with what a list shows; narrowed to ``scope`` when given (the API base narrows
    again)."""
    qs = Comment.objects.select_related("session__course_class", "pupil", "author").order_by("-created_at", "-pk")
    return scope.filter(qs) if scope is not None else qs
