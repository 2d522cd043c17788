"""API of the notification centre: one's own notifications, and marking them read."""

from __future__ import annotations

import json
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kehou.core import clock
from kehou.core.api import ERRORS, ScopedListAPIView, ScopeGuard, parsed
from kehou.core.scope import Scope

from . import events, selectors
from .serializers import NotificationReadResultSerializer, NotificationReadSerializer, NotificationSerializer
from .services import mark_read


# --- notifications -----------------------------------------------------------------------------------------------
@extend_schema(
    summary="The caller's own notifications, newest first",
    parameters=[OpenApiParameter("unread", str, enum=["1"])],
)
class NotificationListView(ScopedListAPIView):
    serializer_class = NotificationSerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        return selectors.notification_list(
            user=self.request.user, unread=self.request.query_params.get("unread") == "1"
        )


class NotificationReadView(ScopeGuard, generics.GenericAPIView):  # type: ignore[type-arg]
    def select(self, scope: Scope) -> QuerySet[Any]:
        return selectors.notification_list(user=self.request.user)

    @extend_schema(
        summary="Mark the caller's notifications read (the ones named, or all)",
        request=NotificationReadSerializer,
        responses={200: NotificationReadResultSerializer, 400: ERRORS},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        v = parsed(request, NotificationReadSerializer)
        marked = mark_read(user=request.user, ids=v.get("ids"), now=clock.now())
        return Response({"marked": marked})


# --- the live event stream ----------------------------------------------------------------------------------------
class EventStreamRenderer(BaseRenderer):
    media_type = "text/event-stream"
    format = "sse"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return json.dumps(data, ensure_ascii=False).encode() if data is not None else b""


@extend_schema(
    summary="The caller's live event stream (Server-Sent Events)",
    description=(
        "A `text/event-stream` of the caller's own events, each `id: <number>` and `data: <JSON>` whose `kind` says "
        "what it is (`comment`: `pupil`, `text`, `session`…; `notification`: `id`, `title`, `body`, `link`). "
        "Resume after a dropped connection with the `Last-Event-ID` header (or `last_event_id`): every event after "
        "that number is sent, none twice. `topic=session:<id>` (up to five) adds that session's roll-call counts "
        "as they change (events without an `id`, kind `roll_call`). A comment line is sent as a heartbeat after "
        "15 s of silence. Under the ASGI server the stream stays open; under WSGI it sends what is waiting and "
        "ends, and `EventSource` reconnects by itself after the `retry` it was given. Authenticated by the session "
        "or a bearer token."
    ),
    parameters=[
        OpenApiParameter(
            "last_event_id",
            {"type": "integer", "minimum": 0, "maximum": 2**63 - 1},
            description="resume after this event number (the `Last-Event-ID` header wins)",
        ),
        OpenApiParameter(
            "topic",
            {
                "type": "array",
                "maxItems": events.MAX_TOPICS,
                "items": {"type": "string", "pattern": r"^session:[1-9][0-9]{0,17}$"},
            },
            description="`session:<id>`: follow that session's roll call and check-in (at most five)",
        ),
    ],
    responses={
        (200, "text/event-stream"): OpenApiResponse(OpenApiTypes.STR, description="the stream"),
        400: ERRORS,
        401: ERRORS,
        404: ERRORS,
    },
)
class EventStreamView(APIView):
    renderer_classes = [JSONRenderer, EventStreamRenderer]
    dangerously_unscoped = True  # reads only the caller's own events; a topic is checked by its owner's rule

    def get(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        from kehou.core.errors import error_body

        try:
            after, topics = events.parse_stream_params(
                request.headers.get("Last-Event-ID"),
                request.query_params.getlist("topic"),
                query_last_event_id=request.query_params.get("last_event_id"),
            )
            events.allowed_topics(int(request.user.pk or 0), topics)
        except events.StreamError as err:
            return HttpResponse(
                json.dumps(error_body(err.code, err.message), ensure_ascii=False),
                status=err.status,
                content_type="application/json",
            )
        body = [f"retry: {int(events.rules()['RETRY_MS'])}\n\n".encode()]
        if after is not None:
            waiting = events.events_after(int(request.user.pk or 0), after, 200)
            body += [events.frame(seq, data) for seq, data in waiting]
        response = HttpResponse(b"".join(body), content_type="text/event-stream; charset=utf-8")
        response["Cache-Control"] = "no-store"
        return response
