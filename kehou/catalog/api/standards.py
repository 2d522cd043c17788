"""API of the standards: categories, the 20 quality standards, fee standards, review policies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view

from kehou.core.api import ERRORS, ScopedListAPIView
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import KehouError
from kehou.core.scope import Scope
from kehou.orgs.api import RegionalStandardView
from kehou.orgs.models import Region

from ..models import Category, FeeStandard, QualityItem, ReviewPolicy
from ..selectors import standards_in_view
from ..serializers.standards import (
    CategorySerializer,
    FeeStandardInputSerializer,
    FeeStandardSerializer,
    QualityItemSerializer,
    ReviewPolicyInputSerializer,
    ReviewPolicySerializer,
)
from ..services import standards


@extend_schema(summary="Course categories")
class CategoryListView(ScopedListAPIView):
    serializer_class = CategorySerializer
    pagination_class = None

    def select(self, scope: Scope) -> QuerySet[Any]:
        return Category.objects.order_by("order", "code")


@extend_schema(summary="The city's quality standards (items, weights, veto items)")
class QualityStandardListView(ScopedListAPIView):
    serializer_class = QualityItemSerializer
    pagination_class = None

    def select(self, scope: Scope) -> QuerySet[Any]:
        return QualityItem.objects.order_by("number")


def _category_of(code: str) -> Category:
    category = Category.objects.filter(code=code).first()
    if category is None:
        raise KehouError(_("No such category."), code=ErrorCode.UNKNOWN_CATEGORY, fields={"category": code})
    return category


@extend_schema_view(
    get=extend_schema(
        summary="Fee standards: the city's and the districts' own",
        description=(
            "The allowed fee per class hour of each category and the teacher pay per class hour, in integer fen. "
            "A district's own standard, where it has one, applies to its own schools and library instead of the "
            "city's. Each viewer sees the city's and those of their own districts (the city bureau: all)."
        ),
        parameters=[
            OpenApiParameter("region", str, description="region code"),
            OpenApiParameter("category", str, description="category code"),
        ],
    ),
    post=extend_schema(
        summary="Set a fee standard",
        description=(
            "The city bureau for the city (the default), a district bureau for its own district (the default for "
            "it). A district's range must lie within the city's (`outside_city_standard`); `invalid_fee_range`, "
            "`invalid_fee_standard`, `unknown_category`, `unknown_region`; 403 `not_city_admin`."
        ),
        request=FeeStandardInputSerializer,
        responses={200: FeeStandardSerializer, 400: ERRORS, 403: ERRORS, 404: ERRORS},
    ),
)
class FeeStandardListView(RegionalStandardView):
    serializer_class = FeeStandardSerializer
    input_serializer = FeeStandardInputSerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        p = self.request.query_params
        qs = FeeStandard.objects.select_related("region", "category").filter(standards_in_view(scope))
        if p.get("region"):
            qs = qs.filter(region__code=p["region"].strip())
        if p.get("category"):
            qs = qs.filter(category__code=p["category"].strip())
        return qs.order_by("region__code", "category__order")

    def save(self, *, region: Region, values: dict[str, Any], now: datetime) -> FeeStandard:
        return standards.fee_standard_set(
            actor=self.request.user,
            region=region,
            category=_category_of(values["category"]),
            min_fee_fen=values["min_fee_fen"],
            max_fee_fen=values["max_fee_fen"],
            teacher_pay_fen=values["teacher_pay_fen"],
            now=now,
        )


@extend_schema_view(
    get=extend_schema(summary="Review policies: panel size and decision thresholds of the city and the districts"),
    post=extend_schema(
        summary="Set a review policy",
        description=(
            "Panel size 1–15; thresholds in basis points of the weighted score. A district may be stricter than the "
            "city, not looser (`looser_than_city`); `invalid_thresholds`, `invalid_review_policy`."
        ),
        request=ReviewPolicyInputSerializer,
        responses={200: ReviewPolicySerializer, 400: ERRORS, 403: ERRORS, 404: ERRORS},
    ),
)
class ReviewPolicyListView(RegionalStandardView):
    serializer_class = ReviewPolicySerializer
    input_serializer = ReviewPolicyInputSerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        return ReviewPolicy.objects.select_related("region").filter(standards_in_view(scope)).order_by("region__code")

    def save(self, *, region: Region, values: dict[str, Any], now: datetime) -> ReviewPolicy:
        return standards.review_policy_set(
            actor=self.request.user,
            region=region,
            panel_size=values["panel_size"],
            admit_threshold_bp=values["admit_threshold_bp"],
            return_threshold_bp=values["return_threshold_bp"],
            now=now,
        )
