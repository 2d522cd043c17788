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

It says what it is doing in one line per stage; every stage's counts and whatever the platform logs while loading
(at its own level: the demo's deliberately forged notification is an expected rejection, logged at INFO) go to
``var/demo-load.log`` (``-v 2`` prints the counts as well).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kehou.core import clock
from kehou.demo import data, loader
from kehou.demo.common import DemoError, LoadResult

LOG_NAME = "demo-load.log"
# What each stage's line says it loaded: (count, label), from the stage's counts.
SUMMARY = {
    loader.CITY: (("schools", "schools"), ("pupils", "pupils"), ("accounts", "accounts")),
    loader.CATALOG: (("submissions", "submissions"), ("panels", "review panels"), ("filings", "filings")),
    loader.CLASSES: (
        ("course_classes", "courses"),
        ("care_classes", "care classes"),
        ("windows", "selection windows"),
        ("enrolments", "places"),
    ),
    loader.ATTENDANCE: (
        ("sessions_held", "sessions held"),
        ("check_ins", "check-ins"),
        ("comments", "comments"),
        ("leave_requests", "leave requests"),
    ),
    loader.PAY: (
        ("pay_lines", "pay lines"),
        ("payouts_paid", "payouts paid"),
        ("lines_awaiting_school", "lines of this month awaiting the schools"),
        ("audit_reports", "audit report filed and acknowledged"),
        ("disbursements", "disbursements from escrow asked for (costs and tax)"),
    ),
    loader.TEACHING: (
        ("outlines", "course outlines"),
        ("outline_versions", "outline versions"),
        ("sessions_linked", "held sessions linked to their lessons"),
        ("lessons", "prepared lessons (private, group, school, a copy)"),
        ("courseware", "courseware in every format (the worker converts the deck, PDF, Word file and image)"),
        ("library_lessons", "lesson admitted into a district library (another in review at the city's)"),
    ),
    loader.SUPERVISION: (
        ("school_days", "school-days rolled up for the dashboards"),
        ("school_terms", "schools' participation in the term"),
        ("reports", "progress reports issued (通报)"),
    ),
    loader.PAYMENTS: (
        ("orders", "orders"),
        ("refunds", "refunds"),
        ("notifications_received", "channel notifications"),
    ),
}


OPERATOR_LINE = "The operator's live view (/operations/live/) shows today: one teacher late, one not checked in."


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
        self.verbosity = int(options.get("verbosity", 1))
        log_path = Path(settings.VAR_DIR) / LOG_NAME
        started = time.monotonic()
        now = clock.now()
        with _logged_to(log_path) as self.log:
            try:
                if options["reset"]:
                    deleted = loader.reset(now=now)
                    self.stdout.write("Removed the demo city: " + ", ".join(f"{k} {v}" for k, v in deleted.items()))
                self.stdout.write(f"Loading the demo city of {data.CITY_NAME} (details in {_shown(log_path)}) …")
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
        from kehou.teaching.convert import soffice

        if soffice() is None:
            self.stdout.write(
                "LibreOffice is not installed here: the demo's PowerPoint and Word courseware will show 转换失败 "
                "(converter_missing); apt-get install libreoffice-impress libreoffice-writer, then upload them again."
            )

    def _report(self, stage: str, result: LoadResult, elapsed: float) -> None:
        """One line for the stage; its counts to the log (and to the console with ``-v 2``)."""
        if result.loaded:
            self._counts(stage, result.counts)
            what = {
                loader.CITY: f"the demo city of {data.CITY_NAME}",
                loader.CATALOG: "the demo libraries and review",
                loader.CLASSES: "the demo classes and selection",
                loader.PAYMENTS: "the demo payments and refunds",
                loader.ATTENDANCE: "the demo week of sessions (check-ins, roll calls, comments, leave)",
                loader.PAY: "the demo class-hour pay",
                loader.TEACHING: "the demo course outlines, prepared lessons and courseware",
                loader.SUPERVISION: "the supervision dashboards' rollups",
            }[stage]
            line = f"Loaded {what} in {elapsed:.1f} s: {_summary(stage, result.counts)}"
            if stage == loader.PAYMENTS and result.counts.get("notifications_rejected"):
                line += " (one is a deliberately forged notification, rejected as it should be)"
            self.stdout.write(self.style.SUCCESS(line + "."))
            if stage == loader.ATTENDANCE and result.counts.get("session_now"):
                self.stdout.write("The demo teacher has a session in progress now (check in and take the roll).")
            if stage == loader.ATTENDANCE and result.counts.get("follow_ups_open"):
                self.stdout.write(OPERATOR_LINE)
        elif stage == loader.CITY:
            self.stdout.write("The demo city is already loaded: nothing to do (use --reset to load it again).")
        elif stage == loader.CATALOG:
            self.stdout.write("The demo libraries and review are already loaded: nothing to do.")
        elif stage == loader.CLASSES:
            if result.state == "no_term":
                self.stdout.write(
                    self.style.WARNING("No current or coming term in the demo calendar: no classes were loaded.")
                )
            else:
                self.stdout.write("The demo classes and selection are already loaded: nothing to do.")
        elif stage == loader.PAY:
            self.stdout.write("The demo class-hour pay is already loaded: nothing to do.")
        elif stage == loader.TEACHING:
            self.stdout.write("The demo course outlines are already loaded: nothing to do.")
        elif stage == loader.ATTENDANCE:
            self._counts(stage, result.counts)
            if result.counts.get("session_now"):
                self.stdout.write("The demo teacher has a session in progress now (check in and take the roll).")
            if result.counts.get("follow_ups_open"):
                self.stdout.write(OPERATOR_LINE)
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
        else:
            self.stdout.write("The demo payments and refunds are already loaded: nothing to do.")

    def _counts(self, stage: str, counts: dict[str, int]) -> None:
        width = max((len(k) for k in counts), default=0)
        lines = [f"  {key:<{width}}  {value:>6}" for key, value in counts.items()]
        self.log.info("%s counts:\n%s", stage, "\n".join(lines))
        if self.verbosity >= 2:
            for line in lines:
                self.stdout.write(line)


def _summary(stage: str, counts: dict[str, int]) -> str:
    return ", ".join(f"{counts[key]} {label}" for key, label in SUMMARY.get(stage, ()) if key in counts)


def _shown(path: Path) -> str:
    """The log's path as the person typed the command would: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


@contextmanager
def _logged_to(path: Path) -> Iterator[logging.Logger]:
    """While loading, what the platform logs (``kehou.*``) goes to ``path`` at its own level, not to the console:
    the services log what they do to the demo's made-up people as they would to real ones."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    platform = logging.getLogger("kehou")
    propagate, level = platform.propagate, platform.level
    platform.addHandler(handler)
    platform.propagate = False
    if platform.getEffectiveLevel() > logging.INFO:
        platform.setLevel(logging.INFO)
    try:
        yield logging.getLogger("kehou.demo")
    finally:
        platform.removeHandler(handler)
        platform.propagate, platform.level = propagate, level
        handler.close()
