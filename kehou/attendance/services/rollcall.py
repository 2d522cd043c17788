"""The roll call (点名): one sheet per session, one row per pupil with a live place that day.

The counts on the sheet (expected, present, absent, on leave, unmarked) are recomputed from the rows in the
transaction of every mark, under a lock on the sheet, so two devices marking at once cannot leave them wrong. Marking
a class of 40 is a fixed number of queries whatever the class size: one UPDATE per distinct status in the batch.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kehou.core import audit, permissions
from kehou.core.audit_actions import AuditAction
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import Conflict, KehouError
from kehou.core.jobs import enqueue
from kehou.core.scope import scope_for
from kehou.enrolment.models import ClassSession, Enrolment
from kehou.notify import events
from kehou.people.models import TeacherProfile

from ..models import UNMARKED, AttendanceStatus, LeaveRequest, RollCall, RollCallRow
from .common import (
    broadcast_live,
    check_in_opens,
    require_active,
    require_runner,
    roll_call_closes,
    rules,
    runner_id,
    session_bounds,
)

GROUPS = ("present", "absent", "leave", "unmarked")


def live_places(session: ClassSession) -> Any:
    """The places live in the class on the session's date: confirmed before it ended, and not ended before it."""
    _start, end = session_bounds(session)
    return Enrolment.objects.filter(course_class_id=session.course_class_id, confirmed_at__lt=end).filter(
        Q(status=Enrolment.Status.CONFIRMED) | Q(status=Enrolment.Status.CANCELLED, status_changed_at__gte=end)
    )


def approved_leave(session: ClassSession, pupil_ids: list[int]) -> dict[int, str]:
    """pupil id → the leave status code, for approved leave covering this session."""
    rows = LeaveRequest.objects.filter(
        Q(session=session) | Q(session__isnull=True, first_date__lte=session.date, last_date__gte=session.date),
        pupil_id__in=pupil_ids,
        status=LeaveRequest.Status.APPROVED,
    ).values_list("pupil_id", "kind")
    return dict(rows)


def recount(roll_call: RollCall, *, now: datetime) -> RollCall:
    """The counts from the rows (one aggregate), written in the caller's transaction."""
    by_group: dict[str, int] = defaultdict(int)
    for group, n in (
        RollCallRow.objects.filter(roll_call=roll_call).values_list("status__group").annotate(n=Count("id"))
    ):
        by_group[group] += n
    counts = {g: by_group.get(g, 0) for g in GROUPS}
    expected = sum(counts.values())
    RollCall.objects.filter(pk=roll_call.pk).update(expected=expected, updated_at=now, **counts)
    roll_call.expected = expected
    for g, n in counts.items():
        setattr(roll_call, g, n)
    roll_call.updated_at = now
    # whoever has the session open (the teacher's other device, the school, the operator) sees the counts change
    data = {"kind": "roll_call", "session": roll_call.session_id, **roll_call.counts(), "at": now.isoformat()}
    events.broadcast(f"session:{roll_call.session_id}", data)
    school_id = ClassSession.objects.filter(pk=roll_call.session_id).values_list("course_class__school_id", flat=True)
    broadcast_live(school_id=school_id.get(), data=data)
    return roll_call


def roll_call_open(*, session: ClassSession, now: datetime) -> RollCall:
    """The session's sheet, made on first use: a row for each live place, approved leave already on it."""
    existing = RollCall.objects.filter(session=session).first()
    if existing is not None:
        return existing
    places = list(live_places(session).values_list("pk", "pupil_id"))
    leave = approved_leave(session, [p for _e, p in places])
    try:
        with transaction.atomic():
            roll_call = RollCall.objects.create(session=session, opened_at=now, updated_at=now)
            RollCallRow.objects.bulk_create(
                [
                    RollCallRow(
                        roll_call=roll_call,
                        pupil_id=pupil_id,
                        enrolment_id=enrolment_id,
                        status_id=leave.get(pupil_id, UNMARKED),
                        source=RollCallRow.Source.LEAVE if pupil_id in leave else RollCallRow.Source.SHEET,
                        marked_at=now if pupil_id in leave else None,
                    )
                    for enrolment_id, pupil_id in places
                ]
            )
            return recount(roll_call, now=now)
    except IntegrityError:  # made by another request at the same moment
        return RollCall.objects.get(session=session)


def _may_mark(actor: Any, session: ClassSession) -> str:
    """The runner marks (source ``teacher``); the school's administrators may correct (source ``school``)."""
    profile = TeacherProfile.objects.filter(user_id=getattr(actor, "pk", 0) or 0).only("pk").first()
    if profile is not None and profile.pk == runner_id(session):
        return RollCallRow.Source.TEACHER
    school = session.course_class.school
    scope = scope_for(actor)
    if permissions.administers(scope, school.pk):
        return RollCallRow.Source.SCHOOL
    require_runner(actor, session)  # raises the right 403 or 404
    return RollCallRow.Source.TEACHER  # not reached


def require_open(session: ClassSession, roll_call: RollCall | None, now: datetime) -> None:
    require_active(session)
    if now < check_in_opens(session):
        raise Conflict(_("The roll call opens with check-in, before the session."), code=ErrorCode.ROLL_CALL_NOT_OPEN)
    if (roll_call is not None and roll_call.closed_at is not None) or now >= roll_call_closes(session):
        raise Conflict(_("This roll call is closed."), code=ErrorCode.ROLL_CALL_CLOSED)


