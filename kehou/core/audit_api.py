from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers

from .api import ScopedReadOnlyViewSet
from .models import AuditEntry
from .scope import Scope
from .selectors import audit_list


class AuditEntrySerializer(serializers.ModelSerializer[AuditEntry]):
    class Meta:
        model = AuditEntry
        fields = [
            "id",
            "at",
            "actor_label",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "before",
            "after",
            "client_ip",
            "district",
            "school",
        ]


@extend_schema_view(
    list=extend_schema(
        summary="Audit log in the caller's scope",
        parameters=[
            OpenApiParameter("action", str),
            OpenApiParameter("object_type", str),
            OpenApiParameter("actor", str),
            OpenApiParameter("since", str, description="ISO date"),
            OpenApiParameter("until", str),
        ],
    )
)
class AuditEntryViewSet(ScopedReadOnlyViewSet):
    serializer_class = AuditEntrySerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        p = self.request.query_params
        return audit_list(
            scope=scope,
            action=p.get("action", ""),
            object_type=p.get("object_type", ""),
            actor=p.get("actor", ""),
            since=p.get("since", ""),
            until=p.get("until", ""),
        )
