"""API of the care fee standards."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view

from kehou.core.api import (
    ERRORS,
    NOT_FOUND,
)
from kehou.core.scope import Scope
from kehou.orgs.api import RegionalStandardView
from kehou.orgs.models import Region

from .. import selectors
from ..models import CareFeeStandard
from ..serializers import (
    CareStandardInputSerializer,
    CareStandardSerializer,
)
from ..services import classes


@extend_schema_view(
    get=extend_schema(
        summary="Care fee standards: the highest fee of basic after-school care per day and per month",
        description="The city's and the viewer's own districts' (the city bureau: all). Integer fen.",
    ),
    post=extend_schema(
        summary="Set a care fee standard",
        description=(
            "The city bureau for the city (the default for it), a district bureau for its own district (the default "
            "for it), only stricter than the city's (`standard_looser_than_city`). `unknown_region`, "
            "`region_required`; 403 for others who may see the region."
        ),
        request=CareStandardInputSerializer,
        responses={200: CareStandardSerializer, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND},
    ),
)
class CareStandardListView(RegionalStandardView):
    serializer_class = CareStandardSerializer
    input_serializer = CareStandardInputSerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        return selectors.care_standards(scope=scope)

    def save(self, *, region: Region, values: dict[str, Any], now: datetime) -> CareFeeStandard:
        return classes.care_standard_set(
            actor=self.request.user,
            region=region,
            max_per_day_fen=values["max_per_day_fen"],
            max_per_month_fen=values["max_per_month_fen"],
            now=now,
        )
