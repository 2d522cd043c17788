"""Serializers of review for the bureaus: the queue, panels, members, scores, decisions, verification."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from kehou.core.scope import Scope
from kehou.core.serializers import ReasonField, StrictSerializer
from kehou.orgs.serializers import RegionRefSerializer

from ..models import (
    Decision,
    LibraryEntry,
    Panel,
    PanelMember,
    Submission,
)
from ..selectors import latest_panel, may_administer, seat_counts
from .standards import CategorySerializer


class PanelRefSerializer(serializers.ModelSerializer[Panel]):
    class Meta:
        model = Panel
        fields = ["id", "round", "status", "drawn_at"]


class ReviewSubmissionSerializer(serializers.ModelSerializer[Submission]):
    category = CategorySerializer(read_only=True)
    library = RegionRefSerializer(source="library_region", read_only=True)
    submitter = serializers.SerializerMethodField()
    latest_panel = serializers.SerializerMethodField()
    may_draw = serializers.SerializerMethodField()

    class Meta:
        model = Submission
        fields = [
            "id",
            "kind",
            "title",
            "category",
            "library",
            "submitter",
            "status",
            "version_count",
            "created_at",
            "updated_at",
            "latest_panel",
            "may_draw",
        ]

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                "school": {"type": "string", "nullable": True},
                "organisation": {"type": "string", "nullable": True},
                "person": {"type": "string"},
            },
        }
    )
    def get_submitter(self, obj: Submission) -> dict[str, Any]:
        return {
            "school": obj.submitter_school.name if obj.submitter_school else None,
            "organisation": obj.submitter_organisation.name if obj.submitter_organisation else None,
            "person": obj.submitter_user.full_name,
        }

    @extend_schema_field(PanelRefSerializer(allow_null=True))
    def get_latest_panel(self, obj: Submission) -> dict[str, Any] | None:
        panel = latest_panel(obj)
        return PanelRefSerializer(panel).data if panel else None

    def get_may_draw(self, obj: Submission) -> bool:
        scope: Scope = self.context["scope"]
        return obj.status == Submission.Status.SUBMITTED and may_administer(scope, obj.library_region)


class DrawInputSerializer(StrictSerializer):
    size = serializers.IntegerField(
        required=False, min_value=1, max_value=15, help_text="panel size; defaults to the library's review policy"
    )


class ScoreSerializer(serializers.Serializer[Any]):
    total_bp = serializers.IntegerField()
    vetoed_items = serializers.ListField(child=serializers.IntegerField())
    item_scores = serializers.DictField(child=serializers.IntegerField(), required=False)
    comment = serializers.CharField()
    scored_at = serializers.DateTimeField()


class ExpertRefSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    affiliation = serializers.CharField()


class PanelMemberSerializer(serializers.ModelSerializer[PanelMember]):
    expert = serializers.SerializerMethodField()
    scored = serializers.SerializerMethodField()
    score = serializers.SerializerMethodField()

    class Meta:
        model = PanelMember
        fields = [
            "id",
            "draw_position",
            "expert",
            "status",
            "replaces",
            "joined_at",
            "declined_at",
            "decline_reason",
            "scored",
            "score",
        ]

    def _bureau(self) -> bool:
        return bool(self.context.get("bureau"))

    @extend_schema_field(ExpertRefSerializer(allow_null=True))
    def get_expert(self, obj: PanelMember) -> dict[str, Any] | None:
        if not self._bureau():
            return None
        e = obj.expert
        return {"id": e.pk, "name": e.user.full_name, "affiliation": e.affiliation}

    def get_scored(self, obj: PanelMember) -> bool:
        return hasattr(obj, "score")

    @extend_schema_field(ScoreSerializer(allow_null=True))
    def get_score(self, obj: PanelMember) -> dict[str, Any] | None:
        score = getattr(obj, "score", None)
        if score is None:
            return None
        decided = obj.panel.status == Panel.Status.DECIDED
        if not (self._bureau() or decided):
            return None
        data: dict[str, Any] = {
            "total_bp": score.total_bp,
            "vetoed_items": score.vetoed_items,
            "comment": score.comment,
            "scored_at": score.scored_at,
        }
        if self._bureau():
            data["item_scores"] = score.item_scores
        return data


class DecisionSerializer(serializers.ModelSerializer[Decision]):
    decided_by = serializers.CharField(source="decided_by.full_name", read_only=True)

    class Meta:
        model = Decision
        fields = ["outcome", "mean_bp", "reasons", "decided_at", "decided_by"]


class PanelSerializer(serializers.ModelSerializer[Panel]):
    submission = serializers.SerializerMethodField()
    region = RegionRefSerializer(read_only=True)
    members = serializers.SerializerMethodField()
    scored = serializers.SerializerMethodField()
    decision = serializers.SerializerMethodField()
    may_decide = serializers.SerializerMethodField()
    library_entry = serializers.SerializerMethodField()

    class Meta:
        model = Panel
        fields = [
            "id",
            "submission",
            "version_number",
            "round",
            "region",
            "size",
            "seed",
            "pool",
            "status",
            "drawn_at",
            "members",
            "scored",
            "may_decide",
            "decision",
            "library_entry",
        ]

    def _bureau(self, obj: Panel) -> bool:
        return may_administer(self.context["scope"], obj.region)

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "title": {"type": "string"},
                "kind": {"type": "string"},
                "category": {"type": "string"},
                "status": {"type": "string"},
                "submitter": {"type": "string"},
            },
        }
    )
    def get_submission(self, obj: Panel) -> dict[str, Any]:
        s = obj.submission
        submitter = s.submitter_school or s.submitter_organisation
        return {
            "id": s.pk,
            "title": s.title,
            "kind": s.kind,
            "category": s.category.name,
            "status": s.status,
            "submitter": submitter.name if submitter else s.submitter_user.full_name,
        }

    @extend_schema_field(PanelMemberSerializer(many=True))
    def get_members(self, obj: Panel) -> list[Any]:
        members = obj.members.select_related("expert__user", "score", "panel").order_by("draw_position")
        return PanelMemberSerializer(members, many=True, context={"bureau": self._bureau(obj)}).data  # type: ignore[return-value]

    @extend_schema_field({"type": "object", "properties": {"scored": {"type": "integer"}, "size": {"type": "integer"}}})
    def get_scored(self, obj: Panel) -> dict[str, int]:
        scored, size = seat_counts(obj)
        return {"scored": scored, "size": size}

    def get_may_decide(self, obj: Panel) -> bool:
        scored, size = seat_counts(obj)
        return obj.status == Panel.Status.OPEN and scored >= size and self._bureau(obj)

    @extend_schema_field(DecisionSerializer(allow_null=True))
    def get_decision(self, obj: Panel) -> dict[str, Any] | None:
        decision = Decision.objects.filter(panel=obj).select_related("decided_by").first()
        return DecisionSerializer(decision).data if decision else None

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_library_entry(self, obj: Panel) -> int | None:
        """The library entry this panel's admission created, if any."""
        if obj.status != Panel.Status.DECIDED:
            return None
        return (
            LibraryEntry.objects.filter(item__submission_id=obj.submission_id, source=LibraryEntry.Source.ADMITTED)
            .values_list("pk", flat=True)
            .first()
        )


class VerifySerializer(serializers.Serializer[Any]):
    panel = serializers.IntegerField()
    seed = serializers.CharField()
    pool = serializers.ListField(child=serializers.IntegerField(), help_text="ids of the eligible experts")
    size = serializers.IntegerField()
    order = serializers.ListField(child=serializers.IntegerField(), help_text="the whole pool in draw order")
    members = serializers.ListField(
        child=serializers.IntegerField(), help_text="expert ids of the recorded seats, by draw position"
    )
    reproduced = serializers.BooleanField()
    method = serializers.CharField()


class PanelCancelSerializer(StrictSerializer):
    reason = ReasonField(max_length=200, allow_blank=True)
