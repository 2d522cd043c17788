"""The selection rush: select, hold, waitlist, cancel, confirm, expire, promote, and the lottery draw.

Correctness does not depend on Python's view of the counts. A seat is taken only by the conditional
``UPDATE course_class SET taken = taken + 1 WHERE id = … AND taken < capacity`` in the same transaction as the
enrolment row; a second live enrolment of the same child in the same class violates a partial unique
constraint; a retried request (same ``request_key`` from the same account) finds the row the first one wrote.
The checks that read (the child's number of classes, time clashes) run after the child's row is locked, so
two simultaneous selections for one child are serialised; on SQLite every write transaction is serialised
anyway (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from kehou.catalog.models import LibraryEntry
from kehou.core import audit, permissions
from kehou.core.audit_actions import AuditAction
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import Conflict, KehouError, NotFound
from kehou.orgs.models import School
from kehou.people.models import Guardian, Pupil

from ..hooks import place_payments
from ..locks import place_lock
from ..models import (
    LIVE_STATUSES,
    WAITLIST_ORDER,
    CourseClass,
    Enrolment,
    HardshipWaiver,
    SelectionWindow,
)
from .checks import _check_pupil_load
from .waitlist import holds_expire, promote

S = Enrolment.Status
KEY_RE = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")


@dataclass(frozen=True)
class Selection:
    enrolment: Enrolment
    created: bool  # False when the request key was seen before (a retry): nothing new was written
    position: int | None = None  # waitlist position (1 = next), for a waiting enrolment


def waitlist_position(enrolment: Enrolment) -> int | None:
    if enrolment.status != S.WAITING:
        return None
    ids = list(
        Enrolment.objects.filter(course_class_id=enrolment.course_class_id, status=S.WAITING)
        .order_by(*WAITLIST_ORDER)
        .values_list("pk", flat=True)
    )
    return ids.index(enrolment.pk) + 1 if enrolment.pk in ids else None


def _replay(actor: Any, request_key: str, pupil_id: int, class_id: int) -> Selection | None:
    previous = Enrolment.objects.filter(requested_by=actor, request_key=request_key).first()
    if previous is None:
        return None
    if previous.pupil_id != pupil_id or previous.course_class_id != class_id:
        raise Conflict(
            _("This request key was already used for another selection."),
            code=ErrorCode.REQUEST_KEY_REUSED,
            fields={"request_key": request_key},
        )
    return Selection(previous, created=False, position=waitlist_position(previous))


@dataclass(frozen=True)
class _Context:
    """Everything a selection reads before it writes, from one query (see ``_context``)."""

    school_id: int
    district_id: int | None
    grade: int
    class_id: int | None
    term_id: int
    entry_id: int | None
    name: str
    capacity: int
    taken: int
    status: str
    grade_min: int
    grade_max: int
    fee_fen: int
    window_id: int | None
    mode: str
    max_classes: int
    hold_minutes: int
    replay_id: int | None
    waiting: int | None  # only when the class is full
    stale_holds: bool  # only when the class is full
    usable: bool
    waived: bool


@functools.cache
def _context_sql() -> str:
    t = {
        m.__name__: m._meta.db_table
        for m in (Pupil, Guardian, School, CourseClass, SelectionWindow, Enrolment, HardshipWaiver, LibraryEntry)
    }
    active = LibraryEntry.Status.ACTIVE.value
    # The course is usable while its entry and every entry upstream (at most two levels) are active: the rule of
    # kehou.catalog.selectors.usable_q, written out here so the rush reads it in the same query. Only table names
    # and status constants are formatted in; every value is a parameter.
    return f"""
