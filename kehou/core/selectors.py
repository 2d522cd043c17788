from __future__ import annotations

from datetime import date, datetime, time

from django.db.models import Q, QuerySet
from django.utils import timezone

from .audit_actions import BUREAU_ONLY
from .models import AuditEntry
from .scope import Scope

# Dates outside this range cannot be turned into aware datetimes in every time zone (year 1 overflows in UTC).
_FIRST_DAY, _LAST_DAY = date(1900, 1, 1), date(9999, 12, 30)


def _parse_day(text: str) -> date | None:
    try:
        day = date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        return None
    return None if day is None else min(max(day, _FIRST_DAY), _LAST_DAY)


def audit_list(
    *, scope: Scope, action: str = "", object_type: str = "", actor: str = "", since: str = "", until: str = ""
) -> QuerySet[AuditEntry]:
    """Audit entries: city admins see all; district and school admins only their own district or school, and the
    review entries (panels' members and scores, recusals) only the bureau of the region they belong to.

    Operators, teachers, parents and experts hold no admin grant, so they see none (audit is an admin tool).
    """
    admin_scope = Scope(
        user_id=None,
        everything=scope.everything,
        district_ids=scope.district_ids,
        school_ids=scope.school_ids,
    )
    qs = admin_scope.filter(AuditEntry.objects.all())
    if not scope.everything:
        # Review entries carry the visibility of what they describe (the panel's members and scores): a bureau of
        # the region they are recorded under, never the submitting school.
        qs = qs.exclude(Q(action__in=BUREAU_ONLY) & ~Q(district_id__in=scope.district_ids))
    if action:
        qs = qs.filter(action__startswith=action)
    if object_type:
        qs = qs.filter(object_type=object_type)
    if actor:
        qs = qs.filter(actor_label=actor)
    tz = timezone.get_current_timezone()
    if (d := _parse_day(since)) is not None:
        qs = qs.filter(at__gte=datetime.combine(d, time.min, tzinfo=tz))
    if (d := _parse_day(until)) is not None:
        qs = qs.filter(at__lte=datetime.combine(d, time.max, tzinfo=tz))
    return qs.order_by("-at", "-id")