def _statuses() -> dict[str, AttendanceStatus]:
    return {s.code: s for s in AttendanceStatus.objects.filter(active=True).exclude(code=UNMARKED)}


def roll_call_mark(*, actor: Any, session: ClassSession, marks: list[dict[str, Any]], now: datetime) -> RollCall:
    """Marks ``[{"pupil": id, "status": code}]`` on the sheet; all or nothing."""
    source = _may_mark(actor, session)
    statuses = _statuses()
    wanted: dict[int, str] = {}
    for i, mark in enumerate(marks):
        code = str(mark.get("status", ""))
        if code not in statuses:
            raise KehouError(
                _("Unknown status %(code)s.") % {"code": code[:24]},
                code=ErrorCode.STATUS_UNKNOWN,
                fields={f"marks[{i}].status": code[:24]},
            )
        try:
            pupil_id = int(mark.get("pupil"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise KehouError(
                _("Each mark names a pupil by id."), code=ErrorCode.INVALID, fields={f"marks[{i}].pupil": ""}
            ) from None
        if pupil_id in wanted and wanted[pupil_id] != code:
            raise KehouError(
                _("A pupil is marked twice in one request."),
                code=ErrorCode.INVALID,
                fields={f"marks[{i}].pupil": pupil_id},
            )
        wanted[pupil_id] = code
    roll_call = roll_call_open(session=session, now=now)
    with transaction.atomic():
        roll_call = RollCall.objects.select_for_update().get(pk=roll_call.pk)
        require_open(session, roll_call, now)
        on_sheet = set(
            RollCallRow.objects.filter(roll_call=roll_call, pupil_id__in=list(wanted)).values_list(
                "pupil_id", flat=True
            )
        )
        missing = [p for p in wanted if p not in on_sheet]
        if missing:
            raise KehouError(
                _("Some pupils have no place in this class on this date."),
                code=ErrorCode.PUPIL_NOT_ON_SHEET,
                fields={"pupils": missing[:20]},
            )
        by_status: dict[str, list[int]] = defaultdict(list)
        for pupil_id, code in wanted.items():
            by_status[code].append(pupil_id)
        for code, pupil_ids in by_status.items():
            RollCallRow.objects.filter(roll_call=roll_call, pupil_id__in=pupil_ids).update(
                status_id=code, source=source, marked_by=actor, marked_at=now
            )
        if any(statuses[c].group == AttendanceStatus.Group.ABSENT for c in by_status):
            enqueue("kehou.attendance.tasks.notify_absences", session_id=session.pk)
        if source == RollCallRow.Source.SCHOOL and wanted:
            school = session.course_class.school
            audit.record(
                actor=actor,
                action=AuditAction.ROLL_CALL_CORRECTED,
                obj=roll_call,
                object_repr=f"{session.course_class.name} {session.date} #{session.number}",
                after={"marks": {str(p): c for p, c in wanted.items()}},
                now=now,
                school_id=school.pk,
                district_id=school.district_id,
            )
        return recount(roll_call, now=now)


def roll_call_all_present(*, actor: Any, session: ClassSession, now: datetime) -> RollCall:
    """ "All present" (全部到): fills only the rows not marked yet; leave and earlier marks stay."""
    source = _may_mark(actor, session)
    roll_call = roll_call_open(session=session, now=now)
    with transaction.atomic():
        roll_call = RollCall.objects.select_for_update().get(pk=roll_call.pk)
        require_open(session, roll_call, now)
        RollCallRow.objects.filter(roll_call=roll_call, status_id=UNMARKED).update(  # type: ignore[misc]
            status_id="present", source=source, marked_by=actor, marked_at=now
        )
        return recount(roll_call, now=now)


def roll_calls_close(*, now: datetime) -> dict[str, int]:
    """Sessions past their close: the sheet is made if nobody opened it (every row 未点名) and closed; a session
    with no check-in gets a ``missed`` one. Looks back two days, so a stopped worker catches up."""
    from datetime import timedelta

    from .checkin import record_missed

    closed = missed = 0
    minutes = int(rules()["ROLL_CALL_CLOSE_MINUTES"])
    today = timezone.localdate(now)
    due = (
        ClassSession.objects.filter(date__gte=today - timedelta(days=2), date__lte=today, course_class__status="active")
        .filter(Q(roll_call__isnull=True) | Q(roll_call__closed_at__isnull=True) | Q(check_in__isnull=True))
        .select_related("course_class", "substitute", "roll_call", "check_in")
    )
    for session in due:
        _start, end = session_bounds(session)
        if now < end:
            continue
        if not hasattr(session, "check_in") and record_missed(session=session, now=now) is not None:
            missed += 1
        if now < end + timedelta(minutes=minutes):
            continue
        roll_call = roll_call_open(session=session, now=now)
        if roll_call.closed_at is None:
            closed += RollCall.objects.filter(pk=roll_call.pk, closed_at__isnull=True).update(closed_at=now)
    return {"roll_calls_closed": closed, "check_ins_missed": missed}
