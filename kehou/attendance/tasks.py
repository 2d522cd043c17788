"""Attendance's background work (run by the task worker, enqueued by the schedule registered in ``apps.py``)."""

from __future__ import annotations

from kehou.core import clock
from kehou.core.jobs import job

from .services.checkin import coordinates_purge
from .services.rollcall import roll_calls_close


@job()
def close_roll_calls() -> dict[str, int]:
    """Sessions that ended: missed check-ins recorded, roll calls past their close closed."""
    return roll_calls_close(now=clock.now())


@job()
def purge_coordinates() -> dict[str, int]:
    """Raw check-in coordinates past their retention period are emptied."""
    return {"coordinates_purged": coordinates_purge(now=clock.now())}


@job()
def notify_absences(session_id: int) -> int:
    """The guardians of pupils marked absent without leave on this session's sheet are told (once each)."""
    from .services.notices import absences_notify

    return absences_notify(session_id=session_id, now=clock.now())


@job()
def scan_follow_ups() -> dict[str, int]:
    """The follow-up queue: opened, updated, cleared and escalated from the recent sessions' evidence."""
    from .services.followups import followups_scan

    return followups_scan(now=clock.now())
