"""Serializers of the standards: categories, quality items, fee standards, review policies."""

from __future__ import annotations

from rest_framework import serializers

from kehou.core.serializers import StrictSerializer
from kehou.orgs.serializers import RegionRefSerializer

from ..models import (
    Category,
    FeeStandard,
    QualityItem,
    ReviewPolicy,
)


class CategorySerializer(serializers.ModelSerializer[Category]):
    class Meta:
        model = Category
        fields = ["code", "name", "order"]


class QualityItemSerializer(serializers.ModelSerializer[QualityItem]):
    class Meta:
        model = QualityItem
        fields = ["number", "title", "description", "weight", "max_score", "is_veto"]


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


class CategoryOutSerializer(serializers.Serializer):  # type: ignore[type-arg]
    code = serializers.CharField()
    name = serializers.CharField()


class StandardOutSerializer(serializers.ModelSerializer[QualityItem]):
    class Meta:
        model = QualityItem
        fields = ["number", "title", "description", "weight", "max_score", "is_veto"]
