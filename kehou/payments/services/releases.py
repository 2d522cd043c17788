"""Release from escrow by delivery: a session held with evidence releases its share of every paid place of its class
from the school's prepayments to its earned account (both still in the supervised escrow account; what is earned
pays the teachers and the operator's costs).

Ledger posting, once per session: ``release:session:<id>``  Dr prepaid:school:<id>  Cr earned:school:<id>.

A place's share of a session is its course line's amount divided by the class's sessions (the last delivered session
takes what rounding left), never more than is left unrefunded and unreleased; the materials line is released whole
with the first delivered session (the materials are handed out then, and no longer refundable). Each share is a
:class:`~kehou.payments.models.Release` row and moves the line's ``released_fen`` by a conditional UPDATE
(the database checks ``refunded + released ≤ amount``), so a refund racing a release can never take the same fen
twice. Which
sessions were delivered is the attendance evidence's business: the caller (payroll) decides and calls
:func:`release_session`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.db import transaction
from django.db.models import F

from kehou.enrolment.models import ClassSession
from kehou.ledger.services import Leg, earned_code, post, prepaid_code

from ..models import Order, OrderLine, Release


def _share(line: OrderLine, *, sessions_total: int, is_last: bool) -> int:
    room = line.amount_fen - line.refunded_fen - line.released_fen
    if room <= 0:
        return 0
    if line.kind == OrderLine.Kind.MATERIALS:
        return room if line.released_fen == 0 else 0
    if sessions_total <= 0 or is_last:
        return room
    return min(line.amount_fen // sessions_total, room)


def release_session(*, session: ClassSession, now: datetime, numbers: list[int] | None = None) -> int:
    """Release a delivered session's share of every paid place of its class; returns the fen released now (0 when
    it was released before or nothing is left to release). Idempotent per session. ``numbers``: the class's session
    numbers, when the caller has them (a computation over many sessions reads them once per class).

    The shares are worked out from the lines read under lock and written with one UPDATE per distinct share; the
    database's check (refunded + released ≤ amount) refuses the whole release if a refund took the room meanwhile
    (an IntegrityError: the caller tries again on its next run)."""
    course_class = session.course_class
    if numbers is None:
        numbers = list(ClassSession.objects.filter(course_class_id=course_class.pk).values_list("number", flat=True))
    sessions_total = len(numbers)
    is_last = bool(numbers) and session.number == max(numbers)
    lines = OrderLine.objects.filter(
        order__enrolment__course_class_id=course_class.pk, order__status=Order.Status.PAID
    ).order_by("pk")
    with transaction.atomic():
        # Lock as a refund does (the order, then its lines), each kind in pk order: a refund of one of these places
        # and this release then queue behind each other instead of deadlocking.
        list(
            Order.objects.select_for_update()
            .filter(enrolment__course_class_id=course_class.pk, status=Order.Status.PAID)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        locked = list(lines.select_for_update(of=("self",)))
        if not locked or Release.objects.filter(session=session).exists():  # nothing paid, or released already
            return 0
        rows: list[Release] = []
        by_share: dict[int, list[int]] = defaultdict(list)
        materials: list[int] = []
        for line in locked:
            amount = _share(line, sessions_total=sessions_total, is_last=is_last)
            if amount <= 0:
                continue
            by_share[amount].append(line.pk)
            if line.kind == OrderLine.Kind.MATERIALS and line.handed_out_at is None:
                materials.append(line.pk)
            rows.append(Release(line=line, session=session, amount_fen=amount, at=now))
        if not rows:
            return 0
        for amount, ids in by_share.items():
            OrderLine.objects.filter(pk__in=ids).update(released_fen=F("released_fen") + amount)
        if materials:
            OrderLine.objects.filter(pk__in=materials, handed_out_at__isnull=True).update(handed_out_at=now)
        Release.objects.bulk_create(rows)
        total = sum(r.amount_fen for r in rows)
        school_id = course_class.school_id
        post(
            key=f"release:session:{session.pk}",
            kind="release",
            legs=[Leg(prepaid_code(school_id), earned_code(school_id), total)],
            now=now,
            school_id=school_id,
            reference=f"session:{session.pk}",
            memo=f"{course_class.name} #{session.number}"[:200],
        )
    return total
