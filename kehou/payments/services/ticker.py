"""The periodic work of payments: close unpaid orders whose hold expired, deliver the simulator's due
notifications (demo), and ask the channels about refunds still in progress."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings

from ..channels.simulator import SimulatorGateway
from ..models import SimulatorDelivery
from .notifications import notification_receive
from .orders import orders_close_expired, payments_poll
from .refunds import refunds_poll


def simulator_deliver(*, now: datetime, limit: int = 200) -> int:
    """Send the simulator's notifications that are due, oldest first, through the real receiving path."""
    if "simulator" not in settings.KEHOU_PAYMENT_CHANNELS:
        return 0
    simulator = SimulatorGateway()
    sent = 0
    due = SimulatorDelivery.objects.filter(delivered_at__isnull=True, deliver_at__lte=now).exclude(
        event_type__startswith="MCHTRANSFER."  # payouts' (kehou.payroll delivers its own)
    )
    for delivery in due[:limit]:
        # One conditional UPDATE claims the delivery (two tickers never send it twice).
        if not SimulatorDelivery.objects.filter(pk=delivery.pk, delivered_at__isnull=True).update(delivered_at=now):
            continue
        simulator.sending(delivery)  # a refund it reports is finished at the channel first
        headers, body = simulator.signed(delivery, now=now)
        received = notification_receive(channel="simulator", headers=headers, body=body, now=now)
        SimulatorDelivery.objects.filter(pk=delivery.pk).update(
            answer=f"{received.ack.status} {received.record.outcome}"
        )
        sent += 1
    return sent


def payments_tick(*, now: datetime) -> dict[str, int]:
    return {
        "payments_found": payments_poll(now=now),
        "orders_closed": orders_close_expired(now=now),
        "notifications_delivered": simulator_deliver(now=now),
        "refunds_settled": refunds_poll(now=now),
    }
