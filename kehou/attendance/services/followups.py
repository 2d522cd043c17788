"""The follow-up queue (the operator's exceptions): opened, cleared and escalated by a scan of the sessions' evidence,
closed by hand with a note.

:func:`followups_scan` (the task worker runs it every minute) reads the sessions of the last
``FOLLOW_UP_DAYS`` days once, with their check-ins and roll calls, and for each condition below opens a follow-up,
updates its count, or clears it when the evidence no longer shows it:

* ``no_check_in``: ``NO_CHECK_IN_AFTER_MINUTES`` after the start and no check-in (or a missed one);
* ``no_roll_call``: the session ended, it has pupils, and no mark was made on its sheet;
* ``outside`` / ``uncertain``: the check-in's outcome, until a make-up the school approved clears it;
* ``makeup_pending``: a make-up awaits the school;
* ``absent``: pupils marked absent (without leave) on the sheet.

A follow-up starts with whoever can fix it (the teacher; the school for a make-up or an absence) and, while open,
moves up one level (teacher → school → operator) every ``ESCALATE_AFTER_MINUTES``; each level's people are told
once. The school or an authorised operator may close one with a note (:func:`followup_handle`). Every change is
announced on the live channel of the session's school (``school:<id>``), its district and the city
(``district:<id>``) and its operators (``operator:<id>``), so that open live views update.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehou.core import audit
from kehou.core.audit_actions import AuditAction
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import Conflict, Forbidden, KehouError, NotFound
from kehou.core.roles import Role
from kehou.core.scope import scope_for
from kehou.enrolment.models import ClassSession
from kehou.notify.services import notify
from kehou.people.models import RoleAssignment, TeacherProfile

from ..models import CheckIn, FollowUp
from .common import bounds_of, broadcast_live, rules, runner_id

K = FollowUp.Kind
L = FollowUp.Level
LADDER = [L.TEACHER, L.SCHOOL, L.OPERATOR]
# Where each kind starts: with whoever can put it right.
STARTS_WITH = {
    K.NO_CHECK_IN: L.TEACHER,
    K.NO_ROLL_CALL: L.TEACHER,
    K.OUTSIDE: L.TEACHER,
    K.UNCERTAIN: L.TEACHER,
    K.MAKEUP_PENDING: L.SCHOOL,
    K.ABSENT: L.SCHOOL,
}
NOTE_MAX = 200


@dataclass(frozen=True)
class Found:
    session_id: int
    school_id: int
    kind: str
    count: int = 0


def _conditions(row: dict[str, Any], *, now: datetime, no_check_in_after: timedelta) -> list[Found]:
    """What a session's evidence shows (``row``: the values the scan reads)."""
    start, end = bounds_of(row["date"], row["starts_at"], row["ends_at"])
    found: list[Found] = []
    sid, school = row["pk"], row["course_class__school_id"]
    outcome = row["check_in__outcome"]
    makeup = row["check_in__makeup"] or ""
    cleared = makeup == CheckIn.Makeup.APPROVED
    if now >= start + no_check_in_after and outcome in (None, CheckIn.Outcome.MISSED) and not cleared:
        found.append(Found(sid, school, K.NO_CHECK_IN))
    if outcome in (CheckIn.Outcome.OUTSIDE, CheckIn.Outcome.UNCERTAIN) and not cleared:
        found.append(Found(sid, school, K.OUTSIDE if outcome == CheckIn.Outcome.OUTSIDE else K.UNCERTAIN))
    if makeup == CheckIn.Makeup.PENDING:
        found.append(Found(sid, school, K.MAKEUP_PENDING))
    expected = row["roll_call__expected"]
    if expected is None:  # no sheet yet: every place is unmarked
        expected = unmarked = row["course_class__taken"] or 0
    else:
        unmarked = row["roll_call__unmarked"] or 0
    if now >= end and expected > 0 and unmarked >= expected:
        found.append(Found(sid, school, K.NO_ROLL_CALL))
    absent = row["roll_call__absent"] or 0
    if absent > 0:
        found.append(Found(sid, school, K.ABSENT, count=absent))
    return found