SELECT p.school_id, s.district_id, p.grade,
       c.id, c.term_id, c.entry_id, c.name, c.capacity, c.taken, c.status, c.grade_min, c.grade_max, c.fee_fen,
       w.id, w.mode, w.max_classes, w.hold_minutes,
       (SELECT r.id FROM {t["Enrolment"]} r WHERE r.requested_by_id = %s AND r.request_key = %s),
       CASE WHEN c.taken >= c.capacity THEN (SELECT COUNT(*) FROM {t["Enrolment"]} q
            WHERE q.course_class_id = c.id AND q.status = '{S.WAITING.value}') END,
       CASE WHEN c.taken >= c.capacity THEN EXISTS(SELECT 1 FROM {t["Enrolment"]} h
            WHERE h.course_class_id = c.id AND h.status = '{S.HELD.value}' AND h.hold_expires_at <= %s) END,
       CASE WHEN c.entry_id IS NULL THEN 1
            WHEN le.status = '{active}' AND (u1.id IS NULL OR u1.status = '{active}')
                 AND (u2.id IS NULL OR u2.status = '{active}') THEN 1
            ELSE 0 END,
       EXISTS(SELECT 1 FROM {t["HardshipWaiver"]} hw WHERE hw.pupil_id = p.id AND hw.term_id = c.term_id
              AND hw.status = '{HardshipWaiver.Status.APPROVED.value}')
FROM {t["Pupil"]} p
JOIN {t["School"]} s ON s.id = p.school_id
LEFT JOIN {t["CourseClass"]} c ON c.id = %s AND c.school_id = p.school_id
LEFT JOIN {t["SelectionWindow"]} w ON w.id = (
    SELECT w2.id FROM {t["SelectionWindow"]} w2
    WHERE w2.school_id = p.school_id AND w2.term_id = c.term_id AND w2.grade = p.grade
      AND w2.status = '{SelectionWindow.Status.PUBLISHED.value}' AND w2.opens_at <= %s AND w2.closes_at > %s
    ORDER BY w2.opens_at LIMIT 1)
