"""API for the city bureau, the district bureaus and the school admins: the review queue, panels (draw, verify,
decide), the three-level libraries (adopt, pick, status), filings and the standards.

Every view reads through :class:`~kehou.core.api.ScopeGuard` (a row outside the caller's scope is the same 404 as
a missing one) and every write is one service call; the error codes are the services'.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from kehou.core import clock
from kehou.core.api import ERRORS, ScopedListAPIView, ScopedObjectView, ScopedReadOnlyViewSet, ScopeGuard, query_int
from kehou.core.errors import KehouError
from kehou.core.scope import Scope
from kehou.orgs.models import Region

from . import selectors
from .models import Category, FeeStandard, Filing, LibraryEntry, Panel, QualityItem, ReviewPolicy, Submission
from .selectors_admin import library_entries, review_queue, standards_in_view, verify_data, with_usable
from .serializers_admin import (
    AdoptInputSerializer,
    CategorySerializer,
    DecisionSerializer,
    DrawInputSerializer,
    FeeStandardInputSerializer,
    FeeStandardSerializer,
    FilingSerializer,
    LibraryEntryDetailSerializer,
    LibraryEntrySerializer,
    PanelCancelSerializer,
    PanelSerializer,
    PickInputSerializer,
    QualityItemSerializer,
    ReviewPolicyInputSerializer,
    ReviewPolicySerializer,
    ReviewSubmissionSerializer,
    StatusInputSerializer,
    StatusResultSerializer,
    VerifySerializer,
)
from .services import libraries, review, standards


# --- review ----------------------------------------------------------------------------------------------------
@extend_schema(
    summary="Review queue: the submissions a bureau follows",
    description=(
        "The city bureau: every submission (the city library's and, read-only, the districts'). A district bureau: "
        "its district library's submissions and its own schools' submissions to the city library. Other roles: "
        "empty. `may_draw` says whether the caller may draw a panel now."
    ),
    parameters=[
        OpenApiParameter("status", str, enum=Submission.Status.values),
        OpenApiParameter("kind", str, enum=Submission.Kind.values),
        OpenApiParameter("library", str, description="region code of the library (the city's or a district's)"),
        OpenApiParameter("category", str, description="category code"),
        OpenApiParameter("search", str, description="title contains"),
    ],
)
class ReviewQueueView(ScopedListAPIView):
    serializer_class = ReviewSubmissionSerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        p = self.request.query_params
        return review_queue(
            scope=scope,
            status=p.get("status", ""),
            kind=p.get("kind", ""),
            library=p.get("library", "").strip(),
            category=p.get("category", "").strip(),
            search=p.get("search", "").strip(),
        )

    def get_serializer_context(self) -> dict[str, Any]:
        return super().get_serializer_context() | {"scope": self.scope}


class PanelDrawView(ScopedObjectView):
    """Draw a review panel at random for a submission awaiting review."""

    def select(self, scope: Scope) -> QuerySet[Any]:
        return Submission.objects.select_related("library_region", "category")

    @extend_schema(
        summary="Draw a review panel for a submission",
        description=(
            "The city bureau for the city library, a district bureau for its own. The panel has the library's "
            "configured size unless `size` is given. The answer records the seed and the pool so that anyone can "
            "re-run the draw (`GET /api/v1/panels/{id}/verify`). Refused, never shrunk, when too few experts are "
            "eligible (409 `panel_unfillable`); 409 `not_awaiting_review` when the submission is not awaiting review."
        ),
        request=DrawInputSerializer,
        responses={201: PanelSerializer, 400: ERRORS, 403: ERRORS, 404: ERRORS, 409: ERRORS},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        submission = self.get_object()
        data = self.parsed(DrawInputSerializer)
        panel = review.panel_draw(actor=request.user, submission=submission, size=data.get("size"), now=clock.now())
        panel.submission.refresh_from_db()  # now in review
        return Response(PanelSerializer(panel, context={"scope": self.scope}).data, status=status.HTTP_201_CREATED)


def _panels() -> QuerySet[Panel]:
    return Panel.objects.select_related(
        "region", "submission__category", "submission__submitter_school", "submission__submitter_organisation"
    )


class PanelDetailView(ScopedObjectView):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return _panels()

    @extend_schema(
        summary="A review panel: seed, pool, members, scores and the decision",
        description=(
            "Expert names, item scores and the drawing bureau's view are shown to the bureau that runs the panel. "
            "Others who may see the submission (its submitter, its district) see the seats without names, and the "
            "totals and comments once the panel has decided."
        ),
        responses={200: PanelSerializer, 404: ERRORS},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(PanelSerializer(self.get_object(), context={"scope": self.scope}).data)


class PanelVerifyView(ScopedObjectView):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return Panel.objects.all()

    @extend_schema(
        summary="Re-run a panel's draw from its recorded seed and pool",
        description="`reproduced` is true when the recorded seats are exactly the draw order's first positions.",
        responses={200: VerifySerializer, 404: ERRORS},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(verify_data(self.get_object()))


class PanelDecideView(ScopedObjectView):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return _panels()

    @extend_schema(
        summary="Decide a panel (every member has scored)",
        description=(
            "Applies the library's decision rule (any veto rejects; else the mean against the admission and revision "
            "thresholds) and records the outcome with its reasons; an admitted submission enters the library. "
            "409 `not_all_scored` while members are still scoring; of two deciders at once, one gets the decision "
            "and the other 409 `already_decided`."
        ),
        request=None,
        responses={200: DecisionSerializer, 403: ERRORS, 404: ERRORS, 409: ERRORS},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        decision = review.panel_decide(actor=request.user, panel=self.get_object(), now=clock.now())
        return Response(DecisionSerializer(decision).data)


# --- libraries -------------------------------------------------------------------------------------------------
@extend_schema_view(
    list=extend_schema(
        summary="Library entries in the caller's scope (city, district and school libraries)",
        description=(
            "Everyone signed in with a role reads the city library; a district's library is read by its bureau and "
            "its schools; a school's library by the school and its district. `usable` is derived from the whole "
            "chain: an entry is usable while it and everything upstream of it are active."
        ),
        parameters=[
            OpenApiParameter("level", str, enum=LibraryEntry.Level.values),
            OpenApiParameter("district", str, description="district code: its library and its schools' libraries"),
            OpenApiParameter("school", int, description="school id: its school library"),
            OpenApiParameter("kind", str, enum=Submission.Kind.values),
            OpenApiParameter("category", str, description="category code"),
            OpenApiParameter("status", str, enum=LibraryEntry.Status.values),
            OpenApiParameter("usable", str, enum=["yes", "no"]),
            OpenApiParameter("search", str, description="name contains"),
        ],
    ),
    retrieve=extend_schema(
        summary="One library entry, with its status history", responses=LibraryEntryDetailSerializer
    ),
)
class LibraryEntryViewSet(ScopedReadOnlyViewSet):
    serializer_class = LibraryEntrySerializer

    def get_serializer_class(self) -> type[Any]:
        return LibraryEntryDetailSerializer if self.action == "retrieve" else LibraryEntrySerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        p = self.request.query_params
        qs = library_entries(
            scope=scope,
            level=p.get("level", ""),
            district_code=p.get("district", "").strip(),
            school_id=query_int(self.request, "school"),
            kind=p.get("kind", ""),
            category=p.get("category", "").strip(),
            status=p.get("status", ""),
            usable=p.get("usable", ""),
            search=p.get("search", "").strip(),
        )
        if self.action == "retrieve":
            qs = qs.prefetch_related("events__actor")
        return qs


def _entries() -> QuerySet[LibraryEntry]:
    return with_usable(LibraryEntry.objects.select_related("item", "region", "school", "upstream"))


def _entry_response(entry: LibraryEntry, *, status_code: int = 200) -> Response:
    fresh = _entries().prefetch_related("events__actor").get(pk=entry.pk)
    return Response(LibraryEntryDetailSerializer(fresh).data, status=status_code)


class LibraryAdoptView(ScopedObjectView):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return _entries()

    @extend_schema(
        summary="Adopt a city-library entry into a district library (filed with the city)",
        description=(
            "A district bureau adopts into its own district's library (`district` may be left out); the city bureau "
            "names the district. Codes: `not_a_city_entry`, `entry_not_active`, 409 `already_in_library`."
        ),
        request=AdoptInputSerializer,
        responses={201: LibraryEntryDetailSerializer, 400: ERRORS, 404: ERRORS, 409: ERRORS},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        entry = self.get_object()
        code = self.parsed(AdoptInputSerializer).get("district")
        district = selectors.district_named(scope=self.scope, code=code)
        adopted = libraries.library_adopt(actor=request.user, district=district, city_entry=entry, now=clock.now())
        return _entry_response(adopted, status_code=status.HTTP_201_CREATED)


class LibraryPickView(ScopedObjectView):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return _entries()

    @extend_schema(
        summary="Pick an entry into a school library (filed with the city)",
        description=(
            "A school admin picks from the library its school may use: the city library for 局属 and other "
            "city-managed schools, its own district's library for district schools (`school` may be left out). "
            "Anything else is refused with `entry_not_available`; also `entry_not_active`, 409 `already_in_library`."
        ),
        request=PickInputSerializer,
        responses={201: LibraryEntryDetailSerializer, 400: ERRORS, 404: ERRORS, 409: ERRORS},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        entry = self.get_object()
        school = selectors.school_named(scope=self.scope, school_id=self.parsed(PickInputSerializer).get("school"))
        picked = libraries.library_pick(actor=request.user, school=school, entry=entry, now=clock.now())
        return _entry_response(picked, status_code=status.HTTP_201_CREATED)


class LibraryStatusView(ScopedObjectView):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return _entries()

    @extend_schema(
        summary="Suspend, withdraw or reactivate a library entry",
        description=(
            "The city bureau for the city library, a district bureau for its own, a school admin for its school's. "
            "Everything downstream stops being usable with it; district and school changes are filed with the city. "
            "A reason is required (`reason_required`); a withdrawn entry cannot change again (409 `entry_withdrawn`)."
        ),
        request=StatusInputSerializer,
        responses={200: StatusResultSerializer, 400: ERRORS, 403: ERRORS, 404: ERRORS, 409: ERRORS},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        entry = self.get_object()
        data = self.parsed(StatusInputSerializer)
        affected = libraries.library_set_status(
            actor=request.user, entry=entry, status=data["status"], reason=data.get("reason", ""), now=clock.now()
        )
        fresh = _entries().prefetch_related("events__actor").get(pk=entry.pk)
        return Response({"entry": LibraryEntryDetailSerializer(fresh).data, "downstream_affected": affected})


# --- filings ---------------------------------------------------------------------------------------------------
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


class FilingAcknowledgeView(ScopedObjectView):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return Filing.objects.select_related("entry__item", "district", "school", "filed_by")

    @extend_schema(
        summary="Acknowledge a filing (city bureau)",
        description="409 `already_acknowledged` the second time.",
        request=None,
        responses={200: FilingSerializer, 404: ERRORS, 409: ERRORS},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        filing = libraries.filing_acknowledge(actor=request.user, filing=self.get_object(), now=clock.now())
        return Response(FilingSerializer(filing).data)


# --- standards -------------------------------------------------------------------------------------------------
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


def _region_of(scope: Scope, code: str | None) -> Region:
    """The region named, or the caller's own: the city for the city bureau, its district for a district bureau."""
    if code:
        region = Region.objects.filter(code=code).first()
        if region is None:
            raise KehouError(_("No such region."), code="unknown_region", fields={"region": code})
        return region
    if scope.everything:
        region = Region.objects.filter(kind=Region.Kind.CITY).first()
        if region is not None:
            return region
    if len(scope.district_ids) == 1:
        return Region.objects.get(pk=next(iter(scope.district_ids)))
    raise KehouError(_("Name the region."), code="region_required", fields={"region": None})


