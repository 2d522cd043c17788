"""The periodic schedule (``kehou.core.schedule``, ``manage.py schedule``) and ``manage.py tick``: each due job is
enqueued once per slot of its interval, however many schedulers run at once."""

from __future__ import annotations

import io
import json
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from kehou.catalog.tests.test_concurrency import Race
from kehou.core.models import ScheduledRun
from kehou.core.schedule import SCHEDULE, Schedule, prune

from .taskworker import DATABASE_TASKS, run_worker

JOBS = {
    "attendance.close_roll_calls": "kehou.attendance.tasks.close_roll_calls",
    "attendance.purge_coordinates": "kehou.attendance.tasks.purge_coordinates",
    "attendance.scan_follow_ups": "kehou.attendance.tasks.scan_follow_ups",
    "enrolment.expire_holds": "kehou.enrolment.tasks.expire_holds",
    "enrolment.remind_holds": "kehou.enrolment.tasks.remind_holds",
    "enrolment.draw_lotteries": "kehou.enrolment.tasks.draw_lotteries",
    "notify.sms_for_unread": "kehou.notify.tasks.sms_for_unread",
    "notify.purge_events": "kehou.notify.tasks.purge_events",
    "payments.poll_payments": "kehou.payments.tasks.poll_payments",
    "payments.close_expired_orders": "kehou.payments.tasks.close_expired_orders",
    "payments.deliver_simulator_notifications": "kehou.payments.tasks.deliver_simulator_notifications",
    "payments.poll_refunds": "kehou.payments.tasks.poll_refunds",
    "payroll.compute_pay_lines": "kehou.payroll.tasks.compute_pay_lines",
    "payroll.follow_payouts": "kehou.payroll.tasks.follow_payouts",
    "teaching.sweep_conversions": "kehou.teaching.tasks.sweep_conversions",
    "supervision.rollup": "kehou.supervision.tasks.rollup",
    "supervision.weekly_report": "kehou.supervision.tasks.weekly_report",
}
# A moment that starts a slot of every job's interval (5, 30 and 300 seconds).
AT = datetime.fromtimestamp(1_800_000_000 - 1_800_000_000 % 300).astimezone()


def test_the_apps_register_their_jobs_in_the_one_schedule() -> None:
    assert {j.name: j.task for j in SCHEDULE.jobs()} == JOBS
    SCHEDULE.check()  # every task path imports
    # payments' jobs come first in a slot: orders close before holds expire
    names = [j.name for j in SCHEDULE.jobs()]
    assert names.index("payments.close_expired_orders") < names.index("enrolment.expire_holds")


def test_registering_is_idempotent_and_a_name_is_one_job() -> None:
    schedule = Schedule()
    schedule.register("a", every=30, task="x.y")
    schedule.register("a", every=30, task="x.y")
    with pytest.raises(ValueError, match="already registered"):
        schedule.register("a", every=60, task="x.y")
    with pytest.raises(ValueError, match="positive"):
        schedule.register("b", every=0, task="x.y")
    schedule.register("c", every=30, task="x.z", priority=5)
    assert [j.name for j in schedule.jobs()] == ["c", "a"]


@pytest.mark.django_db
def test_each_due_job_is_enqueued_once_per_slot(db_tasks: None) -> None:
    # At the start of a slot every job is due: each is enqueued once, with its ScheduledRun
    assert sorted(SCHEDULE.enqueue_due(now=AT)) == sorted(JOBS)
    assert Counter(DBTaskResult.objects.values_list("task_path", flat=True)) == Counter(JOBS.values())
    assert set(ScheduledRun.objects.values_list("task_id", flat=True)) == {
        str(pk) for pk in DBTaskResult.objects.values_list("id", flat=True)
    }
    # A second scheduler (or the same one again) within the slot enqueues nothing
    assert SCHEDULE.enqueue_due(now=AT) == []
    assert SCHEDULE.enqueue_due(now=AT + timedelta(seconds=4)) == []
    # The simulator's 5 s slot comes round first, then the 30 s jobs'
    assert SCHEDULE.enqueue_due(now=AT + timedelta(seconds=5)) == ["payments.deliver_simulator_notifications"]
    assert len(SCHEDULE.enqueue_due(now=AT + timedelta(seconds=30))) == 8
    assert DBTaskResult.objects.count() == 26