SCAN_FIELDS = (
    "pk",
    "date",
    "starts_at",
    "ends_at",
    "course_class__school_id",
    "course_class__taken",
    "check_in__outcome",
    "check_in__makeup",
    "roll_call__expected",
    "roll_call__unmarked",
    "roll_call__absent",
)


def followups_scan(*, now: datetime, school_ids: list[int] | None = None) -> dict[str, int]:
    """Open, update, clear and escalate follow-ups from the evidence of the recent sessions. Idempotent: run twice
    at the same moment, the second run changes nothing; safe beside another worker (one row per session and kind,
    kept by a unique index; each change a conditional update)."""
    conf = rules()
    today = timezone.localdate(now)
    first = today - timedelta(days=int(conf["FOLLOW_UP_DAYS"]) - 1)
    sessions = ClassSession.objects.filter(date__gte=first, date__lte=today, course_class__status="active")
    if school_ids is not None:
        sessions = sessions.filter(course_class__school_id__in=school_ids)
    after = timedelta(minutes=int(conf["NO_CHECK_IN_AFTER_MINUTES"]))
    found: dict[tuple[int, str], Found] = {}
    for row in sessions.values(*SCAN_FIELDS).iterator(chunk_size=2000):
        for f in _conditions(row, now=now, no_check_in_after=after):
            found[(f.session_id, f.kind)] = f
    existing = FollowUp.objects.filter(session__date__gte=first, session__date__lte=today)
    if school_ids is not None:
        existing = existing.filter(school_id__in=school_ids)
    counts = {"follow_ups_opened": 0, "follow_ups_cleared": 0, "follow_ups_escalated": 0, "follow_ups_updated": 0}
    known: dict[tuple[int, str], FollowUp] = {(f.session_id, f.kind): f for f in existing}
    for key, f in found.items():
        row = known.get(key)
        if row is None:
            if _open(f, now=now):
                counts["follow_ups_opened"] += 1
        elif row.resolved_at is None and f.count != row.count:
            FollowUp.objects.filter(pk=row.pk, resolved_at__isnull=True).update(count=f.count)
            counts["follow_ups_updated"] += 1
            _announce(row, now=now)
    for key, row in known.items():
        if row.resolved_at is not None or key in found:
            continue
        if FollowUp.objects.filter(pk=row.pk, resolved_at__isnull=True).update(
            resolved_at=now, resolution=FollowUp.Resolution.CLEARED
        ):
            counts["follow_ups_cleared"] += 1
            _announce(row, now=now)
    step = timedelta(minutes=int(conf["ESCALATE_AFTER_MINUTES"]))
    waiting = FollowUp.objects.filter(resolved_at__isnull=True).exclude(level=L.OPERATOR)
    if school_ids is not None:
        waiting = waiting.filter(school_id__in=school_ids)
    for row in waiting.order_by("pk"):
        since = row.escalated_at or row.opened_at
        if now - since < step:
            continue
        higher = LADDER[LADDER.index(L(row.level)) + 1]
        with transaction.atomic():
            if not FollowUp.objects.filter(pk=row.pk, level=row.level, resolved_at__isnull=True).update(
                level=higher, escalated_at=now
            ):
                continue  # resolved or escalated meanwhile
            row.level, row.escalated_at = higher, now
            _tell(row, now=now)
            _announce(row, now=now)
        counts["follow_ups_escalated"] += 1
    return counts


def _open(f: Found, *, now: datetime) -> bool:
    try:
        with transaction.atomic():
            row = FollowUp.objects.create(
                session_id=f.session_id,
                school_id=f.school_id,
                kind=f.kind,
                level=STARTS_WITH[K(f.kind)],
                count=f.count,
                opened_at=now,
            )
            _tell(row, now=now)
            _announce(row, now=now)
    except IntegrityError:
        return False  # another worker opened it first
    return True


