"""Background tasks (``kehou.core.jobs``): a failing task is retried with back-off (30 s, 2 min, 10 min), then kept as
a failed task, which the city's operators see on the failed-tasks page, and written to the audit log. Never dropped.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from kehou.conftest import City, page_as
from kehou.core import jobs
from kehou.core.audit_actions import AuditAction
from kehou.core.models import AuditEntry, FailedTask

from .taskworker import (
    HOOKED,
    always_fails,
    fails_with_a_broken_hook,
    fails_with_a_hook,
    gives_up,
    run_worker,
    succeeds,
    time_passes,
    waiting,
)

pytestmark = pytest.mark.django_db

PATH = "kehou.core.tests.taskworker.always_fails"


def test_a_failing_task_is_retried_with_back_off_then_listed_and_audited(
    db_tasks: None, monkeypatch: pytest.MonkeyPatch, city: City
) -> None:
    # Given a task that cannot work, in the database queue
    always_fails.enqueue(n=7)

    # When the worker runs it, and again each time its back-off has passed
    run_worker(monkeypatch)
    backoffs = []
    for _ in range(3):
        assert not FailedTask.objects.exists()  # a failure that will be retried is not reported
        run_worker(monkeypatch)  # not due yet: nothing runs
        assert len(waiting()) == 1
        backoffs += time_passes()
        run_worker(monkeypatch)

    # Then it ran four times, 30 s, 2 min and 10 min apart, each attempt a task result of its own
    assert backoffs == [30, 120, 600]
    attempts = DBTaskResult.objects.filter(task_path=PATH).order_by("enqueued_at")
    assert [r.status for r in attempts] == ["FAILED"] * 4
    assert [r.args_kwargs["kwargs"].get("kehou_attempt", 1) for r in attempts] == [1, 2, 3, 4]
    assert not waiting()
    # and, past its retries, it is kept with its error and arguments, and written to the audit log
    failure = FailedTask.objects.get()
    assert (failure.task_path, failure.attempts, failure.error_class) == (PATH, 4, "builtins.RuntimeError")
    assert failure.error == "probe 7 cannot work" and failure.arguments == {"args": [], "kwargs": {"n": 7}}
    assert "RuntimeError: probe 7 cannot work" in failure.traceback
    assert failure.result_id == str(attempts.last().id)  # type: ignore[union-attr]
    entry = AuditEntry.objects.get(action=AuditAction.TASK_FAILED)
    assert entry.object_id == str(failure.pk) and entry.after["attempts"] == 4 and entry.actor_label == "system"

    # and the city bureau sees it on the failed-tasks page (with the queue's state); a school admin sees nothing
    page = page_as(city.users["city_admin"]).get("/tasks/failed/")
    assert page.status_code == 200
    html = page.content.decode()
    assert PATH in html and "RuntimeError: probe 7 cannot work" in html and "data-queue" in html
    other = page_as(city.users["school_admin"]).get("/tasks/failed/").content.decode()
    assert PATH not in other
    assert "data-queue" not in other
    audit_page = page_as(city.users["city_admin"]).get("/audit/?q=task.failed").content.decode()
    assert "task.failed" in audit_page


def test_giving_up_skips_the_retries(db_tasks: None, monkeypatch: pytest.MonkeyPatch) -> None:
    gives_up.enqueue()
    run_worker(monkeypatch)
    assert not waiting()
    failure = FailedTask.objects.get()
    assert (failure.attempts, failure.error_class) == (1, "kehou.core.jobs.GiveUp")


def test_the_give_up_hook_runs_once_the_failure_is_recorded(db_tasks: None, monkeypatch: pytest.MonkeyPatch) -> None:
    HOOKED.clear()
    fails_with_a_hook.enqueue()
    run_worker(monkeypatch)
    for _ in range(3):
        time_passes()
        run_worker(monkeypatch)
    assert [FailedTask.objects.get().pk] == HOOKED


def test_a_broken_hook_does_not_lose_the_failure(db_tasks: None, monkeypatch: pytest.MonkeyPatch) -> None:
    fails_with_a_broken_hook.enqueue(kehou_attempt=4)  # its last attempt
    run_worker(monkeypatch)
    failure = FailedTask.objects.get()
    assert failure.hook_error == "builtins.ValueError: the hook broke"
    assert AuditEntry.objects.filter(action=AuditAction.TASK_FAILED).count() == 1


def test_with_the_immediate_backend_the_retries_run_at_once() -> None:
    # The test settings run tasks as they are enqueued: the back-off cannot wait, the retries still happen
    result = always_fails.enqueue(n=1)
    assert result.status == "FAILED"
    assert FailedTask.objects.get().attempts == 4


def test_a_task_that_works_returns_its_value(db_tasks: None, monkeypatch: pytest.MonkeyPatch) -> None:
    result = succeeds.enqueue(n=21)
    run_worker(monkeypatch)
    result.refresh()
    assert (result.status, result.return_value) == ("SUCCESSFUL", 42)
    assert jobs.run_inline("kehou.core.tests.taskworker.succeeds", n=2) == 4


def test_enqueue_goes_with_the_change_that_calls_for_it(db_tasks: None) -> None:
    # On the database backend the task's row is written in the caller's transaction: rolled back with it
    with pytest.raises(RuntimeError), transaction.atomic():
        jobs.enqueue("kehou.core.tests.taskworker.succeeds", n=1)
        raise RuntimeError("the change fails")
    assert not DBTaskResult.objects.exists()
    # and committed with it, with the delay asked for
    with transaction.atomic():
        task_id = jobs.enqueue("kehou.core.tests.taskworker.succeeds", delay=30, n=1)
    row = DBTaskResult.objects.get()
    assert str(row.id) == task_id and round((row.run_after - row.enqueued_at).total_seconds()) == 30


def test_on_other_backends_enqueue_waits_for_the_commit(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert jobs.enqueue("kehou.core.tests.taskworker.succeeds", n=1) is None
    assert len(callbacks) == 1


def test_run_inline_refuses_what_is_not_a_job() -> None:
    with pytest.raises(TypeError):
        jobs.run_inline("kehou.core.tests.taskworker.remember")
