"""What supervision's rollups and reads share: the figures a rollup row holds, the rollup's mark, the current term."""

from __future__ import annotations

from datetime import date

from kehou.orgs.models import Term

FIELDS = (
    "sessions_planned",
    "sessions_delivered",
    "pupil_sessions_expected",
    "pupil_sessions_attended",
    "roll_calls_taken",
    "roll_calls_on_time",
    "check_ins",
    "check_ins_on_time",
)
MARK = "attendance"


def current_term(today: date) -> Term | None:
    return Term.objects.filter(starts_on__lte=today, ends_on__gte=today).order_by("-starts_on").first() or (
        Term.objects.order_by("-starts_on").first()
    )
