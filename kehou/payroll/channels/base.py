"""The payout channel interface: one transfer per payout, idempotent by ``out_bill_no``.

A payout is sent once under its bill number and, when the answer is unknown (a network error, a 5xx, the channel's
``SYSTEM_ERROR``), sent again under the *same* number: the channel answers with the transfer it already has. A
payout is never retried under a new number unless the channel said, finally, that the old one failed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

# The states a transfer ends in, or passes through, as the channel reports them (WeChat Pay's merchant transfer
# names, lower-cased): accepted, processing, wait_user_confirm, transfering, success, fail, canceling, cancelled.
FINAL_SUCCESS = {"success"}
FINAL_FAILURE = {"fail", "cancelled"}


class PayoutUnavailable(Exception):
    """The channel could not be reached or gave no final answer: try again later with the same ``out_bill_no``."""


class PayoutRefused(Exception):
    """The channel refused the request itself (a bad parameter, a closed account): final, with the channel's code."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message


class PayoutNotificationRejected(Exception):
    """A payout notification that does not verify (signature, serial, age, encryption, shape)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class TransferRequest:
    out_bill_no: str  # ours: 5–32 letters and digits, unique for ever
    openid: str  # the teacher's openid under our appid
    user_name: str  # the teacher's real name (encrypted on the wire when the amount needs it)
    amount_fen: int
    remark: str  # shown to the teacher, at most 32 characters


@dataclass(frozen=True)
class TransferResult:
    out_bill_no: str
    state: str  # lower-case channel state (see above)
    transfer_bill_no: str = ""  # the channel's number
    fail_reason: str = ""
    at: datetime | None = None  # when the channel says it happened (update_time / create_time)

    @property
    def succeeded(self) -> bool:
        return self.state in FINAL_SUCCESS

    @property
    def failed(self) -> bool:
        return self.state in FINAL_FAILURE

    @property
    def final(self) -> bool:
        return self.succeeded or self.failed


@dataclass(frozen=True)
class PayoutAck:
    status: int
    content_type: str
    body: bytes


class PayoutGateway(Protocol):
    channel: str

    def transfer(self, request: TransferRequest, *, now: datetime) -> TransferResult:
        """Send (or send again, same number) a transfer. Raises PayoutUnavailable or PayoutRefused."""
        ...

    def query(self, *, out_bill_no: str) -> TransferResult | None:
        """The channel's record of a transfer, or None when it has none. Raises PayoutUnavailable."""
        ...

    def parse_notification(self, *, headers: Mapping[str, str], body: bytes, now: datetime) -> TransferResult:
        """A verified ``MCHTRANSFER.BILL.FINISHED`` notification. Raises PayoutNotificationRejected."""
        ...

    def ack(self, *, ok: bool) -> PayoutAck: ...
