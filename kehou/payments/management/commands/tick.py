"""The platform's periodic work, once or every N seconds: seat holds expire and lottery windows are drawn
(enrolment); unpaid orders close, the simulator's due notifications are delivered, refunds with the channels are
followed up (payments). Prints one JSON line per run."""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand

from kehou.core import clock
from kehou.enrolment.services.selection import enrolment_tick
from kehou.payments.services.ticker import payments_tick


class Command(BaseCommand):
    help = "Run the periodic work of enrolment and payments (prints one JSON line per run)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--loop", type=int, default=0, help="repeat every N seconds (0: run once)")

    def handle(self, *args: Any, loop: int = 0, **options: Any) -> None:
        while True:
            now = clock.now()
            # Orders close before holds expire, so a seat's order is closed in the same run as its hold.
            result = payments_tick(now=now) | enrolment_tick(now=now)
            self.stdout.write(json.dumps(result))
            if loop <= 0:
                return
            time.sleep(loop)
