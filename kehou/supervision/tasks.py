"""Supervision's background work: the dashboards' rollups (run by the task worker, enqueued by the schedule)."""

from __future__ import annotations

from kehou.core import clock
from kehou.core.jobs import job


@job()
def rollup() -> dict[str, int]:
    """The school-days whose roll calls or check-ins changed since the last run, rolled up; each school's term."""
    from .services.rollup import rollup_changed, rollup_terms

    now = clock.now()
    return {**rollup_changed(now=now), "school_terms_rolled_up": rollup_terms(now=now)}
