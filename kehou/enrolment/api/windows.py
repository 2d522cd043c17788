"""API of selection windows: list, create, change, publish, cancel, draw; a district's stagger."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from django.db.models import QuerySet
from django.utils import timezone
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
from kehou.orgs.models import Region

from .. import selectors
from ..models import LotteryDraw, SelectionWindow
from ..serializers import (
    DrawResultSerializer,
    StaggerResultSerializer,
    StaggerSerializer,
    WindowCreateSerializer,
    WindowSerializer,
    WindowUpdateSerializer,
)
from ..services import lottery, windows
from .common import _status_filter


def _window_response(scope: Scope, pk: int, status_code: int = 200) -> Response:
    fresh = selectors.window_list(scope=scope).filter(pk=pk).get()
    return Response(WindowSerializer(fresh, context={"now": clock.now()}).data, status=status_code)


@extend_schema_view(
    list=extend_schema(
        summary="Selection windows in the caller's scope, with their state and countdown",
        description=(
            "`state` is `upcoming`, `open` or `closed` by the clock; `seconds_to_open` / `seconds_to_close` count "
            "down to the next edge (0 once passed). A window is open from `opens_at` (inclusive) to `closes_at` "
            "(exclusive). Parents see the windows of their children's schools."
        ),
        parameters=[
            OpenApiParameter("school", int, description="school id"),
            OpenApiParameter("district", str, description="district code"),
            OpenApiParameter("term", int, description="term id"),
            OpenApiParameter("grade", int),
            OpenApiParameter("status", str, enum=SelectionWindow.Status.values),
        ],
    ),
    retrieve=extend_schema(summary="One selection window with its state and countdown"),
)
class WindowViewSet(ScopedReadOnlyViewSet):
    serializer_class = WindowSerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        p = self.request.query_params
        return selectors.window_list(
            scope=scope,
            school_id=query_int(self.request, "school"),
            district_code=p.get("district", "").strip(),
            term_id=query_int(self.request, "term"),
            grade=query_int(self.request, "grade"),
            status=_status_filter(self.request, SelectionWindow.Status),
        )

    def get_serializer_context(self) -> dict[str, Any]:
        return super().get_serializer_context() | {"now": clock.now()}

    @extend_schema(
        summary="Set a selection window for one grade of a school",
        description=(
            "A school admin. `mode` `first_come` or `lottery` (oversubscribed classes drawn at close); "
            "`max_classes` a child may hold (1–10); `hold_minutes` a seat is held while paying (1–120). Published at "
            "once with `publish: true`, else a draft. Codes: `grade_out_of_range`, `window_dates`, "
            "`window_too_long`, `window_in_past`, `invalid_mode`, 409 `window_overlap`, `unknown_term`."
        ),
        request=WindowCreateSerializer,
        responses={201: WindowSerializer, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        v = parsed(request, WindowCreateSerializer)
        scope = self.scope
        school = selectors.school_in_scope(scope=scope, school_id=v.pop("school"))
        term = selectors.term_named(term_id=v.pop("term"))
        window = windows.window_create(actor=request.user, school=school, term=term, now=clock.now(), **v)
        return _window_response(scope, window.pk, status.HTTP_201_CREATED)


def _windows() -> QuerySet[SelectionWindow]:
    return SelectionWindow.objects.select_related("school", "school__district", "term")


class _WindowAction(ActionView):
    body: ClassVar[type[Any]] = EmptySerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        return _windows()

    def answer(self, obj: SelectionWindow, result: Any) -> Response:
        return _window_response(self.scope, obj.pk)


@extend_schema_view(
    post=extend_schema(
        summary="Change a window's times or rules",
        description=(
            "Until it opens, anything; once open, only a later `closes_at` (409 `window_started`). 409 "
            "`window_cancelled`, `lottery_drawn`, `window_overlap`; the checks of creating a window."
        ),
        request=WindowUpdateSerializer,
        responses={200: WindowSerializer, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
)
class WindowUpdateView(_WindowAction):
    body = WindowUpdateSerializer

    def act(self, obj: SelectionWindow, values: dict[str, Any], *, actor: Any, now: datetime) -> Any:
        return windows.window_update(actor=actor, window=obj, now=now, **values)


@extend_schema_view(
    post=extend_schema(
        summary="Publish a draft window (parents see it with a countdown)",
        description="409 `window_status` unless it is a draft; `window_in_past`.",
        request=EmptySerializer,
        responses={200: WindowSerializer, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
)
class WindowPublishView(_WindowAction):
    def act(self, obj: SelectionWindow, values: dict[str, Any], *, actor: Any, now: datetime) -> Any:
        return windows.window_publish(actor=actor, window=obj, now=now)


@extend_schema_view(
    post=extend_schema(
        summary="Call a window off",
        description=(
            "Until it opens, or once open while nobody has selected in it (409 `window_has_selections`); 409 "
            "`window_status` when already cancelled."
        ),
        request=EmptySerializer,
        responses={200: WindowSerializer, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
)
class WindowCancelView(_WindowAction):
    def act(self, obj: SelectionWindow, values: dict[str, Any], *, actor: Any, now: datetime) -> Any:
        return windows.window_cancel(actor=actor, window=obj, now=now)


@extend_schema_view(
    post=extend_schema(
        summary="Draw a closed lottery window now",
        description=(
            "A school admin (the periodic `manage.py tick` also draws closed windows by itself). Each "
            "oversubscribed class is drawn with a fresh recorded seed; winners get a hold, the rest wait in drawn "
            "order; guardians are told. `not_lottery`; 409 `window_still_open`, `lottery_drawn`."
        ),
        request=EmptySerializer,
        responses={200: DrawResultSerializer, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
)
class WindowDrawView(_WindowAction):
    def act(self, obj: SelectionWindow, values: dict[str, Any], *, actor: Any, now: datetime) -> Any:
        return lottery.lottery_draw(window=obj, now=now, actor=actor)

    def answer(self, obj: SelectionWindow, result: Any) -> Response:
        ids = list(LotteryDraw.objects.filter(window=obj).order_by("pk").values_list("pk", flat=True))
        return Response({"window": obj.pk, "drawn": result, "draws": ids})


@extend_schema_view(
    post=extend_schema(
        summary="Stagger the selection windows of a district's schools",
        description=(
            "The district bureau publishes a window for every grade of every joined school, each school opening "
            "`step_minutes` after the one before (in school-code order), each open `length_minutes`. A grade that "
            "already has an overlapping window is skipped. `invalid_step`, `invalid_length`, `window_in_past`, "
            "`unknown_term`; 403 `not_district_admin` for the city bureau."
        ),
        request=StaggerSerializer,
        responses={201: StaggerResultSerializer, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND},
    )
)
class DistrictStaggerView(ActionView):
    body = StaggerSerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        return Region.objects.exclude(kind=Region.Kind.CITY)

    def act(self, obj: Region, values: dict[str, Any], *, actor: Any, now: datetime) -> Any:
        term = selectors.term_named(term_id=values.pop("term"))
        return windows.windows_stagger(actor=actor, district=obj, term=term, now=now, **values)

    def answer(self, obj: Region, result: Any) -> Response:
        body = {
            "created": result.created,
            "skipped": result.skipped,
            "schools": result.schools,
            "last_opens_at": timezone.localtime(result.last_opens_at),
        }
        return Response(StaggerResultSerializer(body).data, status=status.HTTP_201_CREATED)
