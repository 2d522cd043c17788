"""Telling people things. Called from other apps' services, inside their transaction: the notification rows and
their live events are written there, and the pushes go out from the task worker once it commits."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet

from kehou.core import clock
from kehou.core.jobs import enqueue

from . import events
from .models import Notification


def _event_data(n: Notification) -> dict[str, Any]:
    return {
        "id": n.pk,
        "type": n.kind,
        "title": n.title,
        "body": n.body,
        "link": n.link,
        "important": n.important,
        "count": n.count,
    }


def notify(
    *,
    user_ids: list[int],
    kind: str,
    title: str,
    body: str = "",
    link: str = "",
    now: datetime,
    dedup_key: str = "",
    important: bool = False,
    collapse: bool = False,
    push_delay: int = 0,
) -> int:
    """One notification per user. With ``dedup_key`` a user is told about that thing once (a unique index keeps it
    so under concurrent writers); with ``collapse`` too, a later telling updates the message (its text, its
    ``count``) instead of being dropped, and the push already on its way carries the update. An ``important`` one
    goes out by SMS when still unread ``KEHOU_NOTIFY["SMS_AFTER_MINUTES"]`` later. Returns how many were written."""
    conf = settings.KEHOU_NOTIFY
    sms_due = now + timedelta(minutes=int(conf["SMS_AFTER_MINUTES"])) if important else None
    fields = {"kind": kind, "title": title[:120], "body": body[:500], "link": link[:200]}
    created: list[Notification] = []
    changed: list[Notification] = []
    with transaction.atomic():
        for uid in sorted({int(u) for u in user_ids if u}):
            if dedup_key:
                existing = Notification.objects.select_for_update().filter(user_id=uid, dedup_key=dedup_key).first()
                if existing is not None:
                    if collapse:
                        Notification.objects.filter(pk=existing.pk).update(count=F("count") + 1, read_at=None, **fields)
                        existing.refresh_from_db()
                        changed.append(existing)
                    continue
                try:
                    with transaction.atomic():
                        row = Notification.objects.create(
                            user_id=uid,
                            created_at=now,
                            dedup_key=dedup_key[:120],
                            important=important,
                            sms_due_at=sms_due,
                            **fields,
                        )
                except IntegrityError:  # told meanwhile by a concurrent writer
                    continue
            else:
                row = Notification.objects.create(
                    user_id=uid, created_at=now, important=important, sms_due_at=sms_due, **fields
                )
            created.append(row)
        for n in created + changed:
            events.publish(user_ids=[n.user_id], kind="notification", data=_event_data(n), now=now)
        # A push is news: what is told about a moment long past (a history replayed, a late import) stays in the
        # notification centre and its live event, without waking phones.
        if clock.now() - now <= timedelta(minutes=int(conf["PUSH_MAX_AGE_MINUTES"])):
            for n in created:
                enqueue("kehou.notify.tasks.push_notification", delay=push_delay, notification_id=n.pk)
    return len(created)


def push(*, notification_id: int, now: datetime) -> bool:
    """The app push of a notification, once (claimed by a conditional update); the current text is sent."""
    from .push import get_backend

    if not Notification.objects.filter(pk=notification_id, pushed_at=None).update(pushed_at=now):
        return False
    n = Notification.objects.get(pk=notification_id)
    get_backend().send(user_id=n.user_id, title=n.title, body=n.body, link=n.link)
    return True


def sms_unread(*, now: datetime, limit: int = 500) -> dict[str, int]:
    """Important notifications still unread when their time is up go out by SMS, once each."""
    from .sms import get_backend

    due = list(
        Notification.objects.filter(important=True, read_at=None, sms_sent_at=None, sms_due_at__lte=now)
        .select_related("user")
        .order_by("sms_due_at")[:limit]
    )
    sent = skipped = 0
    for n in due:
        if not Notification.objects.filter(pk=n.pk, sms_sent_at=None, read_at=None).update(sms_sent_at=now):
            continue  # read meanwhile, or another worker has it
        phone = getattr(n.user, "phone", None)
        if not phone:
            skipped += 1
            continue
        text = f"【课后服务】{n.title} {n.body}".strip()[:300]
        try:
            get_backend().send(phone=phone, text=text)
        except Exception:
            Notification.objects.filter(pk=n.pk).update(sms_sent_at=None)  # the next round tries again
            raise
        sent += 1
    return {"sms_sent": sent, "sms_no_phone": skipped}


def mark_read(*, user: Any, ids: list[int] | None, now: datetime) -> int:
    qs: QuerySet[Notification] = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=now)


def mark_read_kind(*, user: Any, kind: str, now: datetime) -> int:
    """A page that shows what these notifications told (the comments page) marks them read."""
    return Notification.objects.filter(user=user, kind=kind, read_at__isnull=True).update(read_at=now)
