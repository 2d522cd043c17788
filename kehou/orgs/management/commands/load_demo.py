"""``manage.py load_demo``: load the deterministic demo city of Nanchang.

Loading twice adds nothing (the second run says the city is there and stops); ``--reset`` removes the demo city
first and loads it again. ``--scale`` or ``--pupils`` make a smaller (or larger) city with the same schools,
teachers and administrators.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kehou.core import clock
from kehou.demo import build, data


class Command(BaseCommand):
    help = "Load the deterministic demo city of Nanchang (does nothing if it is already loaded)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--reset", action="store_true", help="delete the demo city first, then load it again")
        parser.add_argument("--scale", type=float, default=1.0, help=f"pupils as a share of {data.BASE_PUPILS}")
        parser.add_argument("--pupils", type=int, default=None, help="exact number of pupils (overrides --scale)")
        parser.add_argument("--seed", type=int, default=data.SEED, help="random seed (default: %(default)s)")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        now = clock.now()
        try:
            if options["reset"]:
                deleted = build.reset(now=now)
                self.stdout.write("Removed the demo city: " + ", ".join(f"{k} {v}" for k, v in deleted.items()))
            result = build.build(scale=options["scale"], pupils=options["pupils"], seed=options["seed"], now=now)
        except build.DemoError as exc:
            raise CommandError(exc.message) from exc
        if not result.loaded:
            self.stdout.write("The demo city is already loaded: nothing to do (use --reset to load it again).")
            return
        elapsed = time.monotonic() - started
        width = max(len(k) for k in result.counts)
        for key, value in result.counts.items():
            self.stdout.write(f"  {key:<{width}}  {value:>6}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded the demo city of {data.CITY_NAME} in {elapsed:.1f} s. "
                f"Every demo account has the password {data.DEMO_PASSWORD}; list them with manage.py demo_accounts."
            )
        )
