"""The periodic schedule: every recurring job of the platform, in one place.

Apps register their jobs when they start (``AppConfig.ready``): a name, an interval and the dotted path of a task
(``kehou.<app>.tasks.<name>``, a :func:`kehou.core.jobs.job`). Core knows the paths only as strings, so it imports no
app above it. ``manage.py schedule`` enqueues the jobs that are due; ``db_worker`` runs them.

Time is cut into slots of each job's interval (seconds since the epoch // interval). A job is enqueued once per slot:
a :class:`~kehou.core.models.ScheduledRun` row, unique per job and slot, is written in the transaction that enqueues
the task, so any number of schedulers may run at once (one per machine, say): of two that find the same slot due, one
writes the row and enqueues, the other meets the unique constraint and skips. A slot that passed while no scheduler
ran is not made up for: every job catches up with whatever is due when it next runs. Each job is idempotent
(conditional UPDATEs), so a run that overlaps the previous one, or a retry, does no harm.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils.module_loading import import_string
from django_tasks.base import Task

from . import jobs
from .models import ScheduledRun

KEEP_RUNS = timedelta(days=1)  # ScheduledRun rows older than this are pruned by the scheduler


@dataclass(frozen=True)
class Job:
    name: str
    every: int  # seconds
    task: str  # dotted path of a kehou.core.jobs.job task
    # Higher first: the order in which a slot's jobs are enqueued (and ``manage.py tick`` runs them inline).
    priority: int = 0

    def slot(self, now: datetime) -> int:
        return int(now.timestamp()) // self.every


class Schedule:
    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}

    def register(self, name: str, *, every: int, task: str, priority: int = 0) -> Job:
        """Add a job (from an ``AppConfig.ready``). Registering the same job again is a no-op; another job under a
        name already taken is a programming error."""
        if every <= 0:
            raise ValueError(f"job {name}: the interval must be positive")
        new = Job(name=name, every=every, task=task, priority=priority)
        old = self._jobs.setdefault(name, new)
        if old != new:
            raise ValueError(f"job {name} is already registered as {old}")
        return new

    def jobs(self) -> list[Job]:
        """The jobs, higher priority first, then in the order they were registered."""
        return sorted(self._jobs.values(), key=lambda j: -j.priority)

    def check(self) -> None:
        """Every job names a task that can be imported (called when a scheduler starts)."""
        for j in self._jobs.values():
            if not isinstance(import_string(j.task), Task):
                raise TypeError(f"job {j.name}: {j.task} is not a task")

    def enqueue_due(self, *, now: datetime) -> list[str]:
        """Enqueue each job whose slot at ``now`` nobody has enqueued yet. Returns the names of those enqueued."""
        enqueued = []
        for j in self.jobs():
            slot = j.slot(now)
            if ScheduledRun.objects.filter(job=j.name, slot=slot).exists():
                continue  # another scheduler took it (the unique row settles a tie at the same instant)
            try:
                with transaction.atomic():
                    run = ScheduledRun.objects.create(job=j.name, slot=slot, enqueued_at=now)
                    task_id = jobs.enqueue(j.task, priority=j.priority)
                    if task_id:
                        ScheduledRun.objects.filter(pk=run.pk).update(task_id=task_id)
            except IntegrityError:
                continue
            enqueued.append(j.name)
        return enqueued


SCHEDULE = Schedule()
register = SCHEDULE.register


def prune(*, now: datetime) -> int:
    """Forget the scheduled runs of long-past slots (they only guard against enqueueing a slot twice)."""
    deleted, _by_model = ScheduledRun.objects.filter(enqueued_at__lt=now - KEEP_RUNS).delete()
    return deleted
