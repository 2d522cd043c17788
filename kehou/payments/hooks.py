"""Payments' side of enrolment's place hooks (``kehou.enrolment.hooks``), registered in ``apps.py``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import Exists, OuterRef, Q

from kehou.enrolment.hooks import PlacePayments

from .locks import orders_of_place_lock
from .models import Order, PaymentAttempt
from .selectors_pages import paid_orders_by_enrolment
from .services.common import PAYMENT_GRACE
from .services.refunds import refund_request


class OrderPlacePayments(PlacePayments):
    def lock(self, *, enrolment_id: int) -> None:
        orders_of_place_lock(enrolment_id=enrolment_id)

    def paid_order_id(self, *, enrolment_id: int) -> int | None:
        paid = Order.objects.filter(enrolment_id=enrolment_id, paid_fen__gt=0)
        return paid.values_list("pk", flat=True).first()

    def paid_orders_by_enrolment(self, enrolment_ids: Iterable[int]) -> dict[int, int]:
        return paid_orders_by_enrolment(list(enrolment_ids))

    def close_unpaid(self, *, enrolment_ids: Iterable[int], now: datetime) -> None:
        Order.objects.filter(enrolment_id__in=list(enrolment_ids), status=Order.Status.PENDING).update(
            status=Order.Status.CLOSED, closed_at=now
        )

    def being_paid(self, *, now: datetime) -> Q:
        paying = PaymentAttempt.objects.filter(order__enrolment=OuterRef("pk"), status=PaymentAttempt.Status.CREATED)
        return Q(hold_expires_at__gt=now - PAYMENT_GRACE) & Q(Exists(paying))

    def refund_class_cancelled(self, *, actor: Any, enrolment_ids: list[int], reason: str, now: datetime) -> None:
        for order in Order.objects.filter(enrolment_id__in=enrolment_ids, paid_fen__gt=0).order_by("pk"):
            refund_request(
                actor=actor,
                order=order,
                request_key=f"class-cancel-{order.pk}",
                now=now,
                reason=reason[:200],
                cancel_place=False,
            )
