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


@job()
def weekly_report() -> dict[str, int]:
    """The week's progress report (通报), when none was issued in the last seven days."""
    from .services.reports import reports_due

    return {"progress_reports_issued": reports_due(now=clock.now())}
