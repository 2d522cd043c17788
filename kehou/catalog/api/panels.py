"""API of review: the queue, drawing a panel, a panel (detail, verify, decide, cancel), the experts' seats (score,
decline) and recusals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from kehou.core import clock
from kehou.core.api import ERRORS, ActionView, ScopedListAPIView, ScopedObjectView, ScopedReadOnlyViewSet, ScopeGuard
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import KehouError
from kehou.core.scope import Scope
from kehou.orgs.models import School

from .. import selectors as sel
from ..models import (
    ExpertRecusal,
    Panel,
    PanelMember,
    Submission,
    SubmissionVersion,
)
from ..selectors import review_queue, verify_data
from ..serializers.panels import (
    DecisionSerializer,
    DrawInputSerializer,
    PanelCancelSerializer,
    PanelSerializer,
    ReviewSubmissionSerializer,
    VerifySerializer,
)
from ..serializers.seats import (
    DeclineResultSerializer,
    DeclineSerializer,
    RecusalOutSerializer,
    RecusalSerializer,
    ScoreInputSerializer,
    ScoreResultSerializer,
    SeatDetailSerializer,
    SeatSummarySerializer,
)
from ..services import review
from .common import _ERRORS


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


@extend_schema_view(
    post=extend_schema(
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
)
class PanelDrawView(ActionView):
    """Draw a review panel at random for a submission awaiting review."""

    body = DrawInputSerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        return Submission.objects.select_related("library_region", "category")

    def act(self, obj: Submission, values: dict[str, Any], *, actor: Any, now: datetime) -> Any:
        panel = review.panel_draw(actor=actor, submission=obj, size=values.get("size"), now=now)
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


class _PanelAction(ActionView):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return _panels()


@extend_schema_view(
    post=extend_schema(
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
)
class PanelDecideView(_PanelAction):
    def act(self, obj: Panel, values: dict[str, Any], *, actor: Any, now: datetime) -> Any:
        return Response(DecisionSerializer(review.panel_decide(actor=actor, panel=obj, now=now)).data)


@extend_schema_view(
    post=extend_schema(
        summary="Cancel an open panel that cannot finish; the submission awaits a new draw",
        request=PanelCancelSerializer,
        responses={200: OpenApiResponse(description="the panel, cancelled"), 403: ERRORS, 404: ERRORS, 409: ERRORS},
    )
)
class PanelCancelView(_PanelAction):
    body = PanelCancelSerializer

    def act(self, obj: Panel, values: dict[str, Any], *, actor: Any, now: datetime) -> Any:
        panel = review.panel_cancel(actor=actor, panel=obj, reason=values["reason"], now=now)
        return {"id": panel.pk, "status": panel.status}


def seat_context(request: Any, scope: Scope, seat: PanelMember) -> dict[str, Any]:
    version = (
        SubmissionVersion.objects.select_related("submission", "teacher__user")
        .prefetch_related("teachers__user", "proofs")
        .get(submission_id=seat.panel.submission_id, number=seat.panel.version_number)
    )
    mine = seat.expert.user_id == request.user.pk
    open_seat = mine and sel.seat_state(seat) == "pending"
    seat._version = version  # type: ignore[attr-defined]
    seat._standards = sel.quality_items()  # type: ignore[attr-defined]
    seat._may_score = open_seat  # type: ignore[attr-defined]
    seat._may_decline = open_seat  # type: ignore[attr-defined]
    readable = set(scope.filter(sel.proofs_readable(scope).filter(version=version)).values_list("pk", flat=True))
    submission = version.submission
    return {
        "request": request,
        "readable_proofs": readable,
        "show_identity": sel.may_see_identity(scope=scope, actor=request.user, submission=submission),
    }


@extend_schema_view(
    list=extend_schema(
        summary="My seats on review panels (an expert's review tasks)",
        parameters=[
            OpenApiParameter("state", str, enum=list(sel.SEAT_STATES)),
            OpenApiParameter("search", str, description="submission title contains"),
        ],
    ),
    retrieve=extend_schema(
        summary="A seat: the submission's version under review, its proofs, and the quality standards to score",
        description="Read by the seat's expert and by the bureau that drew the panel.",
        responses={200: SeatDetailSerializer, 404: _ERRORS[404]},
    ),
)
class PanelSeatViewSet(ScopedReadOnlyViewSet):
    def select(self, scope: Scope) -> QuerySet[Any]:
        if self.action == "list":
            p = self.request.query_params
            return sel.my_seats(scope=scope, state=p.get("state", "").strip(), search=p.get("search", "").strip())
        return sel.seats_readable(scope)

    def get_serializer_class(self) -> Any:
        return SeatSummarySerializer if self.action == "list" else SeatDetailSerializer

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        seat = self.get_object()
        context = seat_context(request, self.scope, seat)
        return Response(SeatDetailSerializer(seat, context=context).data)


class _SeatAction(ActionView):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return sel.seats_readable(scope)


@extend_schema_view(
    post=extend_schema(
        summary="Score the submission against every quality standard (once)",
        request=ScoreInputSerializer,
        responses={
            201: ScoreResultSerializer,
            400: OpenApiResponse(description="invalid_score_sheet (fields name each standard), invalid"),
            404: _ERRORS[404],
            409: OpenApiResponse(description="already_scored, panel_closed, member_declined"),
        },
    )
)
class SeatScoreView(_SeatAction):
    body = ScoreInputSerializer

    def act(self, obj: PanelMember, values: dict[str, Any], *, actor: Any, now: datetime) -> Any:
        score = review.score_submit(
            actor=actor,
            member=obj,
            item_scores=values["item_scores"],
            vetoed_items=values["vetoed_items"],
            comment=values["comment"],
            now=now,
        )
        return Response(
            {"seat": obj.pk, "total_bp": score.total_bp, "scored_at": timezone.localtime(score.scored_at)},
            status=status.HTTP_201_CREATED,
        )


@extend_schema_view(
    post=extend_schema(
        summary="Decline a seat (the next expert in the recorded draw order takes it)",
        request=DeclineSerializer,
        responses={
            200: DeclineResultSerializer,
            400: OpenApiResponse(description="reason_required"),
            404: _ERRORS[404],
            409: OpenApiResponse(description="cannot_decline, panel_closed, panel_unfillable"),
        },
    )
)
class SeatDeclineView(_SeatAction):
    body = DeclineSerializer

    def act(self, obj: PanelMember, values: dict[str, Any], *, actor: Any, now: datetime) -> Any:
        review.member_decline(actor=actor, member=obj, reason=values["reason"], now=now)
        return {"seat": obj.pk, "state": "declined"}


class RecusalListView(ScopeGuard, generics.ListCreateAPIView):  # type: ignore[type-arg]
    """An expert's declared conflicts of interest; later panel draws leave them out."""

    serializer_class = RecusalOutSerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        return ExpertRecusal.objects.select_related("school", "organisation", "submission").order_by("-declared_at")

    @extend_schema(summary="My declared recusals (experts)")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Declare a recusal for a school, an organisation or a submission",
        request=RecusalSerializer,
        responses={
            201: RecusalOutSerializer,
            400: _ERRORS[400],
            403: OpenApiResponse(description="not_an_expert"),
            404: OpenApiResponse(
                description="not_found: no such school, organisation or submission (`fields` names it)"
            ),
        },
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        from kehou.orgs.models import Organisation

        body = RecusalSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data

        def pick(model: Any, key: str) -> Any:
            if not data.get(key):
                return None
            found = model.objects.filter(pk=data[key]).first()
            if found is None:
                raise KehouError(_("Not found."), code=ErrorCode.NOT_FOUND, fields={key: data[key]}, status=404)
            return found

        recusal = review.recusal_declare(
            actor=request.user,
            reason=data["reason"],
            school=pick(School, "school"),
            organisation=pick(Organisation, "organisation"),
            submission=pick(Submission, "submission"),
            now=clock.now(),
        )
        return Response(RecusalOutSerializer(recusal).data, status=status.HTTP_201_CREATED)
