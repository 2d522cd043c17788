"""What enrolment needs to know about paying for a place, without importing the app that knows it.

Enrolment sits below payments in the layers: it may not import payments, yet a seat being paid for must not expire
under the parent, a paid seat must not be cancelled without its refund, and a cancelled class must refund its paid
seats. Payments registers a :class:`PlacePayments` when it is ready (``kehou.payments.apps``); with nothing registered
(enrolment alone) no place is ever paid for, which is the truth for a platform without payments.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import Q


class PlacePayments:
    """The default: nothing is paid. Payments subclasses it; each method is called inside the caller's transaction
    unless it says otherwise."""

    def lock(self, *, enrolment_id: int) -> None:
        """Lock the payment rows of a place. Called *before* the place's own row is locked (see ``locks.py``)."""

    def paid_order_id(self, *, enrolment_id: int) -> int | None:
        """The paid order of a confirmed place, if any: such a place is cancelled only together with its refund."""
        return None

    def paid_orders_by_enrolment(self, enrolment_ids: Iterable[int]) -> dict[int, int]:
        """{enrolment id: paid order id} for the places that have one (the parent's Cancel goes to the refund)."""
        return {}

    def close_unpaid(self, *, enrolment_ids: Iterable[int], now: datetime) -> None:
        """The places ended: their orders awaiting payment can no longer be paid (a payment already under way is
        refunded when it arrives)."""

    def being_paid(self, *, now: datetime) -> Q:
        """A filter on ``Enrolment`` for held places whose payment is under way at a channel and still within the
        grace the channel gets to report it: such a hold does not expire yet."""
        return Q(pk__in=[])

    def refund_class_cancelled(self, *, actor: Any, enrolment_ids: list[int], reason: str, now: datetime) -> None:
        """After a class is cancelled (and committed): refund its paid places. Runs outside the transaction."""


_registered: PlacePayments = PlacePayments()


def register_place_payments(hooks: PlacePayments) -> None:
    global _registered
    _registered = hooks


def place_payments() -> PlacePayments:
    return _registered