def _category_of(code: str) -> Category:
    category = Category.objects.filter(code=code).first()
    if category is None:
        raise KehouError(_("No such category."), code="unknown_category", fields={"category": code})
    return category


class FeeStandardListView(ScopeGuard, generics.ListAPIView):  # type: ignore[type-arg]
    serializer_class = FeeStandardSerializer
    pagination_class = None

    def select(self, scope: Scope) -> QuerySet[Any]:
        p = self.request.query_params
        qs = FeeStandard.objects.select_related("region", "category").filter(standards_in_view(scope))
        if p.get("region"):
            qs = qs.filter(region__code=p["region"].strip())
        if p.get("category"):
            qs = qs.filter(category__code=p["category"].strip())
        return qs.order_by("region__code", "category__order")

    @extend_schema(
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
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Set a fee standard",
        description=(
            "The city bureau for the city (the default), a district bureau for its own district (the default for "
            "it). A district's range must lie within the city's (`outside_city_standard`); `invalid_fee_range`, "
            "`invalid_fee_standard`, `unknown_category`, `unknown_region`; 403 `not_city_admin`."
        ),
        request=FeeStandardInputSerializer,
        responses={200: FeeStandardSerializer, 400: ERRORS, 403: ERRORS, 404: ERRORS},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = FeeStandardInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        standard = standards.fee_standard_set(
            actor=request.user,
            region=_region_of(self.scope, v.get("region")),
            category=_category_of(v["category"]),
            min_fee_fen=v["min_fee_fen"],
            max_fee_fen=v["max_fee_fen"],
            teacher_pay_fen=v["teacher_pay_fen"],
            now=clock.now(),
        )
        return Response(FeeStandardSerializer(standard).data)


class ReviewPolicyListView(ScopeGuard, generics.ListAPIView):  # type: ignore[type-arg]
    serializer_class = ReviewPolicySerializer
    pagination_class = None

    def select(self, scope: Scope) -> QuerySet[Any]:
        return ReviewPolicy.objects.select_related("region").filter(standards_in_view(scope)).order_by("region__code")

    @extend_schema(summary="Review policies: panel size and decision thresholds of the city and the districts")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Set a review policy",
        description=(
            "Panel size 1–15; thresholds in basis points of the weighted score. A district may be stricter than the "
            "city, not looser (`looser_than_city`); `invalid_thresholds`, `invalid_review_policy`."
        ),
        request=ReviewPolicyInputSerializer,
        responses={200: ReviewPolicySerializer, 400: ERRORS, 403: ERRORS, 404: ERRORS},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = ReviewPolicyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        policy = standards.review_policy_set(
            actor=request.user,
            region=_region_of(self.scope, v.get("region")),
            panel_size=v["panel_size"],
            admit_threshold_bp=v["admit_threshold_bp"],
            return_threshold_bp=v["return_threshold_bp"],
            now=clock.now(),
        )
        return Response(ReviewPolicySerializer(policy).data)


class PanelCancelView(ScopedObjectView):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return _panels()

    @extend_schema(
        summary="Cancel an open panel that cannot finish; the submission awaits a new draw",
        request=PanelCancelSerializer,
        responses={200: OpenApiResponse(description="the panel, cancelled"), 403: ERRORS, 404: ERRORS, 409: ERRORS},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        panel = self.get_object()  # out of scope: 404 before anything about the body is said
        data = self.parsed(PanelCancelSerializer)
        panel = review.panel_cancel(actor=request.user, panel=panel, reason=data["reason"], now=clock.now())
        return Response({"id": panel.pk, "status": panel.status})
