"""API of the parent's flow: children, a child's classes, selecting (the rush's hot path), places, cancelling."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from kehou.core import clock
from kehou.core.api import (
    ERRORS,
    NOT_FOUND,
    ActionView,
    ScopedListAPIView,
    ScopedObjectView,
    ScopedReadOnlyViewSet,
    query_int,
    request_key,
)
from kehou.core.scope import Scope
from kehou.people.models import Pupil

from .. import selectors
from ..models import Enrolment
from ..serializers import (
    ChildClassesSerializer,
    ChildSerializer,
    EnrolmentSerializer,
    ReasonSerializer,
    SelectionResultSerializer,
    SelectSerializer,
    WindowSerializer,
    local_time,
    offered_class,
)
from ..services import selection
from .common import _status_filter


class ChildListView(ScopedListAPIView):
    pagination_class = None
    serializer_class = ChildSerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        return selectors.children_of(self.request.user).order_by("birth_date", "pk")

    @extend_schema(
        summary="The caller's children, each with the selection windows of its grade",
        description="Open and upcoming windows, and those closed in the last week (lottery results stay visible).",
        responses={200: ChildSerializer(many=True)},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        now = clock.now()
        rows = []
        for pupil in self.get_queryset():
            views = selectors.windows_for_pupil(pupil=pupil, now=now)
            rows.append(
                {
                    "id": pupil.pk,
                    "name": pupil.name,
                    "grade": pupil.grade,
                    "class_name": pupil.class_name,
                    "school": {"id": pupil.school_id, "code": pupil.school.code, "name": pupil.school.name},
                    "windows": WindowSerializer([v.window for v in views], many=True, context={"now": now}).data,
                }
            )
        return Response(rows)


class ChildClassesView(ScopedObjectView):
    lookup_url_kwarg = "pupil_id"

    def select(self, scope: Scope) -> QuerySet[Any]:
        return Pupil.objects.select_related("school")

    @extend_schema(
        summary="The classes open to a child, with seats left and the child's own place",
        description=(
            "The active classes of the child's school for the child's grade whose course is still usable: course, "
            "introduction, teacher, weekly slots, price, fee (0 under an approved hardship waiver), seats left, and "
            "the child's live place in each (`held` with its expiry, `waiting` with its position, …). A parent "
            "opens their own children; the school and the bureaus may open the pupils they see."
        ),
        parameters=[OpenApiParameter("term", int, description="term id")],
        responses={200: ChildClassesSerializer, 404: NOT_FOUND},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        pupil = self.get_object()
        now = clock.now()
        offers = selectors.classes_for_pupil(pupil=pupil, term_id=query_int(request, "term"))
        waived = selectors.waived_terms(pupil=pupil)
        views = selectors.windows_for_pupil(pupil=pupil, now=now)
        body = {
            "pupil": {"id": pupil.pk, "name": selectors.shown_pupil_name(scope=self.scope, pupil=pupil)},
            "windows": WindowSerializer([v.window for v in views], many=True, context={"now": now}).data,
            "classes": [offered_class(o, waived) for o in offers],
        }
        return Response(body)


@extend_schema_view(
    list=extend_schema(
        summary="Places (enrolments) in the caller's scope",
        description=(
            "A parent sees their children's; the school its own; a teacher their classes'. Waiting places carry "
            "their waitlist `position`. Pupil names are masked for the bureaus and operators."
        ),
        parameters=[
            OpenApiParameter("class", int, description="class id"),
            OpenApiParameter("school", int, description="school id"),
            OpenApiParameter("pupil", int, description="pupil id"),
            OpenApiParameter("status", str, enum=Enrolment.Status.values),
            OpenApiParameter("search", str, description="pupil or class name contains"),
        ],
    ),
    retrieve=extend_schema(summary="One place"),
)
class EnrolmentViewSet(ScopedReadOnlyViewSet):
    serializer_class = EnrolmentSerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        p = self.request.query_params
        return selectors.enrolment_list(
            scope=scope,
            class_id=query_int(self.request, "class"),
            school_id=query_int(self.request, "school"),
            pupil_id=query_int(self.request, "pupil"),
            status=_status_filter(self.request, Enrolment.Status),
            search=p.get("search", "").strip(),
        ).select_related("course_class__teacher")

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.get_queryset()
        page = self.paginate_queryset(queryset)
        rows = list(queryset) if page is None else page
        context = {"scope": self.scope, "positions": selectors.waitlist_positions(rows)}
        data = EnrolmentSerializer(rows, many=True, context=context).data
        return Response(data) if page is None else self.get_paginated_response(data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        enrolment = self.get_object()
        context = {"scope": self.scope, "positions": selectors.waitlist_positions([enrolment])}
        return Response(EnrolmentSerializer(enrolment, context=context).data)

    @extend_schema(
        summary="Select a class for a child (the selection rush)",
        description=(
            "A guardian selects for their child. Send a client-made key of 8–64 letters, digits or `-_.:` in the "
            "`Idempotency-Key` header (or as `request_key` in the body): the same key again answers 200 with the "
            "first answer's place and writes nothing (`request_key_reused` with 409 if it named another selection). "
            "First come: a seat held for the window's hold time (`held`, pay before `hold_expires_at`; `confirmed` "
            "at once when the fee is 0), or with `join_waitlist` a waitlist place when full (`waiting`, with "
            "`position`). Lottery window: an application (`applied`), drawn at close. Codes: 409 `class_full` "
            "(`fields.waiting` says how many wait), `window_closed`, `time_clash`, `too_many_classes`, "
            "`already_selected`, `course_suspended`, `request_key_reused`; 400 `request_key_required`, "
            "`request_key_invalid`, `request_key_mismatch`, `grade_not_eligible`; 404 for a child that is not the "
            "caller's or a class not offered at the child's school (`class_not_found`)."
        ),
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="8–64 of A–Z a–z 0–9 - _ . : (required here or as `request_key`)",
            )
        ],
        request=SelectSerializer,
        responses={
            201: SelectionResultSerializer,
            200: OpenApiResponse(SelectionResultSerializer, description="a retry: the first answer's place"),
            400: ERRORS,
            404: NOT_FOUND,
            409: ERRORS,
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # The hot path: no scope, no reads of its own; the service finds the child through its guardians.
        body = SelectSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        v = body.validated_data
        key = request_key(request, v.get("request_key", ""))
        result = selection.enrolment_select(
            actor=request.user,
            pupil_id=v["pupil"],
            class_id=v["course_class"],
            request_key=key,
            join_waitlist=v["join_waitlist"],
            now=clock.now(),
        )
        e = result.enrolment
        answer = {
            "id": e.pk,
            "status": e.status,
            "pupil": e.pupil_id,
            "course_class": e.course_class_id,
            "fee_fen": e.fee_fen,
            "hold_expires_at": local_time(e.hold_expires_at),
            "position": result.position,
            "created": result.created,
        }
        return Response(answer, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


@extend_schema_view(
    post=extend_schema(
        summary="Cancel a place (application, waitlist place, hold or confirmed seat)",
        description=(
            "A guardian of the child, or the school. A freed seat goes to the head of the waitlist at once. "
            "Cancelling twice answers the cancelled place; 409 `enrolment_ended` for an expired one; 403 "
            "`not_guardian` for others who may see the place (a teacher, a bureau)."
        ),
        request=ReasonSerializer,
        responses={200: EnrolmentSerializer, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
)
class EnrolmentCancelView(ActionView):
    body = ReasonSerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        return Enrolment.objects.select_related("course_class", "course_class__school", "pupil")

    def act(self, obj: Enrolment, values: dict[str, Any], *, actor: Any, now: datetime) -> Any:
        return selection.enrolment_cancel(actor=actor, enrolment=obj, reason=values["reason"], now=now)

    def answer(self, obj: Enrolment, result: Any) -> Response:
        scope = self.scope
        fresh = selectors.enrolment_list(scope=scope).select_related("course_class__teacher").get(pk=obj.pk)
        return Response(EnrolmentSerializer(fresh, context={"scope": scope, "positions": {}}).data)
