"""Payroll's background work (run by the task worker, enqueued by the schedule registered in ``apps.py``)."""

from __future__ import annotations

from kehou.core import clock
from kehou.core.jobs import job


@job()
def compute_pay_lines() -> dict[str, int]:
    """Pay lines computed from the evidence of the recent sessions, and their fees released from escrow."""
    from .services.lines import pay_lines_compute

    return pay_lines_compute(now=clock.now()).as_dict()


@job()
def send_payout(payout_id: int) -> str:
    """One payout sent to its channel (again under the same bill number when the last answer was unknown)."""
    from .services.payouts import payout_send

    return payout_send(payout_id=payout_id, now=clock.now())


@job()
def follow_payouts() -> dict[str, int]:
    """Payouts with an unknown answer sent again, payouts with the channel asked about, the simulator's due
    notifications delivered (demo)."""
    from .services.payouts import payouts_poll, simulator_deliver

    now = clock.now()
    return {"payout_notifications_delivered": simulator_deliver(now=now), **payouts_poll(now=now)}
