"""Enrolment's background work (run by the task worker, enqueued by the schedule registered in ``apps.py``). Each
task reads the clock and hands it to its service; the services are idempotent (conditional UPDATEs), so an overlap
with the previous run or a retry does no harm."""

from __future__ import annotations

from kehou.core import clock
from kehou.core.jobs import job

from .services.lottery import lotteries_draw_closed
from .services.waitlist import holds_expire, holds_remind


@job()
def expire_holds() -> dict[str, int]:
    """Holds past their time free their seats, which go to the head of the waitlist."""
    return {"expired": holds_expire(now=clock.now())}


@job()
def remind_holds() -> dict[str, int]:
    """The guardians of holds about to run out are told (once per hold)."""
    return {"reminded": holds_remind(now=clock.now())}


@job()
def draw_lotteries() -> dict[str, int]:
    """Lottery windows that have closed are drawn."""
    return {"lotteries": lotteries_draw_closed(now=clock.now())}
