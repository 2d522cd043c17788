from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from django.db.models import Model, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response

from kehou.core import clock
from kehou.core.api import ScopedReadOnlyViewSet, ScopeGuard, parsed
from kehou.core.scope import Scope

from . import selectors
from .models import Region
from .serializers import DistrictSerializer, SchoolSerializer


@extend_schema_view(
    list=extend_schema(
        summary="Schools in the caller's scope",
        parameters=[
            OpenApiParameter("search", str, description="name contains, or code starts with"),
            OpenApiParameter("district", str, description="district code (GB/T 2260)"),
            OpenApiParameter("stage", str, enum=["primary", "junior", "nine_year"]),
            OpenApiParameter("authority", str),
            OpenApiParameter("joined", str, enum=["yes", "no"]),
        ],
    )
)
class SchoolViewSet(ScopedReadOnlyViewSet):
    serializer_class = SchoolSerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        p = self.request.query_params
        return selectors.school_list(
            scope=scope,
            search=p.get("search", "").strip(),
            district_code=p.get("district", "").strip(),
            stage=p.get("stage", ""),
            authority=p.get("authority", ""),
            joined=p.get("joined", ""),
        )


@extend_schema_view(list=extend_schema(summary="Districts in the caller's scope, with counts"))
class DistrictViewSet(ScopedReadOnlyViewSet):
    serializer_class = DistrictSerializer
    pagination_class = None

    def select(self, scope: Scope) -> QuerySet[Any]:
        return selectors.district_list(scope=scope)


class RegionalStandardView(ScopeGuard, generics.ListAPIView):  # type: ignore[type-arg]
    """One shape for every standard a region sets (fee standards, review policies, care fees, refund policies):
    ``GET`` the ones in view (the city's and the viewer's own districts'; the city bureau: all), unpaginated;
    ``POST`` one for the region named by ``region`` (a code), or the caller's own (the city for the city bureau,
    its district for a district bureau). Who may set it, and how strict a district must be, is the service's.

    A subclass names ``serializer_class``, ``input_serializer``, ``select(scope)`` and ``save(...)`` (one service
    call); its OpenAPI text goes in ``extend_schema_view(get=..., post=...)``."""

    pagination_class = None
    input_serializer: ClassVar[type[Any]]

    def save(self, *, region: Region, values: dict[str, Any], now: datetime) -> Model:
        raise NotImplementedError

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        values = parsed(request, self.input_serializer)
        region = selectors.region_named(scope=self.scope, code=values.get("region"))
        saved = self.save(region=region, values=values, now=clock.now())
        return Response(self.get_serializer(saved).data)
