"""API of filings to the bureau: the list and acknowledging one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.response import Response

from kehou.core.api import ERRORS, ActionView, ScopedListAPIView
from kehou.core.scope import Scope

from .. import selectors
from ..models import Filing
from ..serializers.filings import FilingSerializer
from ..services import libraries


@extend_schema(
    summary="Filings (备案) of district and school library changes",
    description="The city bureau sees all; a district bureau its district's; a school admin its school's.",
    parameters=[
        OpenApiParameter("status", str, enum=Filing.Status.values),
        OpenApiParameter("district", str, description="district code"),
        OpenApiParameter("change", str, enum=Filing.Change.values),
        OpenApiParameter("search", str, description="course or teacher name contains"),
    ],
)
class FilingListView(ScopedListAPIView):
    serializer_class = FilingSerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        p = self.request.query_params
        qs = selectors.filing_list(scope=scope, status=p.get("status", ""), district_code=p.get("district", "").strip())
        if p.get("change"):
            qs = qs.filter(change=p["change"])
        if search := p.get("search", "").strip():
            qs = qs.filter(entry__item__name__icontains=search)
        return qs.select_related("acknowledged_by")


@extend_schema_view(
    post=extend_schema(
        summary="Acknowledge a filing (city bureau)",
        description="409 `already_acknowledged` the second time.",
        request=None,
        responses={200: FilingSerializer, 404: ERRORS, 409: ERRORS},
    )
)
class FilingAcknowledgeView(ActionView):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return Filing.objects.select_related("entry__item", "district", "school", "filed_by")

    def act(self, obj: Filing, values: dict[str, Any], *, actor: Any, now: datetime) -> Any:
        filing = libraries.filing_acknowledge(actor=actor, filing=obj, now=now)
        return Response(FilingSerializer(filing).data)
