"""The catalog stage's fixed timeline (late August to late November 2026): the review rounds, the libraries' days,
and :func:`panel_seed`."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from kehou.demo.common import TZ


# --- the timeline ------------------------------------------------------------------------------------------
def _d(month: int, day: int) -> date:
    return date(2026, month, day)


@dataclass(frozen=True)
class Window:
    submit: tuple[date, date]
    draw: tuple[date, date]
    score: tuple[date, date]
    decide: tuple[date, date]


ROUNDS = {
    1: Window((_d(8, 25), _d(8, 28)), (_d(8, 31), _d(9, 1)), (_d(9, 2), _d(9, 4)), (_d(9, 7), _d(9, 7))),
    2: Window((_d(10, 9), _d(10, 14)), (_d(10, 15), _d(10, 16)), (_d(10, 17), _d(10, 22)), (_d(10, 23), _d(10, 23))),
    # returned in the third round
    3: Window((_d(10, 19), _d(10, 21)), (_d(11, 2), _d(11, 3)), (_d(11, 4), _d(11, 6)), (_d(11, 9), _d(11, 9))),
    # in review and candidates
    4: Window((_d(11, 2), _d(11, 11)), (_d(11, 16), _d(11, 18)), (_d(11, 19), _d(11, 26)), (_d(11, 27), _d(11, 27))),
}
SUBMITTED_WINDOW = (_d(11, 19), _d(11, 27))
REVISE_V2_WINDOW = (_d(9, 14), _d(9, 18))  # admitted_v2: the second version (reviewed in round 2)
REVISE_LATE_WINDOW = (_d(11, 16), _d(11, 20))  # revised: the second version awaits a panel
ADOPT_DAYS = {1: (_d(9, 8), _d(9, 11)), 2: (_d(10, 26), _d(10, 28))}
PICK_DAYS = {1: (_d(9, 14), _d(9, 25)), 2: (_d(11, 2), _d(11, 11))}
CITY_SUSPENSION_AT = datetime(2026, 10, 20, 10, 30, tzinfo=TZ)
DISTRICT_SUSPENSION_AT = datetime(2026, 10, 29, 15, 10, tzinfo=TZ)
CITY_WITHDRAWAL_AT = datetime(2026, 11, 6, 9, 40, tzinfo=TZ)
SCHOOL_WITHDRAWAL_AT = datetime(2026, 11, 10, 16, 20, tzinfo=TZ)
SECOND_ROUND = datetime(2026, 10, 1, tzinfo=TZ)  # entries admitted after this come from the second round
ACK_ALL_BEFORE = datetime(2026, 11, 1, tzinfo=TZ)  # most filings before this are acknowledged
ACK_SOME_BEFORE = datetime(2026, 11, 16, tzinfo=TZ)  # some before this; later ones are still filed
TIMELINE_END = datetime(2026, 11, 27, 18, 0, tzinfo=TZ)


def time_between(
    rng: Any, first: date, last: date, *, weekdays: bool = True, hours: tuple[int, int] = (9, 17)
) -> datetime:
    """A time between two days (office days only, unless ``weekdays`` is false), within office hours."""
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    if weekdays:
        days = [d for d in days if d.weekday() < 5] or days
    day = rng.choice(days)
    return datetime.combine(day, time(rng.randint(hours[0], hours[1] - 1), rng.randrange(60)), tzinfo=TZ)


def panel_seed(seed: int, index: int, round_no: int) -> str:
    """The published seed of a demo panel: derived from the demo seed, the submission's index and the round."""
    return hashlib.sha256(f"{seed}:catalog:panel:{index}:{round_no}".encode()).hexdigest()[:32]
