"""Serializers of the experts' seats: the sheet, scoring and declining, recusals."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from kehou.core.serializers import ReasonField, StrictIntegerField, StrictSerializer

from ..models import Panel, PanelMember, Score, Submission
from ..selectors import SEAT_STATES, seat_state
from .standards import CategoryOutSerializer, StandardOutSerializer
from .submissions import LibraryOutSerializer, VersionOutSerializer, _library


class ScoreInputSerializer(StrictSerializer):
    item_scores = serializers.DictField(
        child=StrictIntegerField(), help_text='a score for every quality standard: {"1": 9, "2": 7, …}'
    )
    vetoed_items = serializers.ListField(
        child=StrictIntegerField(), required=False, default=list, help_text="numbers of veto items that fail"
    )
    comment = serializers.CharField(max_length=2000, allow_blank=True, trim_whitespace=False)


class DeclineSerializer(StrictSerializer):
    reason = ReasonField(max_length=200, allow_blank=True)


class ScoreOutSerializer(serializers.ModelSerializer[Score]):
    class Meta:
        model = Score
        fields = ["item_scores", "vetoed_items", "total_bp", "comment", "scored_at"]


class SeatSubmissionSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    title = serializers.CharField()
    kind = serializers.ChoiceField(choices=Submission.Kind.choices)
    category = CategoryOutSerializer()
    library = LibraryOutSerializer()
    version_number = serializers.IntegerField()


class SeatPanelSerializer(serializers.Serializer):  # type: ignore[type-arg]
    round = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Panel.Status.choices)
    drawn_at = serializers.DateTimeField()


class SeatSummarySerializer(serializers.ModelSerializer[PanelMember]):
    state = serializers.SerializerMethodField()
    scored = serializers.SerializerMethodField()
    scored_at = serializers.SerializerMethodField()
    panel = serializers.SerializerMethodField()
    submission = serializers.SerializerMethodField()

    class Meta:
        model = PanelMember
        fields = ["id", "state", "status", "scored", "scored_at", "joined_at", "declined_at", "panel", "submission"]

    @extend_schema_field(serializers.ChoiceField(choices=SEAT_STATES))
    def get_state(self, obj: PanelMember) -> str:
        return seat_state(obj)

    def get_scored(self, obj: PanelMember) -> bool:
        return hasattr(obj, "score")

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_scored_at(self, obj: PanelMember) -> Any:
        return obj.score.scored_at if hasattr(obj, "score") else None

    @extend_schema_field(SeatPanelSerializer)
    def get_panel(self, obj: PanelMember) -> dict[str, Any]:
        return {
            "round": obj.panel.round,
            "status": obj.panel.status,
            "drawn_at": timezone.localtime(obj.panel.drawn_at),
        }

    @extend_schema_field(SeatSubmissionSerializer)
    def get_submission(self, obj: PanelMember) -> dict[str, Any]:
        s = obj.panel.submission
        return {
            "id": s.pk,
            "title": s.title,
            "kind": s.kind,
            "category": {"code": s.category.code, "name": s.category.name},
            "library": _library(obj.panel.region),
            "version_number": obj.panel.version_number,
        }


class SeatDetailSerializer(SeatSummarySerializer):
    version = VersionOutSerializer(read_only=True, source="_version")
    standards = StandardOutSerializer(many=True, read_only=True, source="_standards")
    score = serializers.SerializerMethodField()
    may_score = serializers.BooleanField(read_only=True, source="_may_score")
    may_decline = serializers.BooleanField(read_only=True, source="_may_decline")

    class Meta(SeatSummarySerializer.Meta):
        fields = [*SeatSummarySerializer.Meta.fields, "version", "standards", "score", "may_score", "may_decline"]

    @extend_schema_field(ScoreOutSerializer(allow_null=True))
    def get_score(self, obj: PanelMember) -> dict[str, Any] | None:
        return ScoreOutSerializer(obj.score).data if hasattr(obj, "score") else None  # type: ignore[return-value]


class ScoreResultSerializer(serializers.Serializer):  # type: ignore[type-arg]
    seat = serializers.IntegerField()
    total_bp = serializers.IntegerField()
    scored_at = serializers.DateTimeField()


class DeclineResultSerializer(serializers.Serializer):  # type: ignore[type-arg]
    seat = serializers.IntegerField()
    state = serializers.ChoiceField(choices=SEAT_STATES, help_text="declined")


class RecusalSerializer(StrictSerializer):
    reason = ReasonField(max_length=200, allow_blank=True)
    school = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    organisation = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    submission = serializers.IntegerField(required=False, allow_null=True, min_value=1)


class RecusalOutSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    school = serializers.CharField(source="school.name", default=None, allow_null=True)
    organisation = serializers.CharField(source="organisation.name", default=None, allow_null=True)
    submission = serializers.CharField(source="submission.title", default=None, allow_null=True)
    reason = serializers.CharField()
    declared_at = serializers.DateTimeField()
