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

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils.translation import gettext as _

from kehou.catalog import draw
from kehou.catalog.models import LibraryEntry
from kehou.core import audit
from kehou.core.errors import Conflict, Forbidden, KehouError, NotFound
from kehou.core.scope import scope_for
from kehou.notify.services import notify
from kehou.orgs.models import School
from kehou.people.models import Guardian, Pupil

from ..models import (
    LIVE_STATUSES,
    WAITLIST_ORDER,
    ClassSlot,
    CourseClass,
    Enrolment,
    HardshipWaiver,
    LotteryDraw,
    SelectionWindow,
)
from .common import require_school_admin

S = Enrolment.Status
COUNTED = (S.APPLIED, S.HELD, S.CONFIRMED)  # what counts towards a window's "most classes per child"
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
            code="request_key_reused",
            fields={"request_key": request_key},
        )
    return Selection(previous, created=False, position=waitlist_position(previous))


def _guardians(pupil_ids: list[int]) -> list[int]:
    return list(Guardian.objects.filter(pupil_id__in=pupil_ids).values_list("user_id", flat=True))


def _check_pupil_load(
    *,
    pupil_id: int,
    class_id: int,
    term_id: int,
    max_classes: int,
    exclude_pk: int | None = None,
) -> None:
    """Refuse a second live place in the same class, more classes than the window allows, and time clashes."""
    live = list(
        Enrolment.objects.filter(pupil_id=pupil_id, status__in=LIVE_STATUSES, course_class__term_id=term_id)
        .exclude(pk=exclude_pk or 0)
        .values_list("pk", "course_class_id", "status")
    )
    for pk, live_class_id, status in live:
        if live_class_id == class_id:
            raise Conflict(
                _("The child already has a place in this class."),
                code="already_selected",
                fields={"enrolment": pk, "status": status},
            )
    counted = [live_class_id for _pk, live_class_id, status in live if status in COUNTED]
    if len(counted) >= max_classes:
        raise Conflict(
            _("The child already holds the most classes allowed (%(n)s).") % {"n": max_classes},
            code="too_many_classes",
            fields={"max_classes": max_classes},
        )
    if counted:
        # A slot of a held class that overlaps a slot of this one (same weekday, times intersect): one query.
        overlapping = ClassSlot.objects.filter(
            course_class_id=class_id,
            weekday=OuterRef("weekday"),
            starts_at__lt=OuterRef("ends_at"),
            ends_at__gt=OuterRef("starts_at"),
        )
        clash = (
            ClassSlot.objects.filter(course_class_id__in=counted)
            .filter(Exists(overlapping))
            .values_list("course_class_id", "course_class__name")
            .first()
        )
        if clash is not None:
            raise Conflict(
                _("This class clashes with “%(name)s”.") % {"name": clash[1]},
                code="time_clash",
                fields={"class": clash[0]},
            )


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
            code="request_key_invalid",
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
        raise NotFound(_("The class is not offered at the child's school."), code="class_not_found")
    if ctx.window_id is None:
        raise Conflict(_("Selection is not open for the child's grade now."), code="window_closed")
    if not ctx.grade_min <= ctx.grade <= ctx.grade_max:
        raise KehouError(_("The class is not open to the child's grade."), code="grade_not_eligible")
    lottery = ctx.mode == SelectionWindow.Mode.LOTTERY
    if not lottery and ctx.taken >= ctx.capacity and not join_waitlist:
        # The cheap answer of the rush: no lock, no write, no further query. A stale hold may still be freed.
        if not ctx.stale_holds:
            raise _full_conflict(ctx.capacity, ctx.waiting or 0)
        holds_expire(now=now, course_class_id=class_id)
    if not ctx.usable:
        raise Conflict(_("The course is suspended in the library."), code="course_suspended")
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
                action=f"enrolment.{row.status}",
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
        raise Conflict(_("The child already has a place in this class."), code="already_selected") from None
    return Selection(row, created=True, position=waitlist_position(row))


def _full(class_id: int, capacity: int) -> Conflict:
    return _full_conflict(capacity, Enrolment.objects.filter(course_class_id=class_id, status=S.WAITING).count())