LEFT JOIN {t["LibraryEntry"]} le ON le.id = c.entry_id
LEFT JOIN {t["LibraryEntry"]} u1 ON u1.id = le.upstream_id
LEFT JOIN {t["LibraryEntry"]} u2 ON u2.id = u1.upstream_id
WHERE p.id = %s AND EXISTS(SELECT 1 FROM {t["Guardian"]} g WHERE g.pupil_id = p.id AND g.user_id = %s)
"""  # noqa: S608


def _context(*, actor_id: int, pupil_id: int, class_id: int, request_key: str, now: datetime) -> _Context | None:
    """The child (if the actor is a guardian), the class at the child's school, the window open now for the
    child's grade and the class's term, a previous request with the same key, and, for a full class, the
    waitlist length and whether a hold has gone stale: one round trip instead of eight."""
    at = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(_context_sql(), [actor_id, request_key, at, class_id, at, at, pupil_id, actor_id])
        row = cursor.fetchone()
    if row is None:
        return None
    return _Context(
        school_id=row[0],
        district_id=row[1],
        grade=row[2],
        class_id=row[3],
        term_id=row[4],
        entry_id=row[5],
        name=row[6] or "",
        capacity=row[7] or 0,
        taken=row[8] or 0,
        status=row[9] or "",
        grade_min=row[10] or 0,
        grade_max=row[11] or 0,
        fee_fen=row[12] or 0,
        window_id=row[13],
        mode=row[14] or "",
        max_classes=row[15] or 0,
        hold_minutes=row[16] or 0,
        replay_id=row[17],
        waiting=row[18],
        stale_holds=bool(row[19]),
        usable=bool(row[20]),
        waived=bool(row[21]),
    )


def enrolment_select(
    *,
    actor: Any,
    pupil_id: int,
    class_id: int,
    request_key: str,
    now: datetime,
    join_waitlist: bool = False,
) -> Selection:
    """A parent selects a class for a child. First come: a held seat, or with ``join_waitlist`` a waitlist place
    when the class is full (otherwise ``class_full``). Lottery window: an application, drawn at close."""
    if not KEY_RE.match(request_key or ""):
        raise KehouError(
            _("Send a request key of 8 to 64 letters, digits or -_.: characters."),
            code=ErrorCode.REQUEST_KEY_INVALID,
            fields={"request_key": request_key},
        )
    ctx = _context(actor_id=actor.pk, pupil_id=pupil_id, class_id=class_id, request_key=request_key, now=now)
    if ctx is None or ctx.replay_id is not None:
        # A retry answers what the first request got, before any other check (as the first request saw them).
        replay = _replay(actor, request_key, pupil_id, class_id)
        if replay is not None:
            return replay
    if ctx is None:
        raise NotFound(_("Not found."))
    if ctx.class_id is None or ctx.status != CourseClass.Status.ACTIVE:
        raise NotFound(_("The class is not offered at the child's school."), code=ErrorCode.CLASS_NOT_FOUND)
    if ctx.window_id is None:
        raise Conflict(_("Selection is not open for the child's grade now."), code=ErrorCode.WINDOW_CLOSED)
    if not ctx.grade_min <= ctx.grade <= ctx.grade_max:
        raise KehouError(_("The class is not open to the child's grade."), code=ErrorCode.GRADE_NOT_ELIGIBLE)
    lottery = ctx.mode == SelectionWindow.Mode.LOTTERY
    if not lottery and ctx.taken >= ctx.capacity and not join_waitlist:
        # The cheap answer of the rush: no lock, no write, no further query. A stale hold may still be freed.
        if not ctx.stale_holds:
            raise _full_conflict(ctx.capacity, ctx.waiting or 0)
        holds_expire(now=now, course_class_id=class_id)
    if not ctx.usable:
        raise Conflict(_("The course is suspended in the library."), code=ErrorCode.COURSE_SUSPENDED)
    try:
        with transaction.atomic():
            # Serialise one child's selections (max classes and clashes read, then write).
            list(Pupil.objects.select_for_update().filter(pk=pupil_id).order_by().values_list("pk"))
            _check_pupil_load(pupil_id=pupil_id, class_id=class_id, term_id=ctx.term_id, max_classes=ctx.max_classes)
            fee = 0 if ctx.waived else ctx.fee_fen
            row = Enrolment(
                course_class_id=class_id,
                pupil_id=pupil_id,
                window_id=ctx.window_id,
                fee_fen=fee,
                waived=ctx.waived,
                request_key=request_key,
                requested_by=actor,
                created_at=now,
                status_changed_at=now,
            )
            if lottery:
                row.status = S.APPLIED
            elif CourseClass.objects.filter(
                pk=class_id, taken__lt=F("capacity"), status=CourseClass.Status.ACTIVE
            ).update(taken=F("taken") + 1):
                if fee == 0:
                    row.status, row.confirmed_at = S.CONFIRMED, now
                else:
                    row.status = S.HELD
                    row.hold_expires_at = now + timedelta(minutes=ctx.hold_minutes)
            elif join_waitlist:
                row.status, row.queued_at = S.WAITING, now
            else:
                raise _full(class_id, ctx.capacity)
            row.save(force_insert=True)
            audit.record(
                actor=actor,
                action=AuditAction(f"enrolment.{row.status}"),
                object_type="enrolment.enrolment",
                object_id=row.pk,
                object_repr=f"{pupil_id} → {ctx.name}"[:200],
                after={"class": class_id, "pupil": pupil_id, "status": row.status, "fee_fen": fee},
                now=now,
                school_id=ctx.school_id,
                district_id=ctx.district_id,
            )
    except Conflict as refusal:
        # The same key retried in parallel: the retry waited for the child's lock while the first request wrote
        # its row, so it finds that row as the child's place in this class. It is the same request.
        if refusal.code == "already_selected" and (replay := _replay(actor, request_key, pupil_id, class_id)):
            return replay
        raise
    except IntegrityError:
        # A simultaneous duplicate: the same key retried in parallel, or the same child and class twice.
        replay = _replay(actor, request_key, pupil_id, class_id)
        if replay is not None:
            return replay
        raise Conflict(_("The child already has a place in this class."), code=ErrorCode.ALREADY_SELECTED) from None
    return Selection(row, created=True, position=waitlist_position(row))


def _full(class_id: int, capacity: int) -> Conflict:
    return _full_conflict(capacity, Enrolment.objects.filter(course_class_id=class_id, status=S.WAITING).count())


def _full_conflict(capacity: int, waiting: int) -> Conflict:
    return Conflict(
        _("The class is full. You may join its waitlist."),
        code=ErrorCode.CLASS_FULL,
        fields={"capacity": capacity, "waiting": waiting},
    )


def _require_guardian_or_school(actor: Any, enrolment: Enrolment) -> None:
    permissions.require_guardian_or_school(
        actor,
        obj=enrolment,
        pupil_id=enrolment.pupil_id,
        school_id=enrolment.course_class.school_id,
        message=_("Only the child's guardians or the school may cancel."),
        code=ErrorCode.NOT_GUARDIAN,
    )


def enrolment_cancel(
    *, actor: Any, enrolment: Enrolment, now: datetime, reason: str = "", refunding: bool = False
) -> Enrolment:
    """A guardian (or the school) cancels an application, a waitlist place, a hold or a confirmed seat.
    A freed seat goes to the head of the waitlist. Cancelling twice answers with the cancelled enrolment.
    A paid seat is cancelled only together with its refund (``payments.services.refunds.refund_request`` passes
    ``refunding``): the check runs under the row lock, so a payment racing the cancel cannot slip between."""
    _require_guardian_or_school(actor, enrolment)
    payments = place_payments()
    with transaction.atomic():
        current = place_lock(enrolment_id=enrolment.pk)  # its payment rows first, as a payment locks them
        if current.status not in LIVE_STATUSES:
            if current.status == S.CANCELLED:
                return current
            raise Conflict(
                _("This place has already ended."), code=ErrorCode.ENROLMENT_ENDED, fields={"status": current.status}
            )
        was = current.status
        if was == S.CONFIRMED and not refunding:
            paid_order = payments.paid_order_id(enrolment_id=current.pk)
            if paid_order is not None:
                raise Conflict(
                    _("This place is paid for: cancel it with a refund."),
                    code=ErrorCode.PAID_PLACE_NEEDS_REFUND,
                    fields={"order": paid_order},
                )
        Enrolment.objects.filter(pk=current.pk, status=was).update(
            status=S.CANCELLED, status_changed_at=now, ended_reason=(reason or "cancelled")[:120]
        )
        if was in (S.HELD, S.CONFIRMED):
            CourseClass.objects.filter(pk=current.course_class_id).update(taken=F("taken") - 1)
        if was == S.HELD:
            # Its order can no longer be paid (a payment already under way is refunded on arrival).
            payments.close_unpaid(enrolment_ids=[current.pk], now=now)
        audit.record(
            actor=actor,
            action=AuditAction.ENROLMENT_CANCEL,
            obj=current,
            before={"status": was},
            after={"status": S.CANCELLED, "reason": reason[:120]},
            now=now,
            school_id=enrolment.course_class.school_id,
            district_id=enrolment.course_class.school.district_id,
        )
        if was in (S.HELD, S.CONFIRMED):
            promote(course_class_id=current.course_class_id, now=now)
    current.refresh_from_db()
    return current


def enrolment_confirm(*, enrolment_id: int, now: datetime, actor: Any = None) -> Enrolment:
    """A held seat becomes confirmed (payment received, in issue 5's flow). Refused once the hold expired."""
    with transaction.atomic():
        updated = Enrolment.objects.filter(pk=enrolment_id, status=S.HELD, hold_expires_at__gt=now).update(
            status=S.CONFIRMED, confirmed_at=now, status_changed_at=now, hold_expires_at=None
        )
        current = Enrolment.objects.select_related("course_class__school").get(pk=enrolment_id)
        if not updated:
            if current.status == S.CONFIRMED:
                return current
            raise Conflict(_("The hold has expired."), code=ErrorCode.HOLD_EXPIRED, fields={"status": current.status})
        audit.record(
            actor=actor,
            action=AuditAction.ENROLMENT_CONFIRM,
            obj=current,
            before={"status": S.HELD},
            after={"status": S.CONFIRMED},
            now=now,
            school_id=current.course_class.school_id,
            district_id=current.course_class.school.district_id,
        )
    return current
