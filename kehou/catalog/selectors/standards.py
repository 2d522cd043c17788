"""Reads of the standards: the fee standards and review policies in the viewer's view."""

from __future__ import annotations

from django.db.models import Q

from kehou.core.scope import Scope
from kehou.orgs.models import Region


def standards_in_view(scope: Scope) -> Q:
    """The city's standards and those of the districts the viewer belongs to (the city bureau sees all)."""
    if scope.everything:
        return Q()
    districts = set(scope.district_ids)
    from kehou.orgs.models import School

    schools = scope.school_ids | scope.operator_school_ids
    if schools:
        districts |= set(School.objects.filter(pk__in=schools).values_list("district_id", flat=True))
    return Q(region__kind=Region.Kind.CITY) | Q(region_id__in=districts)