@pytest.mark.django_db
def test_the_enqueued_jobs_run_on_the_worker(db_tasks: None, monkeypatch: pytest.MonkeyPatch) -> None:
    SCHEDULE.enqueue_due(now=AT)
    run_worker(monkeypatch)
    results = {r.task_path: r for r in DBTaskResult.objects.all()}
    assert {r.status for r in results.values()} == {"SUCCESSFUL"}
    assert results["kehou.payments.tasks.close_expired_orders"].return_value == {"orders_closed": 0}


@pytest.mark.django_db
def test_old_runs_are_pruned() -> None:
    ScheduledRun.objects.create(job="a", slot=1, enqueued_at=AT - timedelta(days=2))
    ScheduledRun.objects.create(job="a", slot=2, enqueued_at=AT)
    assert prune(now=AT) == 1
    assert list(ScheduledRun.objects.values_list("slot", flat=True)) == [2]


@pytest.mark.django_db
def test_the_schedule_command_enqueues_what_is_due(db_tasks: None) -> None:
    out = io.StringIO()
    call_command("schedule", stdout=out)
    line = json.loads(out.getvalue())
    assert sorted(line["enqueued"]) == sorted(JOBS)
    out = io.StringIO()
    call_command("schedule", stdout=out)
    assert json.loads(out.getvalue())["enqueued"] == []


@pytest.mark.django_db
def test_tick_runs_the_jobs_inline_and_prints_the_same_line_as_before(settings: Any, tmp_path: Any) -> None:
    storage = {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}}
    settings.STORAGES = {**settings.STORAGES, "default": storage}  # the weekly report's files
    out = io.StringIO()
    call_command("tick", stdout=out)
    assert json.loads(out.getvalue()) == {
        "payments_found": 0,
        "orders_closed": 0,
        "notifications_delivered": 0,
        "refunds_settled": 0,
        "expired": 0,
        "reminded": 0,
        "lotteries": 0,
        "roll_calls_closed": 0,
        "check_ins_missed": 0,
        "coordinates_purged": 0,
        "follow_ups_opened": 0,
        "follow_ups_cleared": 0,
        "follow_ups_escalated": 0,
        "follow_ups_updated": 0,
        "sms_sent": 0,
        "sms_no_phone": 0,
        "events_purged": 0,
        "pay_sessions_read": 0,
        "pay_lines_created": 0,
        "pay_lines_updated": 0,
        "pay_lines_removed": 0,
        "fees_released_fen": 0,
        "sessions_without_rate": 0,
        "payout_notifications_delivered": 0,
        "payouts_resent": 0,
        "payouts_queried": 0,
        "conversions_requeued": 0,
        "school_days_rolled_up": 0,
        "school_terms_rolled_up": 0,
        "progress_reports_issued": 1,
    }
    assert not DBTaskResult.objects.exists()  # nothing went through a queue


# --- two schedulers at the same moment, for real ------------------------------------------------------------------
@pytest.fixture
def race(tmp_path: Path) -> Any:
    r = Race(tmp_path)
    yield r
    r.stop()


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
def test_two_schedulers_at_once_enqueue_each_due_job_once(settings: Any, race: Race, round_: int) -> None:
    settings.TASKS = DATABASE_TASKS
    race.start()
    # When two schedulers (four, even) find the same slot due at the same moment
    results = race.run(*[lambda: SCHEDULE.enqueue_due(now=AT)] * 4)
    for r in results:
        if isinstance(r, Exception):
            raise r
    # Then each job was enqueued by exactly one of them, and is in the queue once
    assert sorted(name for names in results for name in names) == sorted(JOBS)
    paths = race.read(lambda: list(DBTaskResult.objects.values_list("task_path", flat=True)))
    assert Counter(paths) == Counter(JOBS.values())
    assert race.read(lambda: ScheduledRun.objects.count()) == len(JOBS)
