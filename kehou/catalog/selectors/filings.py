"""Reads of filings."""

from __future__ import annotations

from django.db.models import QuerySet

from kehou.core.scope import Scope

from ..models import Filing


def filing_list(*, scope: Scope, status: str = "", district_code: str = "") -> QuerySet[Filing]:
    qs = scope.filter(Filing.objects.select_related("entry", "entry__item", "district", "school", "filed_by"))
    if status:
        qs = qs.filter(status=status)
    if district_code:
        qs = qs.filter(district__code=district_code)
    return qs.order_by("-filed_at", "-pk")
