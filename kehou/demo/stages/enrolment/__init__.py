"""The demo course classes and selection: care fee standards, course classes from the school libraries, basic care,
selection windows (open now, staggered, closed, a drawn lottery), hardship waivers, and the places of several
hundred pupils in every state (applied, waiting, held, confirmed, cancelled, expired).

Everything goes through the enrolment services (``care_standard_set``, ``class_create``, ``window_create``,
``windows_stagger``, ``waiver_request``, ``waiver_decide``, ``enrolment_select``, ``enrolment_confirm``,
``enrolment_cancel``, ``holds_expire``, ``lottery_draw``) and one catalog service (``library_set_status``, to
suspend a course upstream after classes were made from it), acting as the demo accounts: school administrators
make classes and windows, guardians select, confirm and cancel (through paid orders and refunds when the payments
demo is loaded with the classes: :class:`Places`), the district bureaus stagger windows and approve waivers.

Deterministic: every choice comes from a generator seeded with the demo seed and a fixed label; the lotteries are
drawn with seeds derived from the demo seed (:func:`lottery_seed`). Times are fixed offsets from the load time
(``base``, the load time to the minute), because a window has to be open *now*: the first-come windows of four
东湖区 schools (among them the named ``parent``'s two children's schools) opened an hour before the load and close
two weeks after it; 西湖区's opened two days before, 红谷滩区's one day before; 南昌县's closed two days before;
青云谱区's are staggered by the bureau and open two days after; 南昌市第二十八中学 ran a lottery in every grade
that closed fifteen hours before the load and was drawn at the close. Offsets are not rounded, so every load makes
the same rows with the same times relative to ``base`` (:func:`enrolment_digest` compares them); only the dates of
the sessions follow the calendar from the day of the load. The selections replay as events in time order (a parent
selects, pays within the hold or not, cancels; the tick expires holds and promotes the waitlist), each through the
services with its own ``now``; nothing is dated after ``base``.

The named ``parent``'s children have no place, so that the walk-through in the README starts clean. In each of their
schools one class open to the child's grade is full with a waitlist and another, on other days, nearly full: their
pupils pay at once, so the counts stay as they are after the load (the tick only expires unpaid holds). Where the
library offers the child's grade fewer than three courses (in a smaller city, with other children), the popular
ones run a second class.

The term is the current one (:func:`kehou.orgs.selectors.current_term`); the classes start on the Monday after the
last window closes, or at the start of the next term when less than two weeks of the current one would be left.
"""

from .places import Places
from .readback import enrolment_counts, enrolment_digest
from .reference import (
    CLOSED,
    DAY,
    DAYS,
    LOTTERY,
    OPEN,
    STAGGERED,
    STAGGERED_DISTRICT,
    WindowPlan,
    choose_term,
    lottery_seed,
    stagger_first_opens,
    window_times,
)
from .stage import LOADED_ACTION, build_enrolment, enrolment_state

__all__ = [
    "CLOSED",
    "DAY",
    "DAYS",
    "LOADED_ACTION",
    "LOTTERY",
    "OPEN",
    "STAGGERED",
    "STAGGERED_DISTRICT",
    "Places",
    "WindowPlan",
    "build_enrolment",
    "choose_term",
    "enrolment_counts",
    "enrolment_digest",
    "enrolment_state",
    "lottery_seed",
    "stagger_first_opens",
    "window_times",
]
