"""Serializers of the libraries: entries with their item, upstream and history; adopt, pick and status bodies."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from kehou.core.serializers import NamedRefSerializer, ReasonField, SchoolRefSerializer, StrictSerializer
from kehou.orgs.serializers import RegionRefSerializer

from .. import selectors
from ..models import (
    CatalogItem,
    LibraryEntry,
    LibraryEntryEvent,
)
from ..selectors import teachers_of
from .standards import CategorySerializer


class CatalogItemSerializer(serializers.ModelSerializer[CatalogItem]):
    category = CategorySerializer(read_only=True)
    provider = serializers.SerializerMethodField()
    fee_per_hour_fen = serializers.IntegerField(source="version.fee_per_hour_fen", allow_null=True, read_only=True)
    minutes_per_hour = serializers.IntegerField(source="version.minutes_per_hour", allow_null=True, read_only=True)
    hours_per_term = serializers.IntegerField(source="version.hours_per_term", allow_null=True, read_only=True)
    grades = serializers.ListField(source="version.grades", child=serializers.IntegerField(), read_only=True)
    materials_description = serializers.CharField(source="version.materials_description", read_only=True)
    materials_price_fen = serializers.IntegerField(
        source="version.materials_price_fen", allow_null=True, read_only=True
    )
    teachers = serializers.SerializerMethodField()

    class Meta:
        model = CatalogItem
        fields = [
            "id",
            "kind",
            "name",
            "category",
            "provider",
            "fee_per_hour_fen",
            "minutes_per_hour",
            "hours_per_term",
            "grades",
            "materials_description",
            "materials_price_fen",
            "teachers",
            "submission",
            "admitted_at",
        ]

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,  # a city course with neither a school nor an organisation behind it
            "properties": {
                "kind": {"type": "string", "enum": ["school", "organisation"]},
                "id": {"type": "integer"},
                "name": {"type": "string"},
            },
        }
    )
    def get_provider(self, obj: CatalogItem) -> dict[str, Any] | None:
        if obj.provider_school is not None:
            return {"kind": "school", "id": obj.provider_school_id, "name": obj.provider_school.name}
        if obj.provider_organisation is not None:
            return {"kind": "organisation", "id": obj.provider_organisation_id, "name": obj.provider_organisation.name}
        return None

    @extend_schema_field(NamedRefSerializer(many=True))
    def get_teachers(self, obj: CatalogItem) -> list[dict[str, Any]]:
        return [{"id": t.pk, "name": t.user.full_name} for t in teachers_of(obj)]


class UpstreamSerializer(serializers.ModelSerializer[LibraryEntry]):
    region = RegionRefSerializer(read_only=True)

    class Meta:
        model = LibraryEntry
        fields = ["id", "level", "region", "status"]


class LibraryEntrySerializer(serializers.ModelSerializer[LibraryEntry]):
    item = CatalogItemSerializer(read_only=True)
    region = RegionRefSerializer(read_only=True, allow_null=True)
    school = serializers.SerializerMethodField()
    usable = serializers.SerializerMethodField()
    upstream = UpstreamSerializer(read_only=True, allow_null=True)

    class Meta:
        model = LibraryEntry
        fields = [
            "id",
            "level",
            "region",
            "school",
            "item",
            "source",
            "status",
            "usable",
            "upstream",
            "added_at",
            "status_changed_at",
        ]

    @extend_schema_field(SchoolRefSerializer(allow_null=True))
    def get_school(self, obj: LibraryEntry) -> dict[str, Any] | None:
        s = obj.school
        return {"id": s.pk, "code": s.code, "name": s.name} if s else None

    def get_usable(self, obj: LibraryEntry) -> bool:
        value = getattr(obj, "is_usable", None)
        return bool(value) if value is not None else selectors.entry_is_usable(obj)


class LibraryEventSerializer(serializers.ModelSerializer[LibraryEntryEvent]):
    actor = serializers.CharField(source="actor.full_name", read_only=True)

    class Meta:
        model = LibraryEntryEvent
        fields = ["at", "actor", "from_status", "to_status", "reason"]


class LibraryEntryDetailSerializer(LibraryEntrySerializer):
    events = LibraryEventSerializer(many=True, read_only=True)
    downstream_count = serializers.SerializerMethodField()

    class Meta(LibraryEntrySerializer.Meta):
        fields = [*LibraryEntrySerializer.Meta.fields, "events", "downstream_count"]

    def get_downstream_count(self, obj: LibraryEntry) -> int:
        """Entries adopted or picked from this one (all of them, whoever's they are: only the count is shown)."""
        from ..services.libraries import downstream_count

        return downstream_count(obj)


class AdoptInputSerializer(StrictSerializer):
    district = serializers.CharField(
        required=False, max_length=12, help_text="district code; defaults to the district admin's own district"
    )


class PickInputSerializer(StrictSerializer):
    school = serializers.IntegerField(
        required=False, min_value=1, help_text="school id; defaults to the school admin's own school"
    )


@extend_schema_field({"type": "string", "enum": list(LibraryEntry.Status.values)})
class _StatusField(serializers.CharField):
    """Read as text so that the service answers an unknown status (``invalid_status``); the schema lists the three."""


class StatusInputSerializer(StrictSerializer):
    status = _StatusField(max_length=10, help_text="active, suspended or withdrawn")
    reason = ReasonField(max_length=200, required=False, allow_blank=True, default="")


class StatusResultSerializer(serializers.Serializer[Any]):
    entry = LibraryEntryDetailSerializer()
    downstream_affected = serializers.IntegerField(help_text="entries downstream that stop being usable with it")
