"""Receiving a channel's notification: verify, match against our order or refund, apply once, log, alert.

A notification that fails verification (signature, certificate serial, timestamp age, decryption), names another
merchant, an unknown trade, or an amount other than ours changes nothing: it is recorded with the reason and raises
an alert for the city bureau, and the channel is told it failed. A duplicate of one already applied is answered as
success and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from kehou.notify.services import notify
from kehou.people.models import Role, RoleAssignment

from ..channels import gateway
from ..channels.base import Ack, ChannelEvent, NotificationRejected
from ..models import ChannelNotification, PaymentAttempt, Refund
from .orders import apply_payment
from .refunds import apply_refund_event

log = logging.getLogger("kehou.payments")
# Headers kept with a notification: the channels' own (signatures are public material, never keys).
QUIET_REASONS = {"refund_unconfirmed"}
KEPT_HEADERS = ("wechatpay-", "http_wechatpay_", "content-type", "content_type", "user-agent", "http_user_agent")


@dataclass(frozen=True)
class Received:
    ack: Ack
    record: ChannelNotification


def _storable(text: str) -> str:
    """Text PostgreSQL can store: NUL characters (which a forged body may carry) become U+FFFD."""
    return text.replace("\x00", "\ufffd")


def _kept(headers: Mapping[str, str]) -> dict[str, str]:
    return {_storable(k): _storable(str(v))[:500] for k, v in headers.items() if k.lower().startswith(KEPT_HEADERS)}


def notification_receive(*, channel: str, headers: Mapping[str, str], body: bytes, now: datetime) -> Received:
    gw = gateway(channel)
    text = _storable(body.decode("utf-8", errors="replace"))[:20000]
    record = ChannelNotification(channel=channel, received_at=now, headers=_kept(headers), body=text)
    try:
        event = gw.parse_notification(headers=headers, body=body, now=now)
    except NotificationRejected as rejected:
        return _reject(gw.ack(ok=False), record, rejected.reason)
    record.verified = True
    record.out_trade_no, record.out_refund_no = event.out_trade_no[:32], event.out_refund_no[:32]
    if event.merchant_id != gw.merchant_id:
        return _reject(gw.ack(ok=False), record, "merchant_mismatch")
    attempt = (
        PaymentAttempt.objects.filter(out_trade_no=event.out_trade_no, channel=channel).select_related("order").first()
    )
    if attempt is None:
        return _reject(gw.ack(ok=False), record, "unknown_trade")
    record.order = attempt.order
    if event.kind == "payment":
        if event.amount_fen != attempt.amount_fen:
            return _reject(gw.ack(ok=False), record, "amount_mismatch")
        outcome = _apply_payment_event(attempt, event, now)
    else:
        refund = Refund.objects.filter(refund_no=event.out_refund_no, attempt=attempt).first()
        if refund is None:
            return _reject(gw.ack(ok=False), record, "unknown_refund")
        if event.amount_fen != refund.amount_fen:
            return _reject(gw.ack(ok=False), record, "amount_mismatch")
        outcome = apply_refund_event(refund=refund, event=event, now=now)
    record.outcome = outcome
    record.save()
    return Received(gw.ack(ok=True), record)


def _apply_payment_event(attempt: PaymentAttempt, event: ChannelEvent, now: datetime) -> str:
    if event.status == "paid":
        return apply_payment(attempt=attempt, event=event, now=now)
    with transaction.atomic():
        updated = PaymentAttempt.objects.filter(pk=attempt.pk, status=PaymentAttempt.Status.CREATED).update(
            status=PaymentAttempt.Status.FAILED if event.status == "failed" else PaymentAttempt.Status.CLOSED,
            finished_at=now,
        )
    return "applied" if updated else "duplicate"


def _reject(ack: Ack, record: ChannelNotification, reason: str) -> Received:
    record.outcome = ChannelNotification.Outcome.REJECTED
    record.reason = reason
    # Every rejection is recorded; all but a channel's own passing hiccup (Alipay could not confirm a refund's
    # amount yet and will resend) raise an alert.
    record.alert = reason not in QUIET_REASONS
    with transaction.atomic():
        record.save()
        if not record.alert:
            return Received(ack, record)
        city = list(RoleAssignment.objects.filter(role=Role.CITY_ADMIN).values_list("user_id", flat=True))
        notify(
            user_ids=city,
            kind="payment_alert",
            title=f"支付通知被拒绝 Payment notification rejected: {record.channel} · {reason}",
            body=f"#{record.pk} {record.out_trade_no or ''}",
            link="/payments/notifications/?alert=1",
            now=record.received_at,
        )
    log.warning("payment notification rejected: channel=%s reason=%s id=%s", record.channel, reason, record.pk)
    return Received(ack, record)
