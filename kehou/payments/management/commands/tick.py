"""The platform's periodic work, run here and now instead of by the task worker: every job of the schedule
(``kehou.core.schedule``: seat holds expire and lottery windows are drawn; unpaid orders close, the simulator's due
notifications are delivered, payments and refunds still open are followed up), once or every N seconds, in the
schedule's order (orders close before holds expire). Prints one JSON line per run. In production the scheduler
(``manage.py schedule``) and the workers (``manage.py db_worker``) do this; ``tick`` is for a shell and for tests."""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand

from kehou.core.jobs import run_inline
from kehou.core.schedule import SCHEDULE


class Command(BaseCommand):
    help = "Run the periodic jobs inline, once (prints one JSON line per run)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--loop", type=int, default=0, help="repeat every N seconds (0: run once)")

    def handle(self, *args: Any, loop: int = 0, **options: Any) -> None:
        while True:
            result: dict[str, Any] = {}
            for job in SCHEDULE.jobs():
                result |= run_inline(job.task)
            self.stdout.write(json.dumps(result))
            if loop <= 0:
                return
            time.sleep(loop)
