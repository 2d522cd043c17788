"""Lock order for places, in one place (like Saleor's ``payment/lock_objects.py``).

Whoever locks a place and its payment rows locks the payment rows first, then the place; payments' own
``locks.py`` follows the same order (order, then place). The other way round, a payment and a cancel at the same
moment deadlock on PostgreSQL.
"""

from __future__ import annotations

from .hooks import place_payments
from .models import Enrolment


def place_lock(*, enrolment_id: int) -> Enrolment:
    """Lock a place (its payment rows first). Call inside a transaction."""
    place_payments().lock(enrolment_id=enrolment_id)
    return Enrolment.objects.select_for_update().get(pk=enrolment_id)
