"""Demo stage: supervision's rollups for the term so far (every school's days from the term's first day to today,
and each school's participation), computed as the task worker keeps them. A term's history of sessions (and the
surveys, reports and awards) is for a later slice of issue 13."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from kehou.demo.common import LoadResult


def build_supervision(*, now: datetime) -> LoadResult:
    from kehou.supervision.models import SchoolDay
    from kehou.supervision.services import rollup

    if SchoolDay.objects.exists():
        return LoadResult(loaded=False, state="present", counts={"school_days": SchoolDay.objects.count()})
    today = timezone.localdate(now)
    term = rollup.current_term(today)
    if term is None:
        return LoadResult(loaded=False, state="no_term", counts={"school_days": 0})
    days = rollup.rollup_range(term.starts_on, min(today, term.ends_on), now=now)
    schools = rollup.rollup_terms(now=now, term=term)
    rollup.rollup_changed(now=now)  # the mark starts here: the worker follows from now on
    return LoadResult(loaded=True, state="loaded", counts={"school_days": days, "school_terms": schools})
