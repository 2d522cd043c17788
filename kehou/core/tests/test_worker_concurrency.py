"""Two real task workers (``manage.py db_worker`` processes) on one PostgreSQL queue: every task runs exactly once.

The workers claim a task with ``SELECT … FOR UPDATE SKIP LOCKED`` and mark it running in the same transaction, so a
task is taken by one worker only, and several workers (on several machines) share one queue. PostgreSQL only: on
SQLite a city runs one worker beside the server (``make demo``), and the file's write lock serialises claims anyway.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction
from django_tasks_db.models import DBTaskResult

from .taskworker import DATABASE_TASKS, PROBE_TABLE, probe

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
        reason="two worker processes need a shared server database: run with DATABASE_URL=postgres://…",
    ),
]

TASKS = 300
PROBE = "kehou.core.tests.taskworker.probe"


def database_url() -> str:
    db = connection.settings_dict
    user = quote(str(db.get("USER") or ""), safe="")
    password = quote(str(db.get("PASSWORD") or ""), safe="")
    auth = f"{user}:{password}@" if password else f"{user}@"
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def start_worker(name: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kehou.settings.base",
        "DATABASE_URL": database_url(),
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "DEBUG": "0",
    }
    command = [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay", "--interval", "0.05"]
    with log.open("wb") as out:
        return subprocess.Popen(
            [*command, "--worker-id", name], cwd=django_settings.BASE_DIR, env=env, stdout=out, stderr=out
        )


def wait_for(condition: Any, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


def test_two_worker_processes_on_one_queue_run_every_task_exactly_once(settings: Any, tmp_path: Path) -> None:
    settings.TASKS = DATABASE_TASKS
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {PROBE_TABLE} (n integer NOT NULL, pid integer NOT NULL)")
        cursor.execute(f"DELETE FROM {PROBE_TABLE}")
    logs = {name: tmp_path / f"{name}.log" for name in ("worker-a", "worker-b")}
    workers = {name: start_worker(name, log) for name, log in logs.items()}
    try:
        # Given two workers polling the same queue
        wait_for(
            lambda: all("Starting worker" in log.read_text(errors="replace") for log in logs.values()),
            timeout=90,
            what="both workers to start",
        )
        # When many tasks arrive at once
        with transaction.atomic():
            for n in range(TASKS):
                probe.enqueue(n=n)
        wait_for(
            lambda: DBTaskResult.objects.filter(task_path=PROBE, status__in=["SUCCESSFUL", "FAILED"]).count() == TASKS,
            timeout=180,
            what="the workers to run every task",
        )
    finally:
        for proc in workers.values():
            proc.terminate()  # SIGTERM: the worker finishes its task and stops
        for proc in workers.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    # Then every task ran exactly once, each taken by one worker, and both workers took part
    results = list(DBTaskResult.objects.filter(task_path=PROBE))
    assert Counter(r.status for r in results) == {"SUCCESSFUL": TASKS}, [
        log.read_text(errors="replace")[-2000:] for log in logs.values()
    ]
    assert all(len(r.worker_ids) == 1 for r in results)
    assert {r.worker_ids[0] for r in results} == set(workers)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT n, pid FROM {PROBE_TABLE}")
        rows = cursor.fetchall()
        cursor.execute(f"DROP TABLE {PROBE_TABLE}")
    assert Counter(n for n, _pid in rows) == Counter(range(TASKS))
    assert {pid for _n, pid in rows} == {proc.pid for proc in workers.values()}
