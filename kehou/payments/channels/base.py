"""The one interface every payment channel implements (DESIGN.md rule 9: adapters at the edges).

A gateway turns our orders and refunds into the channel's protocol and the channel's notifications back into
:class:`ChannelEvent` values, after verifying them (signature, timestamp age, decryption). Services never see a
channel's wire format; they compare the event's amount and merchant with the order and apply it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol


class NotificationRejected(Exception):
    """A notification that must change nothing: bad signature, unknown certificate serial, stale timestamp,
    undecryptable resource, malformed body. ``reason`` is a stable code recorded with the notification."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class ChannelUnavailable(Exception):
    """The channel could not be reached or answered with an error; the caller retries or queries later."""


@dataclass(frozen=True)
class ChannelEvent:
    """What a verified notification (or a query) says happened."""

    kind: str  # "payment" | "refund"
    status: str  # payment: "paid" | "failed" | "closed"; refund: "succeeded" | "failed" | "processing"
    out_trade_no: str
    amount_fen: int  # what the channel says was paid (payment) or refunded (refund)
    merchant_id: str
    channel_trade_no: str = ""
    out_refund_no: str = ""
    channel_refund_id: str = ""
    occurred_at: datetime | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PaymentStart:
    """What the parent's page needs to pay: a redirect (H5/WAP/cashier page) or JSAPI parameters."""

    kind: str  # "redirect" | "jsapi"
    url: str = ""
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RefundSubmitted:
    status: str  # "processing" | "succeeded" | "failed"
    channel_refund_id: str = ""
    failure: str = ""


@dataclass(frozen=True)
class Ack:
    """The answer a channel expects to a notification."""

    status: int
    content_type: str
    body: bytes


class Gateway(Protocol):
    channel: str
    merchant_id: str

    def start_payment(
        self, *, out_trade_no: str, amount_fen: int, description: str, expires_at: datetime, payer_ref: str = ""
    ) -> PaymentStart: ...

    def parse_notification(self, *, headers: Mapping[str, str], body: bytes, now: datetime) -> ChannelEvent:
        """Verify and decode a payment or refund notification; raise NotificationRejected otherwise."""
        ...

    def refund(
        self,
        *,
        out_trade_no: str,
        out_refund_no: str,
        amount_fen: int,
        total_fen: int,
        reason: str,
        now: datetime | None = None,
    ) -> RefundSubmitted:
        """Ask for a refund. ``now`` is the service's time; a real channel keeps its own clock and ignores it, the
        simulator (which is the channel) plans the refund's outcome from it."""
        ...

    def query_payment(self, *, out_trade_no: str) -> ChannelEvent | None: ...

    def query_refund(
        self, *, out_refund_no: str, out_trade_no: str, now: datetime | None = None
    ) -> ChannelEvent | None:
        """The channel's view of a refund (``now`` as for :meth:`refund`)."""
        ...

    def close(self, *, out_trade_no: str) -> None: ...

    def download_bill(self, *, bill_date: date) -> bytes: ...

    def ack(self, *, ok: bool) -> Ack: ...


MAX_NOTIFICATION_AGE_SECONDS = 300  # a notification older (or newer) than this is a replay or a clock problem
