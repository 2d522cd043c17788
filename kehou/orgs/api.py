from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view

from kehou.core.api import ScopedReadOnlyViewSet
from kehou.core.scope import Scope

from . import selectors
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
