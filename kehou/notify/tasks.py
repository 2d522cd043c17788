"""The notification centre's background work (run by the task worker)."""

from __future__ import annotations

from kehou.core import clock
from kehou.core.jobs import job

from . import events
from .services import push, sms_unread


@job()
def push_notification(notification_id: int) -> bool:
    """The app push of one notification (once; a collapsed one carries its latest text)."""
    return push(notification_id=notification_id, now=clock.now())


@job()
def sms_for_unread() -> dict[str, int]:
    """Important notifications unread past their time go out by SMS."""
    return sms_unread(now=clock.now())


@job()
def purge_events() -> dict[str, int]:
    """Live events older than their retention period are deleted."""
    return {"events_purged": events.purge(now=clock.now())}
