"""Payments' background work, run by the task worker. The periodic jobs are enqueued by the schedule registered in
``apps.py``; ``pursue_automatic_refund`` is enqueued by the refund service (``refund_whole_payment``, and again when
a channel refuses an automatic refund). Each task reads the clock and hands it to its service."""

from __future__ import annotations

from kehou.core import clock
from kehou.core.jobs import job
from kehou.core.models import FailedTask

from .services.orders import orders_close_expired, payments_poll
from .services.refunds import automatic_refund_alert, automatic_refund_pursue, refunds_poll
from .services.ticker import simulator_deliver


@job()
def poll_payments() -> dict[str, int]:
    """Attempts still open after two minutes are asked about (a notification may have been lost)."""
    return {"payments_found": payments_poll(now=clock.now())}


@job()
def close_expired_orders() -> dict[str, int]:
    """Unpaid orders whose hold ran out are closed (after asking the channel)."""
    return {"orders_closed": orders_close_expired(now=clock.now())}


@job()
def deliver_simulator_notifications() -> dict[str, int]:
    """The simulator channel's due notifications go through the real receiving path (demo; nothing otherwise)."""
    return {"notifications_delivered": simulator_deliver(now=clock.now())}


@job()
def poll_refunds() -> dict[str, int]:
    """Refunds still with their channel are asked about, or sent again when the channel does not know them."""
    return {"refunds_settled": refunds_poll(now=clock.now())}


@job(on_give_up="kehou.payments.tasks.automatic_refund_gave_up")
def pursue_automatic_refund(*, refund_id: int) -> str:
    """A late or double payment's automatic refund goes to the channel, and is asked again when refused."""
    return automatic_refund_pursue(refund_id=refund_id, now=clock.now())


def automatic_refund_gave_up(failure: FailedTask) -> None:
    """``pursue_automatic_refund`` failed for good: the city's operators are alerted."""
    automatic_refund_alert(
        refund_id=int(failure.arguments["kwargs"]["refund_id"]),
        error=f"{failure.error_class.rsplit('.', 1)[-1]}: {failure.error}",
        now=clock.now(),
    )
