"""Orders for held seats, starting a payment through a channel, applying a verified payment, closing unpaid orders.

Ledger postings (kehou.ledger), each with a key derived from the channel's trade number so that a duplicate
notification can never post twice:

* payment   ``payment:<out_trade_no>``  Dr clearing:<channel>  Cr prepaid:school:<id>
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kehou.core import audit
from kehou.core.audit_actions import AuditAction
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import Conflict, KehouError, NotFound
from kehou.enrolment.models import Enrolment
from kehou.enrolment.services.selection import enrolment_confirm
from kehou.ledger.services import Leg, clearing_code, post, prepaid_code
from kehou.notify.services import notify

from ..channels import enabled_channels, gateway
from ..channels.base import ChannelEvent, PaymentStart
from ..models import Channel, Order, OrderLine, PaymentAttempt
from .common import PAYMENT_GRACE, check_request_key, new_number
from .refunds import refund_whole_payment

log = logging.getLogger("kehou.payments")


def _guardian_enrolment(actor: Any, enrolment_id: int) -> Enrolment:
    enrolment = (
        Enrolment.objects.filter(pk=enrolment_id, pupil__guardians__user=actor)
        .select_related("course_class", "course_class__school", "pupil")
        .first()
    )
    if enrolment is None:
        raise NotFound(_("Not found."))
    return enrolment


def order_create(
    *,
    actor: Any,
    enrolment_id: int,
    include_materials: bool,
    request_key: str,
    now: datetime,
    expected_total_fen: int | None = None,
) -> tuple[Order, bool]:
    """The order for a held seat: the course fee as one line, the optional materials as another. One order per
    seat; the same request key gives the same order. A zero total (a hardship waiver, materials left out) is paid at
    once without a channel. ``expected_total_fen`` is the total the payer was shown: another total (a price changed
    meanwhile) is refused, so that nobody is charged what they were not told. Returns (order, created)."""
    check_request_key(request_key)
    previous = Order.objects.filter(payer=actor, request_key=request_key).first()
    if previous is not None:
        if previous.enrolment_id != enrolment_id:
            raise Conflict(_("This request key was already used for another order."), code=ErrorCode.REQUEST_KEY_REUSED)
        return previous, False
    enrolment = _guardian_enrolment(actor, enrolment_id)
    existing = Order.objects.filter(enrolment=enrolment).first()
    if existing is not None:
        return existing, False
    if enrolment.status not in (Enrolment.Status.HELD, Enrolment.Status.CONFIRMED):
        raise Conflict(
            _("There is no held seat to pay for."), code=ErrorCode.NO_HELD_SEAT, fields={"status": enrolment.status}
        )
    course_class = enrolment.course_class
    materials = course_class.materials_fee_fen if include_materials and course_class.materials_fee_fen else 0
    total = enrolment.fee_fen + materials
    if expected_total_fen is not None and expected_total_fen != total:
        raise Conflict(
            _("The price has changed since the page was shown: check the new total and pay again."),
            code=ErrorCode.ORDER_TOTAL_CHANGED,
            fields={"total_fen": total, "expected_total_fen": expected_total_fen},
        )
    if total > 0 and enrolment.status != Enrolment.Status.HELD:
        raise Conflict(
            _("There is no held seat to pay for."), code=ErrorCode.NO_HELD_SEAT, fields={"status": enrolment.status}
        )
    try:
        with transaction.atomic():
            order = Order.objects.create(
                order_no=new_number("KH", now),
                enrolment=enrolment,
                school=course_class.school,
                pupil=enrolment.pupil,
                payer=actor,
                description=f"{course_class.name} · {enrolment.pupil.name}"[:120],
                total_fen=total,
                request_key=request_key,
                created_at=now,
                expires_at=enrolment.hold_expires_at or now,
            )
            OrderLine.objects.create(
                order=order,
                kind=OrderLine.Kind.COURSE,
                description=f"{course_class.name}（{course_class.session_count}课时）"[:120],
                amount_fen=enrolment.fee_fen,
            )
            if materials:
                OrderLine.objects.create(
                    order=order,
                    kind=OrderLine.Kind.MATERIALS,
                    description=course_class.materials_name,
                    amount_fen=materials,
                )
            if total == 0:
                Order.objects.filter(pk=order.pk).update(status=Order.Status.PAID, channel=Channel.WAIVER, paid_at=now)
                if enrolment.status == Enrolment.Status.HELD:
                    enrolment_confirm(enrolment_id=enrolment.pk, now=now, actor=actor)
                order.refresh_from_db()
            audit.record(
                actor=actor,
                action=AuditAction.ORDER_CREATE,
                obj=order,
                after={"total_fen": total, "materials_fen": materials, "enrolment": enrolment.pk},
                now=now,
                school_id=order.school_id,
                district_id=course_class.school.district_id,
            )
    except IntegrityError:
        order = Order.objects.filter(enrolment=enrolment).first() or Order.objects.get(
            payer=actor, request_key=request_key
        )
        return order, False
    return order, True


def payment_start(
    *, actor: Any, order: Order, channel: str, now: datetime, payer_ref: str = ""
) -> tuple[PaymentAttempt, PaymentStart]:
    """Start paying a pending order through a channel. A parent who switches channel closes the earlier attempt
    first, so that the order cannot be paid twice. ``payer_ref`` tells the channel who pays: ``openid:<id>`` inside
    WeChat, otherwise the client's address (``ip:<address>``, WeChat's H5 payment needs it), taken from the request."""
    if not payer_ref:
        from kehou.core import context

        client_ip = context.current().client_ip
        payer_ref = f"ip:{client_ip}" if client_ip else ""
    if order.payer_id != actor.pk and not order.pupil.guardians.filter(user=actor).exists():
        raise NotFound(_("Not found."))
    if channel not in enabled_channels() or channel == Channel.WAIVER:
        raise KehouError(_("This payment channel is not available."), code=ErrorCode.CHANNEL_UNAVAILABLE)
    if order.status != Order.Status.PENDING:
        raise Conflict(
            _("The order is not awaiting payment."), code=ErrorCode.ORDER_NOT_PENDING, fields={"status": order.status}
        )
    if order.expires_at <= now or order.enrolment.status != Enrolment.Status.HELD:
        raise Conflict(_("The seat's hold has expired."), code=ErrorCode.HOLD_EXPIRED)
    from ..channels.base import ChannelUnavailable

    unavailable = KehouError(
        _("The payment channel cannot be reached now; try again shortly."),
        code=ErrorCode.CHANNEL_UNAVAILABLE,
        status=503,
    )
    for earlier in order.attempts.filter(status=PaymentAttempt.Status.CREATED).exclude(channel=channel):
        try:
            gateway(earlier.channel).close(out_trade_no=earlier.out_trade_no)
        except ChannelUnavailable:
            raise unavailable from None  # never open a second attempt while the first may still be paid
        PaymentAttempt.objects.filter(pk=earlier.pk, status=PaymentAttempt.Status.CREATED).update(
            status=PaymentAttempt.Status.CLOSED, finished_at=now
        )
    with transaction.atomic():
        # One open attempt per order and channel, even when the parent taps twice.
        Order.objects.select_for_update().filter(pk=order.pk).values_list("pk").first()
        attempt = order.attempts.filter(status=PaymentAttempt.Status.CREATED, channel=channel).first()
        if attempt is None:
            attempt = PaymentAttempt.objects.create(
                order=order,
                channel=channel,
                out_trade_no=new_number("KP", now),
                amount_fen=order.total_fen,
                created_at=now,
            )
    try:
        start = gateway(channel).start_payment(
            out_trade_no=attempt.out_trade_no,
            amount_fen=attempt.amount_fen,
            description=order.description,
            expires_at=order.expires_at,
            payer_ref=payer_ref,
        )
    except ChannelUnavailable:
        raise unavailable from None
    return attempt, start


def apply_payment(*, attempt: PaymentAttempt, event: ChannelEvent, now: datetime) -> str:
    """Apply a verified payment of an attempt (amount and merchant already compared). Returns the outcome:
    ``applied``; ``duplicate`` when this payment was applied before; ``late_refunded`` when the order had closed
    (the hold expired first) or another attempt had paid it: the money is refunded whole at once."""
    paid_at = event.occurred_at or now
    with transaction.atomic():
        attempt = PaymentAttempt.objects.select_for_update().get(pk=attempt.pk)
        if attempt.status in (PaymentAttempt.Status.PAID, PaymentAttempt.Status.STRAY):
            return "duplicate"
        order = Order.objects.select_for_update(of=("self",)).select_related("school").get(pk=attempt.order_id)
        school = order.school
        post(
            key=f"payment:{attempt.out_trade_no}",
            kind="payment",
            legs=[Leg(clearing_code(attempt.channel), prepaid_code(order.school_id), attempt.amount_fen)],
            now=now,
            school_id=order.school_id,
            reference=f"order:{order.order_no}",
        )
        if order.status == Order.Status.PAID:
            # Paid twice (two channels): this payment is not the order's; it goes back whole.
            PaymentAttempt.objects.filter(pk=attempt.pk).update(
                status=PaymentAttempt.Status.STRAY, channel_trade_no=event.channel_trade_no, finished_at=now
            )
            attempt.refresh_from_db()
            refund_whole_payment(attempt=attempt, reason="paid twice", stray=True, now=now)
            outcome = "late_refunded"
        else:
            was_closed = order.status == Order.Status.CLOSED
            # Both rows are locked: what is written here is what they hold, so they are not read back.
            order.status, order.paid_fen, order.paid_at = Order.Status.PAID, order.total_fen, paid_at
            order.channel = attempt.channel
            order.save(update_fields=["status", "paid_fen", "paid_at", "channel"])
            attempt.status, attempt.channel_trade_no = PaymentAttempt.Status.PAID, event.channel_trade_no
            attempt.finished_at = now
            attempt.save(update_fields=["status", "channel_trade_no", "finished_at"])
            confirmed = False
            if not was_closed:
                try:
                    # The channel's time of payment decides whether it was within the hold.
                    enrolment_confirm(enrolment_id=order.enrolment_id, now=min(paid_at, now))
                    confirmed = True
                except Conflict:
                    confirmed = False
            if confirmed:
                outcome = "applied"
                notify(
                    user_ids=[order.payer_id],
                    kind="payment_received",
                    title=_("Payment received: %(what)s") % {"what": order.description},
                    link=f"/parent/orders/{order.pk}/",
                    now=now,
                )
            else:
                refund_whole_payment(attempt=attempt, reason="paid after the hold expired", stray=False, now=now)
                outcome = "late_refunded"
        audit.record(
            actor=None,
            action=AuditAction(f"payment.{outcome}"),
            obj=order,
            after={"out_trade_no": attempt.out_trade_no, "amount_fen": attempt.amount_fen, "channel": attempt.channel},
            now=now,
            school_id=school.pk,
            district_id=school.district_id,
        )
    return outcome


def payments_poll(*, now: datetime, older_than_seconds: int = 120, limit: int = 200) -> int:
    """Ask the channel about attempts still open after a while (a notification may be lost or late) and apply
    what it says. Returns how many payments were applied this way. One attempt's failure never stops the rest."""

    applied = 0
    stale = PaymentAttempt.objects.filter(
        status=PaymentAttempt.Status.CREATED, created_at__lte=now - timedelta(seconds=older_than_seconds)
    ).select_related("order")
    for attempt in stale[:limit]:
        try:
            applied += _poll_one(attempt, now=now)
        except Exception:
            log.exception("payments_poll: attempt %s", attempt.out_trade_no)
    return applied


