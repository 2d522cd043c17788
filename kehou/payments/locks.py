"""Lock order for payments, in one place (like Saleor's ``payment/lock_objects.py``).

Always: payment attempt → order → place (``kehou.enrolment.locks.place_lock``, which asks payments to lock the
place's orders first through the hook registered in ``apps.py``). A payment notification and a parent's cancel
arriving at the same moment then queue on the order instead of deadlocking on PostgreSQL.
"""

from __future__ import annotations

from .models import Order, PaymentAttempt


def attempt_lock(*, attempt_id: int) -> PaymentAttempt:
    return PaymentAttempt.objects.select_for_update().get(pk=attempt_id)


def order_lock(*, order_id: int) -> Order:
    return Order.objects.select_for_update().get(pk=order_id)


def order_lock_ids(*, order_id: int) -> None:
    """Lock an order without loading it (to serialise work on it)."""
    Order.objects.select_for_update().filter(pk=order_id).values_list("pk").first()


def orders_of_place_lock(*, enrolment_id: int) -> None:
    """Lock every order of a place (before the place itself)."""
    list(Order.objects.select_for_update().filter(enrolment_id=enrolment_id).values_list("pk", flat=True))
