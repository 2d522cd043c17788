"""The audit log: append-only, written in the same transaction as the change it records."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .scope import ScopeSpec


class AuditEntry(models.Model):
    at = models.DateTimeField(_("time"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(_("actor"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=80, db_index=True)
    object_type = models.CharField(_("object type"), max_length=80, db_index=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=32, blank=True)
    # Denormalised so that each admin sees only the audit of its own scope.
    district = models.ForeignKey("orgs.Region", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey("orgs.School", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec(district="district", school="school", operator_via_school=False)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action} {self.object_repr}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise ValueError("audit entries are append-only")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise ValueError("audit entries are append-only")


class ScheduledRun(models.Model):
    """One periodic job enqueued for one slot of its interval (``core.schedule``). The row is unique per job and slot
    and is written in the transaction that enqueues the task, so however many schedulers run, one enqueues it."""

    job = models.CharField(_("job"), max_length=80)
    slot = models.BigIntegerField(_("slot"))  # seconds since the epoch // the job's interval
    enqueued_at = models.DateTimeField(_("enqueued at"), db_index=True)
    task_id = models.CharField(_("task result"), max_length=64, blank=True)

    class Meta:
        ordering = ["-enqueued_at", "-id"]
        verbose_name = _("scheduled run")
        verbose_name_plural = _("scheduled runs")
        constraints = [models.UniqueConstraint(fields=["job", "slot"], name="scheduled_run_once")]

    def __str__(self) -> str:
        return f"{self.job} #{self.slot}"


class FailedTask(models.Model):
    """A background task that failed on its last attempt (``core.jobs``): kept for the city's operators, who see it
    on the failed-tasks page; the audit log has an entry for it too. Rows are never written for an attempt that
    will be retried."""

    task_path = models.CharField(_("task"), max_length=200, db_index=True)
    arguments = models.JSONField(_("arguments"), default=dict)
    attempts = models.PositiveSmallIntegerField(_("attempts"))
    error_class = models.CharField(_("error"), max_length=200)
    error = models.CharField(_("message"), max_length=500, blank=True)
    traceback = models.TextField(_("traceback"), blank=True)
    result_id = models.CharField(_("task result"), max_length=64, blank=True)
    failed_at = models.DateTimeField(_("failed at"), db_index=True)
    # What the task's give-up hook did not manage to do (it is run after the failure is recorded).
    hook_error = models.CharField(_("give-up hook error"), max_length=500, blank=True)

    # No path reaches a district or school: only the city bureau and superusers (whose scope is everything) see
    # these rows.
    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec()

    class Meta:
        ordering = ["-failed_at", "-id"]
        verbose_name = _("failed task")
        verbose_name_plural = _("failed tasks")

    def __str__(self) -> str:
        return f"{self.task_name} · {self.error_class}"

    @property
    def task_name(self) -> str:
        return self.task_path.rsplit(".", 1)[-1]
