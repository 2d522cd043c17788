"""The scheduler: enqueue the periodic jobs that are due (``kehou.core.schedule``), once or every N seconds.

Safe to run on several machines at once: each job is enqueued once per slot of its interval whoever gets there
first. The tasks themselves are run by ``manage.py db_worker``. Prints one JSON line per run that enqueued something.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections

from kehou.core import clock
from kehou.core.schedule import SCHEDULE, prune

log = logging.getLogger("kehou.tasks")


class Command(BaseCommand):
    help = "Enqueue the periodic jobs that are due (run beside the task workers; several at once are safe)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--loop", type=float, default=0, help="look again every N seconds (0: once)")

    def handle(self, *args: Any, loop: float = 0, **options: Any) -> None:
        SCHEDULE.check()
        while True:
            now = clock.now()
            try:
                enqueued = SCHEDULE.enqueue_due(now=now)
                prune(now=now)
            except DatabaseError:
                if loop <= 0:
                    raise
                log.exception("schedule: the database is not answering; trying again in %s s", loop)
                enqueued = []
            if enqueued or loop <= 0:
                self.stdout.write(json.dumps({"at": now.isoformat(timespec="seconds"), "enqueued": enqueued}))
            if loop <= 0:
                return
            time.sleep(loop)
            close_old_connections()  # as between two requests: a connection the database dropped is replaced