def people_at(row: FollowUp) -> list[int]:
    """The accounts a follow-up is with at its level: the session's teacher (the substitute when one was named),
    the school's administrators, or the staff of the operators authorised for the school."""
    if row.level == L.TEACHER:
        session = ClassSession.objects.select_related("course_class__teacher", "substitute__teacher").get(
            pk=row.session_id
        )
        user_id = TeacherProfile.objects.filter(pk=runner_id(session)).values_list("user_id", flat=True).first()
        return [user_id] if user_id else []
    if row.level == L.SCHOOL:
        ids = RoleAssignment.objects.filter(role=Role.SCHOOL_ADMIN, school_id=row.school_id)
    else:
        from kehou.orgs.models import OperatorAuthorisation

        operators = OperatorAuthorisation.objects.filter(school_id=row.school_id).values("operator_id")
        ids = RoleAssignment.objects.filter(role=Role.OPERATOR_STAFF, operator_id__in=operators)
    return sorted(set(ids.values_list("user_id", flat=True)))


def _tell(row: FollowUp, *, now: datetime) -> None:
    session = ClassSession.objects.select_related("course_class").get(pk=row.session_id)
    what = FollowUp.Kind(row.kind).label
    title = _("To follow up: %(what)s · %(class)s %(date)s") % {
        "what": what,
        "class": session.course_class.name,
        "date": session.date.isoformat(),
    }
    notify(
        user_ids=people_at(row),
        kind="follow_up",
        title=title,
        link=f"/sessions/{row.session_id}/" if row.level == L.TEACHER else f"/operations/live/?date={session.date}",
        now=now,
        dedup_key=f"follow-up:{row.pk}:{row.level}",
        important=row.level == L.OPERATOR,
    )


def _announce(row: FollowUp, *, now: datetime) -> None:
    broadcast_live(
        school_id=row.school_id,
        data={"kind": "follow_up", "session": row.session_id, "follow_up": row.pk, "at": now.isoformat()},
    )


def followup_handle(*, actor: Any, follow_up: FollowUp, note: str, now: datetime) -> FollowUp:
    """The school or an authorised operator closes an open follow-up, saying what was done. A teacher clears theirs
    by acting (checking in, taking the roll, asking for a make-up); a bureau watches."""
    scope = scope_for(actor)
    if not scope.may_see(follow_up):
        raise NotFound(_("Not found."))
    may = Role.SUPERUSER in scope.roles or follow_up.school_id in scope.school_ids
    may = may or follow_up.school_id in scope.operator_school_ids
    if not may:
        raise Forbidden(
            _("Only the school or its operator may close a follow-up."), code=ErrorCode.NOT_FOLLOW_UP_HANDLER
        )
    note = (note or "").strip()
    if not note:
        raise KehouError(_("Say what was done."), code=ErrorCode.FOLLOW_UP_NOTE_INVALID, fields={"note": 0})
    if len(note) > NOTE_MAX:
        raise KehouError(
            _("At most %(n)d characters.") % {"n": NOTE_MAX},
            code=ErrorCode.FOLLOW_UP_NOTE_INVALID,
            fields={"note": len(note)},
        )
    with transaction.atomic():
        if not FollowUp.objects.filter(pk=follow_up.pk, resolved_at__isnull=True).update(
            resolved_at=now, resolution=FollowUp.Resolution.HANDLED, handled_by=actor, note=note
        ):
            raise Conflict(_("This follow-up is already closed."), code=ErrorCode.FOLLOW_UP_CLOSED)
        follow_up.refresh_from_db()
        audit.record(
            actor=actor,
            action=AuditAction.FOLLOW_UP_HANDLE,
            obj=follow_up,
            object_repr=f"{follow_up.get_kind_display()} #{follow_up.session_id}",
            after={"kind": follow_up.kind, "level": follow_up.level, "note": note},
            now=now,
            school_id=follow_up.school_id,
            district_id=follow_up.school.district_id,
        )
        _announce(follow_up, now=now)
    return follow_up
