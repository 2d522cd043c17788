"""Helpers for tests of background tasks: the worker run in-process, back-offs made to pass, probe tasks.

The probe tasks live here (not in a test module) so that a worker process can import them by their dotted path.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

from kehou.core.jobs import GiveUp, job
from kehou.core.models import FailedTask

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
HOOKED: list[int] = []


def run_worker(monkeypatch: pytest.MonkeyPatch, worker_id: str = "test-worker") -> None:
    """What ``manage.py db_worker --batch`` does, in this process and inside the test's transaction: run every task
    that is due, then return. (The worker's connection housekeeping would close the test's connection.)"""
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    db_worker.Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id,
        excluded_queue_names=[],
    ).run()


def waiting() -> list[DBTaskResult]:
    """Tasks enqueued for later (a retry's back-off), oldest first."""
    return [
        r
        for r in DBTaskResult.objects.filter(status="READY").order_by("enqueued_at")
        if r.run_after.year < 9999 and r.run_after > timezone.now()
    ]


def delays(results: list[DBTaskResult]) -> list[int]:
    return [round((r.run_after - r.enqueued_at).total_seconds()) for r in results]


def time_passes() -> list[int]:
    """Make every task waiting for its back-off due now; returns the back-offs (seconds) they were waiting for."""
    later = waiting()
    DBTaskResult.objects.filter(pk__in=[r.pk for r in later]).update(run_after=timezone.now() - timedelta(seconds=1))
    return delays(later)


# --- probe tasks ---------------------------------------------------------------------------------------------------
@job()
def always_fails(*, n: int = 0) -> None:
    raise RuntimeError(f"probe {n} cannot work")


@job()
def gives_up() -> None:
    raise GiveUp("no point in trying again")


@job(on_give_up="kehou.core.tests.taskworker.remember")
def fails_with_a_hook() -> None:
    raise RuntimeError("boom")


def remember(failure: FailedTask) -> None:
    HOOKED.append(failure.pk)


@job(on_give_up="kehou.core.tests.taskworker.broken_hook")
def fails_with_a_broken_hook() -> None:
    raise RuntimeError("boom")


def broken_hook(failure: FailedTask) -> None:
    raise ValueError("the hook broke")


@job()
def succeeds(*, n: int) -> int:
    return n * 2


PROBE_TABLE = "kehou_test_probe_run"


@job()
def probe(*, n: int) -> int:
    """Writes down that it ran, and in which process (the two-worker test counts the rows)."""
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {PROBE_TABLE} (n, pid) VALUES (%s, %s)", [n, os.getpid()])
    time.sleep(0.02)
    return n
