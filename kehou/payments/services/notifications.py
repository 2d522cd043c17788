"""Receiving a channel's notification: verify, match against our order or refund, apply once, log, alert.

A notification that fails verification (signature, certificate serial, timestamp age, decryption), names another
merchant, an unknown trade, or an amount other than ours changes nothing: it is recorded with the reason and raises
an alert for the city bureau, and the channel is told it failed. A duplicate of one already applied is answered as
success and changes nothing. Whatever an adapter raises is such a rejection (``unverifiable``), never a 500.

A flood of rejected notifications neither grows the database without bound nor buries the real alerts: past
``KEHOU_NOTIFY_REJECTED_STORED_PER_ADDRESS`` a minute from one address (``..._OVERALL`` from everyone) they are
counted (``repeats``) in one truncated row per channel, reason and address instead of each being stored, and the
city bureau gets one alert per channel and reason per ``KEHOU_NOTIFY_ALERT_SECONDS``, whose text counts the rest.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Count, F, Sum
from django.utils import timezone

from kehou.core import context
from kehou.notify.models import Notification
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


BRIEF_BODY, BRIEF_HEADER, BRIEF_HEADERS = 1024, 200, 10  # what a truncated row keeps


def _kept(headers: Mapping[str, str]) -> dict[str, str]:
    kept = {
        _storable(k)[:100]: _storable(str(v))[:500] for k, v in headers.items() if k.lower().startswith(KEPT_HEADERS)
    }
    return dict(list(kept.items())[:40])


def _source_ip() -> str | None:
    """The client address of the request (REMOTE_ADDR), when it is one."""
    ip = context.current().client_ip
    try:
        return str(ipaddress.ip_address(ip)) if ip else None
    except ValueError:
        return None


def notification_receive(*, channel: str, headers: Mapping[str, str], body: bytes, now: datetime) -> Received:
    gw = gateway(channel)
    text = _storable(body.decode("utf-8", errors="replace"))[:20000]
    record = ChannelNotification(
        channel=channel, received_at=now, headers=_kept(headers), body=text, source_ip=_source_ip()
    )
    try:
        event = gw.parse_notification(headers=headers, body=body, now=now)
    except NotificationRejected as rejected:
        return _reject(gw.ack(ok=False), record, rejected.reason)
    except ImproperlyConfigured:
        raise  # the channel's keys are missing: the view answers 503
    except Exception:
        log.exception("payment notification for channel %s could not be verified", channel)
        return _reject(gw.ack(ok=False), record, "unverifiable")
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
    record.reason = reason[:120]
    # Every rejection is recorded (stored, or counted into a stored one); all but a channel's own passing hiccup
    # (Alipay could not confirm a refund's amount yet and will resend) raise an alert.
    record.alert = reason not in QUIET_REASONS
    with transaction.atomic():
        stored = _store_or_count(record)
        if record.alert:
            _alert(record)
    if stored:
        log.warning("payment notification rejected: channel=%s reason=%s id=%s", record.channel, reason, record.pk)
    return Received(ack, record)


def _store_or_count(record: ChannelNotification) -> bool:
    """Store a rejected notification, or past the per-minute limits count it into the truncated row like it.

    Within a minute, one address has at most ``KEHOU_NOTIFY_REJECTED_STORED_PER_ADDRESS`` rejected notifications
    stored as received (everyone ``..._OVERALL``); the next one like it (channel, reason, address) is stored
    truncated and the further ones only add to its ``repeats``. True when a row was written.
    """
    minute = ChannelNotification.objects.filter(
        outcome=ChannelNotification.Outcome.REJECTED, received_at__gt=record.received_at - timedelta(seconds=60)
    )
    per_address = settings.KEHOU_NOTIFY_REJECTED_STORED_PER_ADDRESS
    overall = settings.KEHOU_NOTIFY_REJECTED_STORED_OVERALL
    if record.source_ip and minute.filter(source_ip=record.source_ip)[:per_address].count() >= per_address:
        like = minute.filter(source_ip=record.source_ip)
    elif minute[:overall].count() >= overall:
        like = minute
    else:
        record.save()
        return True
    summary = (
        like.filter(channel=record.channel, reason=record.reason, truncated=True)
        .order_by("-received_at", "-pk")
        .first()
    )
    if summary is not None and ChannelNotification.objects.filter(pk=summary.pk).update(repeats=F("repeats") + 1):
        summary.refresh_from_db()
        record.pk, record.repeats, record.truncated = summary.pk, summary.repeats, True
        return False
    record.truncated = True
    record.body = record.body[:BRIEF_BODY]
    record.headers = {k[:BRIEF_HEADER]: v[:BRIEF_HEADER] for k, v in list(record.headers.items())[:BRIEF_HEADERS]}
    record.save()
    return True


def _alert(record: ChannelNotification) -> None:
    """One alert to the city bureau per channel and reason per ``KEHOU_NOTIFY_ALERT_SECONDS``; while it is the
    latest, its text counts the rejections like it that followed (so a flood cannot bury another reason's)."""
    now = record.received_at
    title = f"支付通知被拒绝 Payment notification rejected: {record.channel} · {record.reason}"[:120]
    alerts = Notification.objects.filter(kind="payment_alert", title=title)
    since = now - timedelta(seconds=settings.KEHOU_NOTIFY_ALERT_SECONDS)
    last = alerts.filter(created_at__gt=since).order_by("-created_at", "-pk").first()
    if last is None:
        city = list(RoleAssignment.objects.filter(role=Role.CITY_ADMIN).values_list("user_id", flat=True))
        notify(
            user_ids=city,
            kind="payment_alert",
            title=title,
            body=f"#{record.pk} {record.out_trade_no or ''}".strip(),
            link="/payments/notifications/?alert=1",
            now=now,
        )
        return
    like = ChannelNotification.objects.filter(
        channel=record.channel, reason=record.reason, alert=True, received_at__gte=last.created_at
    ).aggregate(rows=Count("pk"), repeats=Sum("repeats"))
    more = like["rows"] + (like["repeats"] or 0) - 1
    first = last.body.split(" · ")[0]
    since_text = timezone.localtime(last.created_at).strftime("%H:%M")
    alerts.filter(created_at=last.created_at).update(body=f"{first} · 另有 {more} 条 +{more} more since {since_text}")
