"""API of hardship waivers: mark, decide (four eyes), revoke."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from kehou.core import clock
from kehou.core.api import (
    ERRORS,
    NOT_FOUND,
    ActionView,
    ScopedReadOnlyViewSet,
    parsed,
    query_int,
)
from kehou.core.scope import Scope
from kehou.core.serializers import EmptySerializer

from .. import selectors
from ..models import HardshipWaiver
from ..serializers import (
    WaiverCreateSerializer,
    WaiverDecideSerializer,
    WaiverSerializer,
)
from ..services import waivers
from .common import _status_filter


@extend_schema_view(
    list=extend_schema(
        summary="Hardship fee waivers in the caller's scope",
        description="Pupil names are masked for the district bureau and the city.",
        parameters=[
            OpenApiParameter("school", int, description="school id"),
            OpenApiParameter("term", int, description="term id"),
            OpenApiParameter("status", str, enum=HardshipWaiver.Status.values),
        ],
    ),
    retrieve=extend_schema(summary="One hardship waiver"),
)
class WaiverViewSet(ScopedReadOnlyViewSet):
    serializer_class = WaiverSerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        return selectors.waiver_list(
            scope=scope,
            school_id=query_int(self.request, "school"),
            term_id=query_int(self.request, "term"),
            status=_status_filter(self.request, HardshipWaiver.Status),
        )

    def get_serializer_context(self) -> dict[str, Any]:
        return super().get_serializer_context() | {"scope": self.scope}

    @extend_schema(
        summary="Mark a pupil as from a family in hardship for a term (awaits a second person's approval)",
        description=(
            "A school admin of the pupil's school; approved by another admin of the school or the district bureau. "
            "An approved pupil selects at zero fee. `reason_required`, `unknown_term`; 409 `waiver_exists`."
        ),
        request=WaiverCreateSerializer,
        responses={201: WaiverSerializer, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        v = parsed(request, WaiverCreateSerializer)
        scope = self.scope
        pupil = selectors.pupil_in_scope(scope=scope, pupil_id=v["pupil"])
        term = selectors.term_named(term_id=v["term"])
        waiver = waivers.waiver_request(actor=request.user, pupil=pupil, term=term, reason=v["reason"], now=clock.now())
        return _waiver_response(scope, waiver.pk, status.HTTP_201_CREATED)


def _waiver_response(scope: Scope, pk: int, status_code: int = 200) -> Response:
    fresh = selectors.waiver_list(scope=scope).get(pk=pk)
    return Response(WaiverSerializer(fresh, context={"scope": scope}).data, status=status_code)


def _waivers() -> QuerySet[HardshipWaiver]:
    return HardshipWaiver.objects.select_related("pupil", "pupil__school", "pupil__school__district")


class _WaiverAction(ActionView):
    body: ClassVar[type[Any]] = EmptySerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        return _waivers()

    def answer(self, obj: HardshipWaiver, result: Any) -> Response:
        return _waiver_response(self.scope, obj.pk)


@extend_schema_view(
    post=extend_schema(
        summary="Approve or reject a pending waiver",
        description=(
            "Another admin of the school, or the district bureau; never the person who marked the pupil (403 "
            "`four_eyes`). 409 `waiver_decided` the second time."
        ),
        request=WaiverDecideSerializer,
        responses={200: WaiverSerializer, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
)
class WaiverDecideView(_WaiverAction):
    body = WaiverDecideSerializer

    def act(self, obj: HardshipWaiver, values: dict[str, Any], *, actor: Any, now: datetime) -> Any:
        return waivers.waiver_decide(actor=actor, waiver=obj, approve=values["approve"], now=now)


@extend_schema_view(
    post=extend_schema(
        summary="Revoke an approved waiver (for future selections; seats already taken keep their fee)",
        description="A school admin; 409 `waiver_not_approved`.",
        request=EmptySerializer,
        responses={200: WaiverSerializer, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
)
class WaiverRevokeView(_WaiverAction):
    def act(self, obj: HardshipWaiver, values: dict[str, Any], *, actor: Any, now: datetime) -> Any:
        return waivers.waiver_revoke(actor=actor, waiver=obj, now=now)
