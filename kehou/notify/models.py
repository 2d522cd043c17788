"""The notification centre: what a person is told (a seat freed for them, a lottery result, a comment), and the
live events each account's open pages and apps receive (``events.py``)."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kehou.core.scope import ScopeSpec


class Notification(models.Model):
    """A message in a person's notification centre. ``dedup_key`` names what it is about (``absent:<session>:<pupil>``)
    so that the same thing is never told twice (a unique index); an ``important`` one wants a read receipt and goes
    out by SMS when it is still unread at ``sms_due_at``. ``count`` is how many occurrences one message stands for
    (several comments in one session are one message)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=40)
    title = models.CharField(_("title"), max_length=120)
    body = models.CharField(_("message"), max_length=500, blank=True)
    link = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    dedup_key = models.CharField(max_length=120, blank=True, default="")
    count = models.PositiveIntegerField(default=1)
    important = models.BooleanField(_("important"), default=False)
    pushed_at = models.DateTimeField(null=True, blank=True)
    sms_due_at = models.DateTimeField(null=True, blank=True)
    sms_sent_at = models.DateTimeField(null=True, blank=True)

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec(owner="user")

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["user", "read_at"]),
            models.Index(
                fields=["sms_due_at"], name="notification_sms_due", condition=Q(sms_sent_at=None, read_at=None)
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "dedup_key"], condition=~Q(dedup_key=""), name="notification_told_once"
            )
        ]

    def __str__(self) -> str:
        return self.title


class EventSeq(models.Model):
    """The last event number given to an account. Taking the next number locks this row until the transaction
    commits, so an account's events become visible in the order of their numbers (a stream that resumes after
    number n can never miss an n-1 committed later)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True)
    seq = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.seq}"


class Event(models.Model):
    """One live event for one account, kept a few days so that a dropped stream resumes from ``Last-Event-ID``
    (the event's ``seq``, numbered per account)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    seq = models.BigIntegerField()
    kind = models.CharField(max_length=40)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField()

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec(owner="user")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "seq"], name="event_seq_per_user")]
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} #{self.seq}"