def _full_conflict(capacity: int, waiting: int) -> Conflict:
    return Conflict(
        _("The class is full. You may join its waitlist."),
        code="class_full",
        fields={"capacity": capacity, "waiting": waiting},
    )


def _require_guardian_or_school(actor: Any, enrolment: Enrolment) -> None:
    scope = scope_for(actor)
    school = enrolment.course_class.school
    if enrolment.pupil_id in scope.pupil_ids or school.pk in scope.school_ids or "superuser" in scope.roles:
        return
    if scope.may_see(enrolment):
        raise Forbidden(_("Only the child's guardians or the school may cancel."), code="not_guardian")
    raise NotFound(_("Not found."))


def enrolment_cancel(
    *, actor: Any, enrolment: Enrolment, now: datetime, reason: str = "", refunding: bool = False
) -> Enrolment:
    """A guardian (or the school) cancels an application, a waitlist place, a hold or a confirmed seat.
    A freed seat goes to the head of the waitlist. Cancelling twice answers with the cancelled enrolment.
    A paid seat is cancelled only together with its refund (``payments.services.refunds.refund_request`` passes
    ``refunding``): the check runs under the row lock, so a payment racing the cancel cannot slip between."""
    from django.apps import apps

    _require_guardian_or_school(actor, enrolment)
    with transaction.atomic():
        # Lock the place's order before the place, in the same order as a payment does (order, then place): the
        # other way round, a payment and a cancel at the same moment deadlock on PostgreSQL.
        list(
            apps.get_model("payments", "Order")
            .objects.select_for_update()
            .filter(enrolment_id=enrolment.pk)
            .values_list("pk", flat=True)
        )
        current = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
        if current.status not in LIVE_STATUSES:
            if current.status == S.CANCELLED:
                return current
            raise Conflict(
                _("This place has already ended."), code="enrolment_ended", fields={"status": current.status}
            )
        was = current.status
        if was == S.CONFIRMED and not refunding:
            paid = apps.get_model("payments", "Order").objects.filter(enrolment_id=current.pk, paid_fen__gt=0)
            if paid.exists():
                raise Conflict(
                    _("This place is paid for: cancel it with a refund."),
                    code="paid_place_needs_refund",
                    fields={"order": paid.values_list("pk", flat=True).first()},
                )
        Enrolment.objects.filter(pk=current.pk, status=was).update(
            status=S.CANCELLED, status_changed_at=now, ended_reason=(reason or "cancelled")[:120]
        )
        if was in (S.HELD, S.CONFIRMED):
            CourseClass.objects.filter(pk=current.course_class_id).update(taken=F("taken") - 1)
        if was == S.HELD:
            # Its order can no longer be paid (a payment already under way is refunded on arrival).
            apps.get_model("payments", "Order").objects.filter(enrolment_id=current.pk, status="pending").update(
                status="closed", closed_at=now
            )
        audit.record(
            actor=actor,
            action="enrolment.cancel",
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
            raise Conflict(_("The hold has expired."), code="hold_expired", fields={"status": current.status})
        audit.record(
            actor=actor,
            action="enrolment.confirm",
            obj=current,
            before={"status": S.HELD},
            after={"status": S.CONFIRMED},
            now=now,
            school_id=current.course_class.school_id,
            district_id=current.course_class.school.district_id,
        )
    return current


def holds_expire(*, now: datetime, course_class_id: int | None = None, limit: int = 500) -> int:
    """Expire holds past their time: each frees its seat, which goes to the head of the waitlist. A hold whose
    payment is under way (an attempt open at a channel) waits ``PAYMENT_GRACE`` longer for the channel's word: a
    payment the channel says was made within the hold then still confirms the seat."""
    from django.apps import apps
    from django.db.models import Exists, OuterRef

    from kehou.payments.services.orders import PAYMENT_GRACE

    attempt = apps.get_model("payments", "PaymentAttempt")
    paying = attempt.objects.filter(order__enrolment=OuterRef("pk"), status="created")
    stale = Enrolment.objects.filter(status=S.HELD, hold_expires_at__lte=now).filter(
        Q(hold_expires_at__lte=now - PAYMENT_GRACE) | ~Exists(paying)
    )
    if course_class_id is not None:
        stale = stale.filter(course_class_id=course_class_id)
    expired = 0
    for pk, class_id in list(stale.order_by("hold_expires_at").values_list("pk", "course_class_id")[:limit]):
        with transaction.atomic():
            if not Enrolment.objects.filter(pk=pk, status=S.HELD, hold_expires_at__lte=now).update(
                status=S.EXPIRED, status_changed_at=now, ended_reason="hold expired"
            ):
                continue  # paid or cancelled meanwhile
            CourseClass.objects.filter(pk=class_id).update(taken=F("taken") - 1)
            school_id, district_id = _where(class_id)
            audit.record(
                actor=None,
                action="enrolment.expire",
                object_type="enrolment.enrolment",
                object_id=pk,
                before={"status": S.HELD},
                after={"status": S.EXPIRED},
                now=now,
                school_id=school_id,
                district_id=district_id,
            )
            promote(course_class_id=class_id, now=now)
            expired += 1
    return expired


def _where(class_id: int) -> tuple[int | None, int | None]:
    row = CourseClass.objects.filter(pk=class_id).values_list("school_id", "school__district_id").first()
    return row if row is not None else (None, None)


def promote(*, course_class_id: int, now: datetime) -> int:
    """Give free seats to the head of the waitlist, one by one: each gets a hold and is notified. A waiter whose
    child meanwhile holds the most classes allowed, or another class at the same time, is passed over (and
    told). Runs inside the caller's transaction."""
    promoted = 0
    while True:
        head = (
            Enrolment.objects.select_for_update()
            .filter(course_class_id=course_class_id, status=S.WAITING)
            .order_by(*WAITLIST_ORDER)
            .select_related("course_class", "window")
            .first()
        )
        if head is None:
            return promoted
        if not CourseClass.objects.filter(
            pk=course_class_id, taken__lt=F("capacity"), status=CourseClass.Status.ACTIVE
        ).update(taken=F("taken") + 1):
            return promoted
        try:
            _check_pupil_load(
                pupil_id=head.pupil_id,
                class_id=course_class_id,
                term_id=head.course_class.term_id,
                max_classes=head.window.max_classes,
                exclude_pk=head.pk,
            )
        except Conflict as refusal:
            CourseClass.objects.filter(pk=course_class_id).update(taken=F("taken") - 1)
            Enrolment.objects.filter(pk=head.pk).update(
                status=S.CANCELLED, status_changed_at=now, ended_reason=refusal.code
            )
            notify(
                user_ids=_guardians([head.pupil_id]),
                kind="waitlist_passed_over",
                title=_("A seat in “%(name)s” could not be given") % {"name": head.course_class.name},
                body=str(refusal.message),
                now=now,
            )
            continue
        if head.fee_fen == 0:
            values: dict[str, Any] = {"status": S.CONFIRMED, "confirmed_at": now}
        else:
            values = {"status": S.HELD, "hold_expires_at": now + timedelta(minutes=head.window.hold_minutes)}
        Enrolment.objects.filter(pk=head.pk).update(status_changed_at=now, **values)
        notify(
            user_ids=_guardians([head.pupil_id]),
            kind="waitlist_promoted",
            title=_("A seat in “%(name)s” is held for your child") % {"name": head.course_class.name},
            body=_("Pay before the hold expires to keep it."),
            link=f"/parent/enrolments/{head.pk}/",
            now=now,
        )
        school_id, district_id = _where(course_class_id)
        audit.record(
            actor=None,
            action="enrolment.promote",
            object_type="enrolment.enrolment",
            object_id=head.pk,
            before={"status": S.WAITING},
            after={"status": values["status"]},
            now=now,
            school_id=school_id,
            district_id=district_id,
        )
        promoted += 1


def lottery_draw(*, window: SelectionWindow, now: datetime, actor: Any = None, seed: str | None = None) -> int:
    """Draw a closed lottery window: for each class, applicants ordered by sha256("<seed>:<pupil id>"); the
    first ``seats left`` win a hold (or a confirmed seat when free), the rest wait in drawn order. A class with
    no more applicants than seats gives everyone a seat without a draw. Runs once per window (guarded by a
    conditional UPDATE of ``drawn_at``). Returns the number of classes drawn."""
    if actor is not None:  # a person draws (the periodic tick draws with no actor)
        require_school_admin(actor, window.school)
    if window.mode != SelectionWindow.Mode.LOTTERY:
        raise KehouError(_("This window is first come, first served."), code="not_lottery")
    if now < window.closes_at:
        raise Conflict(_("The lottery is drawn after the window closes."), code="window_still_open")
    hold = timedelta(hours=settings.KEHOU_LOTTERY_HOLD_HOURS)
    drawn = 0
    with transaction.atomic():
        if not SelectionWindow.objects.filter(pk=window.pk, drawn_at__isnull=True).update(drawn_at=now):
            raise Conflict(_("The lottery has been drawn."), code="lottery_drawn")
        applied = (
            Enrolment.objects.select_for_update()
            .filter(window=window, status=S.APPLIED, course_class__status=CourseClass.Status.ACTIVE)
            .values_list("pk", "pupil_id", "course_class_id", "fee_fen")
        )
        by_class: dict[int, dict[int, tuple[int, int]]] = {}
        for pk, pupil_id, class_id, fee in applied:
            by_class.setdefault(class_id, {})[pupil_id] = (pk, fee)
        for class_id, applicants in sorted(by_class.items()):
            course_class = CourseClass.objects.select_for_update().get(pk=class_id)
            seats = max(course_class.capacity - course_class.taken, 0)
            pool = sorted(applicants)
            class_seed = seed or draw.new_seed()
            order = draw.draw_order(class_seed, pool) if len(pool) > seats else pool
            winners, losers = order[:seats], order[seats:]
            if len(pool) > seats:
                LotteryDraw.objects.create(
                    window=window,
                    course_class=course_class,
                    seed=class_seed,
                    seats=seats,
                    applicants=pool,
                    order=order,
                    drawn_at=now,
                )
                drawn += 1
            if winners and not CourseClass.objects.filter(
                pk=class_id, taken__lte=F("capacity") - len(winners), status=CourseClass.Status.ACTIVE
            ).update(taken=F("taken") + len(winners)):
                raise Conflict(_("The class changed during the draw; draw again."), code="draw_conflict")
            for pupil_id in winners:
                pk, fee = applicants[pupil_id]
                values: dict[str, Any] = (
                    {"status": S.CONFIRMED, "confirmed_at": now}
                    if fee == 0
                    else {"status": S.HELD, "hold_expires_at": now + hold}
                )
                Enrolment.objects.filter(pk=pk, status=S.APPLIED).update(status_changed_at=now, **values)
            for rank, pupil_id in enumerate(losers, start=1):
                pk, _fee = applicants[pupil_id]
                Enrolment.objects.filter(pk=pk, status=S.APPLIED).update(
                    status=S.WAITING, wait_rank=rank, queued_at=now, status_changed_at=now
                )
            notify(
                user_ids=_guardians(winners),
                kind="lottery_won",
                title=_("Lottery: your child has a seat in “%(name)s”") % {"name": course_class.name},
                body=_("Pay before the hold expires to keep it."),
                now=now,
            )
            notify(
                user_ids=_guardians(losers),
                kind="lottery_waitlisted",
                title=_("Lottery: your child is on the waitlist of “%(name)s”") % {"name": course_class.name},
                now=now,
            )
        audit.record(
            actor=actor,
            action="lottery.draw",
            obj=window,
            after={"classes": len(by_class), "drawn": drawn},
            now=now,
            school_id=window.school_id,
            district_id=window.school.district_id,
        )
    return drawn


def lottery_replay(draw_row: LotteryDraw) -> list[int]:
    """Anyone can re-run a draw from its published seed and applicants."""
    return draw.draw_order(draw_row.seed, draw_row.applicants)


def enrolment_tick(*, now: datetime) -> dict[str, int]:
    """The periodic work: expire holds (freeing seats for the waitlist) and draw closed lottery windows."""
    expired = holds_expire(now=now)
    windows = SelectionWindow.objects.filter(
        mode=SelectionWindow.Mode.LOTTERY,
        status=SelectionWindow.Status.PUBLISHED,
        closes_at__lte=now,
        drawn_at__isnull=True,
    ).select_related("school")
    drawn = 0
    for window in windows:
        try:
            drawn += lottery_draw(window=window, now=now)
        except Conflict:
            continue
    return {"expired": expired, "lotteries": drawn}