def _poll_one(attempt: PaymentAttempt, *, now: datetime) -> int:
    from ..channels.base import ChannelUnavailable

    try:
        event = gateway(attempt.channel).query_payment(out_trade_no=attempt.out_trade_no)
    except (ChannelUnavailable, KehouError):
        return 0
    if event is None:
        return 0
    if event.amount_fen != attempt.amount_fen:
        log.error(
            "channel %s reports %s fen for %s, expected %s",
            attempt.channel,
            event.amount_fen,
            attempt.out_trade_no,
            attempt.amount_fen,
        )
        return 0
    if event.status == "paid":
        return int(apply_payment(attempt=attempt, event=event, now=now) != "duplicate")
    if event.status in ("failed", "closed"):
        PaymentAttempt.objects.filter(pk=attempt.pk, status=PaymentAttempt.Status.CREATED).update(
            status=PaymentAttempt.Status.FAILED if event.status == "failed" else PaymentAttempt.Status.CLOSED,
            finished_at=now,
        )
    return 0


def orders_close_expired(*, now: datetime) -> int:
    """Close pending orders whose hold has expired (the seat goes back). An order being paid (an attempt open at the
    channel) gets ``PAYMENT_GRACE`` more for its notification; before closing, each open attempt is queried (a
    payment made in time whose notification was lost still counts), then closed at the channel. A payment that
    arrives after the close is refunded automatically (``apply_payment``)."""
    from django.db.models import Exists, OuterRef, Q

    open_attempt = PaymentAttempt.objects.filter(order=OuterRef("pk"), status=PaymentAttempt.Status.CREATED)
    due = Order.objects.filter(status=Order.Status.PENDING).filter(
        Q(expires_at__lte=now - PAYMENT_GRACE) | (Q(expires_at__lte=now) & ~Exists(open_attempt))
    )
    closed = 0
    for order in due[:500]:
        try:
            closed += _close_one(order, now=now)
        except Exception:
            log.exception("orders_close_expired: order %s", order.order_no)
    return closed


