"""The teaching platform (教学平台): logging a classroom screen in by scanning its QR code with the teacher's phone.

A screen (any browser, e.g. the room's PC) starts a :class:`ScreenLogin` and shows its QR code and a number; the
teacher, signed in on the phone, scans it, sees what is asking (screen name, network address, time, the number to
match) and confirms or rejects. The screen learns the result by polling with a secret only it holds, and once
approved exchanges it, once, for a session limited to teaching.

    waiting → scanned → approved → used
    waiting | scanned → rejected;  waiting | scanned | approved → expired (after ``expires_at``)
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kehou.core.scope import ScopeSpec


class ScreenLogin(models.Model):
    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting for a scan")
        SCANNED = "scanned", _("Scanned, awaiting the teacher")
        APPROVED = "approved", _("Approved")
        USED = "used", _("Logged in")
        EXPIRED = "expired", _("Expired")
        REJECTED = "rejected", _("Rejected")

    public_id = models.CharField(max_length=32, unique=True)  # the id the screen and the API use
    token_hash = models.CharField(max_length=64, unique=True)  # SHA-256 of the QR's one-time token
    secret_hash = models.CharField(max_length=64)  # SHA-256 of the screen's secret
    match_number = models.CharField(_("number to match"), max_length=2)
    screen_name = models.CharField(_("screen name"), max_length=60, blank=True)
    screen_ip = models.CharField(_("screen's address"), max_length=64, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.WAITING)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    scanned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    scanned_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)
    wrong_secrets = models.PositiveSmallIntegerField(default=0)

    # The teacher who scanned it sees it; nobody else (the screen reaches it through its secret, not a scope).
    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec(owner="scanned_by")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("screen login")
        verbose_name_plural = _("screen logins")
        indexes = [models.Index(fields=["status", "expires_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="waiting") | Q(scanned_by__isnull=False) | Q(status="expired"),
                name="screen_login_scanned_by",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.status}"
