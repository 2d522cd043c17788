"""Expire holds (freeing seats for the waitlist) and draw closed lottery windows; once, or every N seconds."""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand

from kehou.core import clock
from kehou.enrolment.services.selection import enrolment_tick


class Command(BaseCommand):
    help = "Expire seat holds and draw closed lottery windows (prints one JSON line per run)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--loop", type=int, default=0, help="repeat every N seconds (0: run once)")

    def handle(self, *args: Any, loop: int = 0, **options: Any) -> None:
        while True:
            result = enrolment_tick(now=clock.now())
            self.stdout.write(json.dumps(result))
            if loop <= 0:
                return
            time.sleep(loop)