def _close_one(order: Order, *, now: datetime) -> int:
    from ..channels.base import ChannelUnavailable

    for attempt in order.attempts.filter(status=PaymentAttempt.Status.CREATED):
        try:
            event = gateway(attempt.channel).query_payment(out_trade_no=attempt.out_trade_no)
        except (ChannelUnavailable, KehouError):
            event = None
        if event is not None and event.status == "paid" and event.amount_fen == attempt.amount_fen:
            apply_payment(attempt=attempt, event=event, now=now)
    with transaction.atomic():
        if not Order.objects.filter(pk=order.pk, status=Order.Status.PENDING).update(
            status=Order.Status.CLOSED, closed_at=now
        ):
            return 0
        for attempt in order.attempts.filter(status=PaymentAttempt.Status.CREATED):
            PaymentAttempt.objects.filter(pk=attempt.pk).update(status=PaymentAttempt.Status.CLOSED, finished_at=now)
            transaction.on_commit(
                lambda a=attempt: _close_quietly(a.channel, a.out_trade_no)  # type: ignore[misc]
            )
        audit.record(
            actor=None,
            action=AuditAction.ORDER_CLOSE,
            obj=order,
            after={"reason": "hold expired"},
            now=now,
            school_id=order.school_id,
        )
    return 1


def _close_quietly(channel: str, out_trade_no: str) -> None:
    from ..channels.base import ChannelUnavailable

    # The order is closed on our side whatever the channel answers; a late payment is refunded on arrival.
    with contextlib.suppress(ChannelUnavailable, KehouError):
        gateway(channel).close(out_trade_no=out_trade_no)
