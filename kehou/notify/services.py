"""Telling people things. Called from other apps' services, inside their transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from .models import Notification


def notify(*, user_ids: list[int], kind: str, title: str, body: str = "", link: str = "", now: datetime) -> int:
    """One notification per user (deduplicated). Returns how many were written."""
    rows = [
        Notification(user_id=uid, kind=kind, title=title[:120], body=body[:500], link=link[:200], created_at=now)
        for uid in sorted(set(user_ids))
    ]
    Notification.objects.bulk_create(rows)
    return len(rows)


def mark_read(*, user: Any, ids: list[int] | None, now: datetime) -> int:
    qs: QuerySet[Notification] = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=now)
