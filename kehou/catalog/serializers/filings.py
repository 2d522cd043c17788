"""Serializers of filings."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from kehou.core.serializers import SchoolRefSerializer
from kehou.orgs.serializers import RegionRefSerializer

from ..models import (
    Filing,
)


class FilingSerializer(serializers.ModelSerializer[Filing]):
    entry = serializers.SerializerMethodField()
    district = RegionRefSerializer(read_only=True)
    school = serializers.SerializerMethodField()
    filed_by = serializers.CharField(source="filed_by.full_name", read_only=True)
    acknowledged_by = serializers.CharField(
        source="acknowledged_by.full_name", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = Filing
        fields = [
            "id",
            "change",
            "entry",
            "district",
            "school",
            "status",
            "filed_at",
            "filed_by",
            "acknowledged_at",
            "acknowledged_by",
        ]

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "level": {"type": "string"},
                "item": {"type": "string"},
                "status": {"type": "string"},
            },
        }
    )
    def get_entry(self, obj: Filing) -> dict[str, Any]:
        e = obj.entry
        return {"id": e.pk, "level": e.level, "item": e.item.name, "status": e.status}

    @extend_schema_field(SchoolRefSerializer(allow_null=True))
    def get_school(self, obj: Filing) -> dict[str, Any] | None:
        s = obj.school
        return {"id": s.pk, "code": s.code, "name": s.name} if s else None
