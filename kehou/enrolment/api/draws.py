"""API of lottery draws (read only: seed, applicants, order)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view

from kehou.core.api import (
    ScopedReadOnlyViewSet,
    query_int,
)
from kehou.core.scope import Scope

from .. import selectors
from ..serializers import (
    DrawSerializer,
)


@extend_schema_view(
    list=extend_schema(
        summary="Lottery draws in the caller's scope",
        description=(
            "Each oversubscribed class of a lottery window is drawn once, with a recorded seed: applicants (pupil "
            'ids) ordered by sha256("<seed>:<pupil id>"). `verified` re-runs the draw and says whether it '
            "reproduces the stored order."
        ),
        parameters=[
            OpenApiParameter("window", int, description="window id"),
            OpenApiParameter("school", int, description="school id"),
        ],
    ),
    retrieve=extend_schema(summary="One lottery draw: seed, applicants, order, winners and whether it verifies"),
)
class LotteryDrawViewSet(ScopedReadOnlyViewSet):
    serializer_class = DrawSerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        return selectors.draw_list(
            scope=scope, window_id=query_int(self.request, "window"), school_id=query_int(self.request, "school")
        )
