"""Demo stage: supervision's rollups for the term so far (every school's days from the term's first day to today,
and each school's participation), computed as the task worker keeps them, and two progress reports (通报). A term's
history of sessions (and the surveys and awards) is for a later slice of issue 13."""

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
    from kehou.supervision.common import current_term

    term = current_term(today)
    if term is None:
        return LoadResult(loaded=False, state="no_term", counts={"school_days": 0})
    days = rollup.rollup_range(term.starts_on, min(today, term.ends_on), now=now)
    schools = rollup.rollup_terms(now=now, term=term)
    rollup.rollup_changed(now=now)  # the mark starts here: the worker follows from now on
    # two progress reports (通报): last week's by the schedule, and one the city issued this morning
    from datetime import timedelta

    from kehou.people.models import User
    from kehou.supervision.services import reports

    reports.report_issue(actor=None, now=now - timedelta(days=7))
    reports.report_issue(actor=User.objects.filter(username="city").first(), now=now - timedelta(hours=3))
    return LoadResult(loaded=True, state="loaded", counts={"school_days": days, "school_terms": schools, "reports": 2})
