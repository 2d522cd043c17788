"""Reads for the failed-tasks page: the tasks that failed for good, and the state of the task queue."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q, QuerySet
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max

from .models import FailedTask
from .scope import Scope

STUCK_AFTER = timedelta(minutes=15)  # a task running longer than this probably lost its worker


def failed_task_list(*, scope: Scope, q: str = "", task: str = "") -> QuerySet[FailedTask]:
    """Tasks that failed for good, newest first. Only the city bureau and superusers see any (``FailedTask``'s
    scope reaches no district or school)."""
    qs = scope.filter(FailedTask.objects.all())
    if q.strip():
        term = q.strip()
        qs = qs.filter(Q(task_path__icontains=term) | Q(error__icontains=term) | Q(error_class__icontains=term))
    if task:
        qs = qs.filter(task_path=task)
    return qs


def failed_task_paths(*, scope: Scope) -> list[str]:
    return sorted(set(scope.filter(FailedTask.objects.all()).values_list("task_path", flat=True)))


def queue_state(*, now: datetime) -> dict[str, int]:
    """How the database task queue stands: due and not yet taken (the queue depth), waiting to be retried or
    deferred, running, running for longer than ``STUCK_AFTER`` (a worker that died mid-task leaves its task
    running: it is not retried), and attempts that failed in the last 24 hours (retried or not)."""
    results = DBTaskResult.objects.all()
    ready = results.filter(status=TaskResultStatus.READY)
    running = results.filter(status=TaskResultStatus.RUNNING)
    return {
        "due": ready.filter(Q(run_after=get_date_max()) | Q(run_after__lte=now)).count(),
        "later": ready.filter(run_after__gt=now).exclude(run_after=get_date_max()).count(),
        "running": running.count(),
        "stuck": running.filter(started_at__lt=now - STUCK_AFTER).count(),
        "failed_attempts_24h": results.filter(
            status=TaskResultStatus.FAILED, finished_at__gte=now - timedelta(hours=24)
        ).count(),
    }
