"""Background tasks that are retried with back-off and never silently dropped (Django's Tasks API).

``@job()`` turns a function into a Django task (``django_tasks.task``). When the function raises, the task is enqueued
again after a back-off (``RETRY_DELAYS``: 30 s, 2 min, 10 min, so four attempts in all) and the worker marks this
attempt's result failed as usual. When the last attempt fails, or the function raises :class:`GiveUp` (trying again
cannot help), the failure is kept as a :class:`~kehou.core.models.FailedTask`, which the city's failed-tasks page
lists, is written to the audit log in the same transaction, is logged at ERROR, and then the job's give-up hook runs
(payments alerts the city's operators about a refund it could not make). The database worker of django-tasks-db has
no retries of its own; the attempt number travels in the task's keyword arguments (``kehou_attempt``), so each retry
is a task result of its own that any worker may pick up.

:func:`enqueue` enqueues a task by its dotted path along with the change that calls for it: on the database backend
the task's row is written in the caller's transaction (the workers see it when the change commits and it is lost
only with the change); on any other backend it is enqueued once the transaction commits. Services use it for their
own app's tasks, whose module imports the services.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from datetime import timedelta
from typing import Any, ParamSpec, TypeVar, cast

from django.db import transaction
from django.utils.module_loading import import_string
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, TaskContext, task, task_backends
from django_tasks.base import Task
from django_tasks_db.backend import DatabaseBackend

from . import audit, clock
from .audit_actions import AuditAction
from .models import FailedTask

P = ParamSpec("P")
T = TypeVar("T")

log = logging.getLogger("kehou.tasks")

RETRY_DELAYS: tuple[int, ...] = (30, 120, 600)  # seconds before the 2nd, 3rd and 4th attempt
ATTEMPT = "kehou_attempt"  # keyword argument carrying the attempt number (absent: the first)
GiveUpHook = Callable[[FailedTask], object]


class GiveUp(Exception):
    """Raised by a job when another attempt cannot help: the task fails for good at once."""


def job(
    *, priority: int = 0, retry_delays: tuple[int, ...] = RETRY_DELAYS, on_give_up: str = ""
) -> Callable[[Callable[P, T]], Task[P, T]]:
    """A task with retries. ``on_give_up``: the dotted path of a function ``(failure: FailedTask)`` run once the
    task has failed for good (in its own transaction, after the failure is recorded)."""

    def decorate(func: Callable[P, T]) -> Task[P, T]:
        def run(context: TaskContext, *args: Any, **kwargs: Any) -> T:
            attempt = int(kwargs.pop(ATTEMPT, 1))
            try:
                return func(*args, **kwargs)
            except Exception as exc:
                _failed(context, exc, attempt, retry_delays, on_give_up, list(args), kwargs)
                raise

        # The task is found again by its function's dotted path, which must name the Task object this returns.
        # No ``__wrapped__``: the backend reads the wrapper's own signature (its first argument is the context).
        run.__module__, run.__name__, run.__qualname__ = func.__module__, func.__name__, func.__qualname__
        run.__doc__ = func.__doc__
        run.kehou_inline = func  # type: ignore[attr-defined]
        return cast("Task[P, T]", task(priority=priority, takes_context=True)(run))

    return decorate


def run_inline(task_path: str, **kwargs: Any) -> Any:
    """Call a ``@job`` task's function here and now, without a worker, retries or result (``manage.py tick``)."""
    found = import_string(task_path)
    if not isinstance(found, Task) or not hasattr(found.func, "kehou_inline"):
        raise TypeError(f"{task_path} is not a kehou.core.jobs.job task")
    return found.func.kehou_inline(**kwargs)


def enqueue(task_path: str, *, delay: int = 0, priority: int | None = None, **kwargs: Any) -> str | None:
    """Enqueue the task at ``task_path`` with ``kwargs``, ``delay`` seconds from now at the earliest. Returns the
    task result's id when it was enqueued at once (database backend), None when it waits for the commit."""
    backend = task_backends[DEFAULT_TASK_BACKEND_ALIAS]

    def send() -> str:
        found: Task[..., Any] = import_string(task_path)
        if priority is not None:
            found = found.using(priority=priority)
        if delay and backend.supports_defer:
            found = found.using(run_after=clock.now() + timedelta(seconds=delay))
        return found.enqueue(**kwargs).id

    if isinstance(backend, DatabaseBackend):
        return send()
    transaction.on_commit(send)
    return None


def _failed(
    context: TaskContext,
    exc: Exception,
    attempt: int,
    retry_delays: tuple[int, ...],
    on_give_up: str,
    args: list[Any],
    kwargs: dict[str, Any],
) -> None:
    result = context.task_result
    path = result.task.module_path
    if not isinstance(exc, GiveUp) and attempt <= len(retry_delays):
        delay = retry_delays[attempt - 1]
        try:
            again = result.task
            if again.get_backend().supports_defer:
                again = again.using(run_after=clock.now() + timedelta(seconds=delay))
            again.enqueue(*args, **{**kwargs, ATTEMPT: attempt + 1})
        except Exception:
            log.exception("task %s: attempt %s failed and its retry could not be enqueued", path, attempt)
        else:
            log.warning("task %s: attempt %s failed (%s: %s); retried in %s s", path, attempt, _name(exc), exc, delay)
            return
    give_up(
        task_path=path,
        arguments={"args": args, "kwargs": kwargs},
        attempts=attempt,
        exc=exc,
        result_id=str(result.id),
        on_give_up=on_give_up,
    )


def give_up(
    *, task_path: str, arguments: dict[str, Any], attempts: int, exc: BaseException, result_id: str, on_give_up: str
) -> FailedTask:
    """Record a task's final failure (failed-tasks page and audit log, one transaction), then run its hook."""
    now = clock.now()
    text = str(exc)[:500]
    with transaction.atomic():
        failure = FailedTask.objects.create(
            task_path=task_path[:200],
            arguments=arguments,
            attempts=attempts,
            error_class=_name(exc)[:200],
            error=text,
            traceback="".join(traceback.format_exception(exc))[-20000:],
            result_id=result_id[:64],
            failed_at=now,
        )
        audit.record(
            actor=None,
            action=AuditAction.TASK_FAILED,
            obj=failure,
            after={"task": task_path, "attempts": attempts, "error": f"{_name(exc)}: {text}", **arguments},
            now=now,
        )
    log.error("task %s failed for good after %s attempt(s): %s: %s", task_path, attempts, _name(exc), text)
    if on_give_up:
        try:
            hook: GiveUpHook = import_string(on_give_up)
            with transaction.atomic():
                hook(failure)
        except Exception as hook_exc:
            log.exception("task %s: the give-up hook %s failed", task_path, on_give_up)
            FailedTask.objects.filter(pk=failure.pk).update(hook_error=f"{_name(hook_exc)}: {hook_exc}"[:500])
    return failure


def _name(exc: BaseException) -> str:
    return f"{type(exc).__module__}.{type(exc).__qualname__}"
