"""What the city and district bureaus and the school admins read and send about review, the libraries, filings and
standards: the API's serializers (the reads they share with the pages are in selectors_admin.py).

Expert names on a panel are shown only to the bureau that runs the panel (the city bureau for the city library, a
district bureau for its own library). Everyone else in the panel's scope sees the seats without names, and the
scores and comments only once the panel has decided.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from kehou.core.scope import Scope
from kehou.core.serializers import StrictSerializer
from kehou.orgs.models import Region

from . import selectors
from .models import (
    CatalogItem,
    Category,
    Decision,
    FeeStandard,
    Filing,
    LibraryEntry,
    LibraryEntryEvent,
    Panel,
    PanelMember,
    QualityItem,
    ReviewPolicy,
    Submission,
)
from .selectors_admin import latest_panel, may_administer, seat_counts, teachers_of


# --- small shared shapes -------------------------------------------------------------------------------------
class RegionRefSerializer(serializers.ModelSerializer[Region]):
    class Meta:
        model = Region
        fields = ["id", "code", "name", "kind"]


class SchoolRefSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class NamedRefSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()


class CategorySerializer(serializers.ModelSerializer[Category]):
    class Meta:
        model = Category
        fields = ["code", "name", "order"]


class QualityItemSerializer(serializers.ModelSerializer[QualityItem]):
    class Meta:
        model = QualityItem
        fields = ["number", "title", "description", "weight", "max_score", "is_veto"]


# --- standards -------------------------------------------------------------------------------------------------
class FeeStandardSerializer(serializers.ModelSerializer[FeeStandard]):
    region = RegionRefSerializer(read_only=True)
    category = CategorySerializer(read_only=True)

    class Meta:
        model = FeeStandard
        fields = ["id", "region", "category", "min_fee_fen", "max_fee_fen", "teacher_pay_fen", "set_at"]


class FeeStandardInputSerializer(StrictSerializer):
    region = serializers.CharField(
        required=False,
        max_length=12,
        help_text="region code; defaults to the city for the city bureau and to its district for a district bureau",
    )
    category = serializers.CharField(max_length=30, help_text="category code")
    min_fee_fen = serializers.IntegerField(help_text="lowest fee per class hour, integer fen")
    max_fee_fen = serializers.IntegerField(help_text="highest fee per class hour, integer fen")
    teacher_pay_fen = serializers.IntegerField(help_text="teacher pay per class hour, integer fen")


class ReviewPolicySerializer(serializers.ModelSerializer[ReviewPolicy]):
    region = RegionRefSerializer(read_only=True)

    class Meta:
        model = ReviewPolicy
        fields = ["id", "region", "panel_size", "admit_threshold_bp", "return_threshold_bp"]


class ReviewPolicyInputSerializer(StrictSerializer):
    region = serializers.CharField(required=False, max_length=12, help_text="region code (defaults as for fees)")
    panel_size = serializers.IntegerField()
    admit_threshold_bp = serializers.IntegerField(help_text="admit at a mean ≥ this, in basis points (10000 = full)")
    return_threshold_bp = serializers.IntegerField(help_text="return for revision at a mean ≥ this")


# --- libraries -------------------------------------------------------------------------------------------------
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
        from .services.libraries import downstream_count

        return downstream_count(obj)


class AdoptInputSerializer(StrictSerializer):
    district = serializers.CharField(
        required=False, max_length=12, help_text="district code; defaults to the district admin's own district"
    )


class PickInputSerializer(StrictSerializer):
    school = serializers.IntegerField(
        required=False, min_value=1, help_text="school id; defaults to the school admin's own school"
    )


class StatusInputSerializer(StrictSerializer):
    status = serializers.CharField(max_length=10, help_text="active, suspended or withdrawn")
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class StatusResultSerializer(serializers.Serializer[Any]):
    entry = LibraryEntryDetailSerializer()
    downstream_affected = serializers.IntegerField(help_text="entries downstream that stop being usable with it")


# --- filings ---------------------------------------------------------------------------------------------------
class FilingSerializer(serializers.ModelSerializer[Filing]):
    entry = serializers.SerializerMethodField()
    district = RegionRefSerializer(read_only=True)
    school = serializers.SerializerMethodField()
    filed_by = serializers.CharField(source="filed_by.full_name", read_only=True)
    acknowledged_by = serializers.CharField(source="acknowledged_by.full_name", read_only=True, default=None)

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


# --- review ----------------------------------------------------------------------------------------------------
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
    reason = serializers.CharField(max_length=200, allow_blank=True)
