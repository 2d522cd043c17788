"""API of the notification centre: one's own notifications, and marking them read."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response

from kehou.core import clock
from kehou.core.api import ERRORS, ScopedListAPIView, ScopeGuard, parsed
from kehou.core.scope import Scope

from . import selectors
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
