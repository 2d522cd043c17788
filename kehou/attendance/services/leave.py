"""Leave requests (请假): a guardian asks for a child's leave, the school (or the class's teacher, for one session)
decides, and approved leave is on the roll call before the teacher opens it."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kehou.core import permissions
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import Conflict, Forbidden, KehouError, NotFound
from kehou.core.scope import scope_for
from kehou.enrolment.models import ClassSession
from kehou.notify.services import notify
from kehou.people.models import Pupil, TeacherProfile

from ..models import LeaveRequest, RollCall, RollCallRow
from .common import session_bounds
from .rollcall import recount

MAX_DAYS = 31


def leave_request(
    *,
    actor: Any,
    pupil: Pupil,
    kind: str,
    reason: str,
    now: datetime,
    session: ClassSession | None = None,
    first_date: date | None = None,
    last_date: date | None = None,
) -> LeaveRequest:
    """For one session, or for the days ``first_date``…``last_date`` (a day: both the same). Only the child's
    guardians ask; nothing in the past."""
    scope = scope_for(actor)
    if pupil.pk not in scope.pupil_ids:
        raise NotFound(_("Not found."))
    if kind not in LeaveRequest.Kind.values:
        raise KehouError(_("Personal or sick leave."), code=ErrorCode.INVALID_CHOICE, fields={"kind": kind[:20]})
    reason = (reason or "").strip()
    if not reason:
        raise KehouError(_("Give a reason."), code=ErrorCode.REASON_REQUIRED, fields={"reason": ""})
    today = timezone.localdate(now)
    if session is not None:
        if not session.course_class.enrolments.filter(pupil=pupil, status="confirmed").exists():
            raise NotFound(_("Not found."))
        if now >= session_bounds(session)[1]:
            raise Conflict(_("That session is over."), code=ErrorCode.LEAVE_IN_PAST, fields={"session": session.pk})
        first_date = last_date = session.date
    else:
        if first_date is None:
            raise KehouError(_("Say from which day."), code=ErrorCode.INVALID, fields={"first_date": ""})
        last_date = last_date or first_date
        if last_date < first_date or (last_date - first_date) > timedelta(days=MAX_DAYS):
            raise KehouError(
                _("A leave runs forwards over at most %(n)d days.") % {"n": MAX_DAYS},
                code=ErrorCode.INVALID,
                fields={"last_date": last_date.isoformat()},
            )
        if first_date < today:
            raise Conflict(_("Leave cannot start in the past."), code=ErrorCode.LEAVE_IN_PAST)
    return LeaveRequest.objects.create(
        pupil=pupil,
        kind=kind,
        session=session,
        first_date=first_date,
        last_date=last_date,
        reason=reason[:200],
        requested_by=actor,
        requested_at=now,
    )


def _may_decide(actor: Any, leave: LeaveRequest) -> None:
    """The school's administrators; for one session, also the teacher who runs its class, unless the school decides
    all leave itself (``School.leave_approver``)."""
    school = leave.pupil.school
    scope = scope_for(actor)
    if permissions.administers(scope, school.pk):
        return
    if leave.session_id is not None and school.leave_approver == school.LeaveApprover.TEACHER:
        profile = TeacherProfile.objects.filter(user_id=getattr(actor, "pk", 0) or 0).first()
        if profile is not None and leave.session is not None and leave.session.course_class.teacher_id == profile.pk:
            return
    if scope.may_see(leave):
        raise Forbidden(_("Only the school (or the class's teacher) decides leave."), code=ErrorCode.NOT_SCHOOL_ADMIN)
    raise NotFound(_("Not found."))


def leave_decide(*, actor: Any, leave: LeaveRequest, approve: bool, note: str = "", now: datetime) -> LeaveRequest:
    _may_decide(actor, leave)
    note = (note or "").strip()[:200]
    if not approve and not note:
        raise KehouError(_("Give a reason."), code=ErrorCode.REASON_REQUIRED, fields={"note": ""})
    to = LeaveRequest.Status.APPROVED if approve else LeaveRequest.Status.REJECTED
    with transaction.atomic():
        done = LeaveRequest.objects.filter(pk=leave.pk, status=LeaveRequest.Status.PENDING).update(
            status=to, decided_by=actor, decided_at=now, note=note
        )
        if not done:
            raise Conflict(_("This leave request has already been decided."), code=ErrorCode.LEAVE_DECIDED)
        leave.refresh_from_db()
        if approve:
            apply_to_sheets(leave, now=now)
        pupil = leave.pupil
        when = (
            f"{leave.first_date:%m-%d}"
            if leave.first_date == leave.last_date
            else f"{leave.first_date:%m-%d}–{leave.last_date:%m-%d}"
        )
        title = (
            _("%(name)s's leave (%(when)s) is approved.")
            if approve
            else _("%(name)s's leave (%(when)s) is not approved.")
        ) % {"name": pupil.name, "when": when}
        notify(
            user_ids=list(pupil.guardians.values_list("user_id", flat=True)),
            kind="leave_decided",
            title=title,
            body=note,
            link="/parent/leave/",
            now=now,
        )
    return leave


def apply_to_sheets(leave: LeaveRequest, *, now: datetime) -> int:
    """Sheets already open for the leave's sessions get the leave on the pupil's row, unless the teacher marked it."""
    sessions = (
        Q(roll_call__session=leave.session)
        if leave.session_id
        else Q(roll_call__session__date__gte=leave.first_date, roll_call__session__date__lte=leave.last_date)
    )
    rows = RollCallRow.objects.filter(sessions, pupil=leave.pupil, status__code="unmarked", roll_call__closed_at=None)
    sheets = set(rows.values_list("roll_call_id", flat=True))
    changed = rows.update(status_id=leave.kind, source=RollCallRow.Source.LEAVE, marked_at=now)
    for sheet in RollCall.objects.filter(pk__in=sheets):
        recount(sheet, now=now)
    return changed


def leave_withdraw(*, actor: Any, leave: LeaveRequest, now: datetime) -> LeaveRequest:
    if leave.pupil_id not in scope_for(actor).pupil_ids:
        raise NotFound(_("Not found."))
    done = LeaveRequest.objects.filter(pk=leave.pk, status=LeaveRequest.Status.PENDING).update(
        status=LeaveRequest.Status.WITHDRAWN, decided_at=now
    )
    if not done:
        raise Conflict(_("Only a request still awaiting a decision can be withdrawn."), code=ErrorCode.LEAVE_DECIDED)
    leave.refresh_from_db()
    return leave


def leave_approver_set(*, actor: Any, school: Any, approver: str, now: datetime) -> Any:
    """The school says who decides leave for one session: the class's teacher or the school, or the school only
    (its administrators always may)."""
    from kehou.core import audit
    from kehou.core.audit_actions import AuditAction
    from kehou.orgs.models import School

    if approver not in School.LeaveApprover.values:
        raise KehouError(_("Choose who decides."), code=ErrorCode.INVALID_CHOICE, fields={"approver": approver[:20]})
    scope = scope_for(actor)
    if not permissions.administers(scope, school.pk):
        if scope.may_see(school):
            raise Forbidden(_("Only the school's administrators may change this."), code=ErrorCode.NOT_SCHOOL_ADMIN)
        raise NotFound(_("Not found."))
    with transaction.atomic():
        before = School.objects.select_for_update().values_list("leave_approver", flat=True).get(pk=school.pk)
        if before != approver:
            School.objects.filter(pk=school.pk).update(leave_approver=approver)
            audit.record(
                actor=actor,
                action=AuditAction.LEAVE_APPROVER_SET,
                obj=school,
                before={"leave_approver": before},
                after={"leave_approver": approver},
                now=now,
                school_id=school.pk,
                district_id=school.district_id,
            )
    school.leave_approver = approver
    return school
