"""Teaching days come from the school calendar: weekdays, minus holidays, plus make-up days (DESIGN.md rule 5)."""

from __future__ import annotations

from datetime import date

import pytest

from kehou.conftest import City
from kehou.orgs.models import CalendarDay, Term
from kehou.orgs.selectors import current_term, teaching_days

MON, TUE, WED, THU, FRI = range(5)


@pytest.fixture
def term(db: object) -> Term:
    # 2026-09-28 is a Monday; the National Day week follows.
    return Term.objects.create(name="国庆测试学期", starts_on=date(2026, 9, 28), ends_on=date(2026, 10, 11))


def holiday(term: Term, day: date, school: object = None) -> CalendarDay:
    return CalendarDay.objects.create(term=term, date=day, kind="holiday", school=school)


def makeup(term: Term, day: date, follows: int, school: object = None) -> CalendarDay:
    return CalendarDay.objects.create(term=term, date=day, kind="makeup", follows_weekday=follows, school=school)


def test_plain_weeks_are_monday_to_friday(term: Term) -> None:
    days = teaching_days(term=term)
    assert days[:5] == [(date(2026, 9, d), wd) for d, wd in zip(range(28, 31), (MON, TUE, WED), strict=True)] + [
        (date(2026, 10, 1), THU),
        (date(2026, 10, 2), FRI),
    ]
    assert len(days) == 10
    assert all(d.weekday() < 5 for d, _ in days)
    assert all(d.weekday() == wd for d, wd in days)


def test_holidays_are_skipped_and_makeup_days_follow_their_weekday(term: Term) -> None:
    for d in range(1, 9):  # 1–8 October: the National Day holiday
        if date(2026, 10, d).weekday() < 5:
            holiday(term, date(2026, 10, d))
    makeup(term, date(2026, 9, 27), THU)  # a Sunday before the term: outside the term, ignored
    makeup(term, date(2026, 10, 10), FRI)  # Saturday 10 October follows Friday's timetable
    days = teaching_days(term=term)
    assert days == [
        (date(2026, 9, 28), MON),
        (date(2026, 9, 29), TUE),
        (date(2026, 9, 30), WED),
        (date(2026, 10, 9), FRI),
        (date(2026, 10, 10), FRI),
    ]


def test_school_specific_days_override_city_days(city: City, term: Term) -> None:
    holiday(term, date(2026, 10, 1))  # city-wide holiday
    makeup(term, date(2026, 10, 1), THU, school=city.a1)  # A1 teaches that day anyway
    holiday(term, date(2026, 9, 29), school=city.a1)  # A1's own sports day
    makeup(term, date(2026, 10, 11), MON)  # city make-up Sunday …
    holiday(term, date(2026, 10, 11), school=city.a2)  # … that A2 does not keep
    a1 = dict(teaching_days(term=term, school=city.a1))
    a2 = dict(teaching_days(term=term, school=city.a2))
    city_wide = dict(teaching_days(term=term))
    assert a1[date(2026, 10, 1)] == THU
    assert date(2026, 9, 29) not in a1
    assert date(2026, 10, 1) not in a2 and date(2026, 10, 1) not in city_wide
    assert date(2026, 9, 29) in a2
    assert a1[date(2026, 10, 11)] == MON and city_wide[date(2026, 10, 11)] == MON
    assert date(2026, 10, 11) not in a2
    # Another school's own days never apply.
    b1 = dict(teaching_days(term=term, school=city.b1))
    assert date(2026, 9, 29) in b1 and date(2026, 10, 1) not in b1


def test_school_day_wins_whatever_the_order_of_rows(city: City, term: Term) -> None:
    makeup(term, date(2026, 10, 3), WED, school=city.a1)  # created first
    holiday(term, date(2026, 10, 3))  # the city's row comes later
    assert dict(teaching_days(term=term, school=city.a1))[date(2026, 10, 3)] == WED
    assert date(2026, 10, 3) not in dict(teaching_days(term=term))


def test_days_are_in_order_and_within_the_term(term: Term) -> None:
    makeup(term, date(2026, 10, 4), MON)
    days = [d for d, _ in teaching_days(term=term)]
    assert days == sorted(days)
    assert days[0] >= term.starts_on and days[-1] <= term.ends_on
    assert date(2026, 10, 4) in days


def test_current_term(term: Term) -> None:
    later = Term.objects.create(name="下学期", starts_on=date(2027, 2, 20), ends_on=date(2027, 7, 1))
    assert current_term(today=date(2026, 10, 1)) == term
    assert current_term(today=date(2026, 12, 1)) == later  # between terms: the next one
    assert current_term(today=date(2027, 8, 1)) is None
