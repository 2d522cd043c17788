"""What every stage of the demo loader shares: the time zone, the deterministic generators, the load time, the
demo accounts' names, fingerprints, :class:`DemoError` and :class:`LoadResult`. It imports no stage."""

from __future__ import annotations

import hashlib
import logging
import random
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from kehou.core.error_codes import ErrorCode
from kehou.core.errors import KehouError

TZ = ZoneInfo("Asia/Shanghai")
USERNAME_RE = (
    r"^(admin|city|district-\d{6}|school-\d{10}|teacher|teacher-outside|teacher-\d{4}"
    r"|operator|operator-\d{2}|expert|expert-\d{2}|parent|parent-\d{5})$"
)
NAMED_USERNAMES = ("admin", "city", "teacher", "teacher-outside", "parent", "operator", "expert")


class DemoError(KehouError):
    code = ErrorCode.DEMO_CONFLICT
    status = 409


@dataclass(frozen=True)
class LoadResult:
    loaded: bool
    state: str
    counts: dict[str, int]


# --- deterministic choices and times ------------------------------------------------------------------------
def seeded_rng(seed: int, part: str) -> random.Random:
    # Demo data, not secrets: a seeded generator is the point. A str seed is hashed with SHA-512, so it is stable
    # across processes (unlike hash()).
    return random.Random(f"{seed}:{part}")  # noqa: S311


def random_day(rng: random.Random, first: date, last: date) -> date:
    return date.fromordinal(rng.randint(first.toordinal(), last.toordinal()))


def load_base(now: datetime) -> datetime:
    """The load time to the minute, in Beijing time: every time of the stage is relative to it."""
    return now.astimezone(TZ).replace(second=0, microsecond=0)


def natural_key(username: str) -> tuple[Any, ...]:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", username))


# --- fingerprints -------------------------------------------------------------------------------------
def utc_iso(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat() if value else ""


def digest(sections: dict[str, Iterable[Sequence[Any]]]) -> str:
    h = hashlib.sha256()
    for name in sorted(sections):
        h.update(f"[{name}]\n".encode())
        for line in sorted("|".join("" if v is None else str(v) for v in row) for row in sections[name]):
            h.update(line.encode() + b"\n")
    return h.hexdigest()


# --- logs -----------------------------------------------------------------------------------------------------
class _Expected(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO:
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.msg = f"(the demo: expected) {record.msg}"
        return True


@contextmanager
def expected_warnings(logger_name: str) -> Iterator[None]:
    """What ``logger_name`` warns about inside the block is what the demo does on purpose (a forged notification,
    rejected as it should be): it is logged at INFO, marked as expected, instead of as a warning."""
    logger, expected = logging.getLogger(logger_name), _Expected()
    logger.addFilter(expected)
    try:
        yield
    finally:
        logger.removeFilter(expected)
