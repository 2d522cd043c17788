"""``manage.py load_demo``: load the deterministic demo city of Nanchang, then its libraries and review, then its
course classes and selection, then its payments and refunds.

Four steps, each loaded once: the city (regions, schools, people), then the catalog (fee and quality standards,
submissions in every state, panels and scores, the city, district and school libraries, filings; see
:mod:`kehou.demo.stages.catalog`), then the classes (care fee standards, course and care classes, selection windows
with one open now, a drawn lottery, waivers, and pupils' places in every state; see
:mod:`kehou.demo.stages.enrolment`), then the payments (refund policies; the classes' confirmed places paid through
the simulator channel as they are confirmed, so this step runs with the classes; a first period of the term with
full, pro-rata and tiered refunds, a refund awaiting approval, a late payment refunded automatically, a duplicated
and a forged notification, and yesterday's bill reconciled and settled into escrow; see
:mod:`kehou.demo.stages.payments`). Loading twice adds nothing; a city loaded without a later step gets it on the
next run, except the payments: classes loaded with ``--no-payments`` keep their unpaid places. ``--no-catalog``
loads only the city (and so no classes either); ``--no-classes`` stops after the catalog; ``--no-payments`` after
the classes (confirmed without payment). ``--reset`` removes the demo city first and loads it again; it refuses once
the catalog is loaded, because the catalog's review steps are in the append-only audit log. ``--scale`` or
``--pupils`` make a smaller (or larger) city with the same schools, teachers and administrators.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kehou.core import clock
from kehou.demo import data, loader
from kehou.demo.common import DemoError, LoadResult


class Command(BaseCommand):
    help = "Load the deterministic demo city of Nanchang (does nothing if it is already loaded)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--reset", action="store_true", help="delete the demo city first, then load it again")
        parser.add_argument("--scale", type=float, default=1.0, help=f"pupils as a share of {data.BASE_PUPILS}")
        parser.add_argument("--pupils", type=int, default=None, help="exact number of pupils (overrides --scale)")
        parser.add_argument("--seed", type=int, default=data.SEED, help="random seed (default: %(default)s)")
        parser.add_argument(
            "--no-catalog",
            dest="catalog",
            action="store_false",
            help="load only the city, not the demo libraries and review (nor the classes)",
        )
        parser.add_argument(
            "--no-classes",
            dest="classes",
            action="store_false",
            help="do not load the demo classes, selection windows and places (nor the payments)",
        )
        parser.add_argument(
            "--no-payments",
            dest="payments",
            action="store_false",
            help="do not load the demo payments and refunds (the classes' places are confirmed without payment)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        now = clock.now()
        try:
            if options["reset"]:
                deleted = loader.reset(now=now)
                self.stdout.write("Removed the demo city: " + ", ".join(f"{k} {v}" for k, v in deleted.items()))
            stages = loader.load(
                scale=options["scale"],
                pupils=options["pupils"],
                seed=options["seed"],
                now=now,
                catalog=options["catalog"],
                classes=options["classes"],
                payments=options["payments"],
            )
            for stage, result in stages:
                self._report(stage, result, time.monotonic() - started)
                started = time.monotonic()
        except DemoError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"Every demo account has the password {data.DEMO_PASSWORD}; list them with manage.py demo_accounts."
        )

    def _report(self, stage: str, result: LoadResult, elapsed: float) -> None:
        if stage == loader.CITY:
            if not result.loaded:
                self.stdout.write("The demo city is already loaded: nothing to do (use --reset to load it again).")
            else:
                self._counts(result.counts)
                self.stdout.write(self.style.SUCCESS(f"Loaded the demo city of {data.CITY_NAME} in {elapsed:.1f} s."))
        elif stage == loader.CATALOG:
            if not result.loaded:
                self.stdout.write("The demo libraries and review are already loaded: nothing to do.")
            else:
                self._counts(result.counts)
                self.stdout.write(self.style.SUCCESS(f"Loaded the demo libraries and review in {elapsed:.1f} s."))
        elif stage == loader.CLASSES:
            if result.state == "no_term":
                self.stdout.write(
                    self.style.WARNING("No current or coming term in the demo calendar: no classes were loaded.")
                )
            elif not result.loaded:
                self.stdout.write("The demo classes and selection are already loaded: nothing to do.")
            else:
                self._counts(result.counts)
                self.stdout.write(self.style.SUCCESS(f"Loaded the demo classes and selection in {elapsed:.1f} s."))
        elif result.state == "no_simulator":
            self.stdout.write(
                self.style.WARNING(
                    "The simulator channel is not enabled (KEHOU_PAYMENT_CHANNELS): no demo payments were loaded."
                )
            )
        elif result.state == "unpaid":
            self.stdout.write(
                self.style.WARNING(
                    "The demo places were confirmed without payments (loaded with --no-payments): the payments demo "
                    "pays them as they are confirmed, so it loads only together with them, into a fresh database."
                )
            )
        elif not result.loaded:
            self.stdout.write("The demo payments and refunds are already loaded: nothing to do.")
        else:
            self._counts(result.counts)
            self.stdout.write(self.style.SUCCESS(f"Loaded the demo payments and refunds in {elapsed:.1f} s."))

    def _counts(self, counts: dict[str, int]) -> None:
        width = max(len(k) for k in counts)
        for key, value in counts.items():
            self.stdout.write(f"  {key:<{width}}  {value:>6}")
