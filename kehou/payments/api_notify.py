"""The channels' notify endpoints (public: the channel proves itself by its signature, not by a login) and the
city bureau's log of every notification received.

``POST /api/v1/payments/notify/<channel>`` hands the raw body and the headers to
:func:`kehou.payments.services.notifications.notification_receive` (verify, match, apply once, log, alert) and answers
with the channel's own acknowledgement. It never answers 500 for what a caller sends: a body the channel cannot
verify is recorded as rejected with an alert and answered with the channel's failure; an oversized body is refused
before it is read.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import permissions
from rest_framework.parsers import BaseParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kehou.core import clock
from kehou.core.api import ScopedReadOnlyViewSet, query_int
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import KehouError, NotFound, error_response
from kehou.core.scope import Scope

from . import selectors
from .api import query_choice, query_date
from .channels import GATEWAYS, enabled_channels
from .models import Channel, ChannelNotification
from .serializers import (
    ChannelNotificationDetailSerializer,
    ChannelNotificationSerializer,
    ChannelNotificationTotalsSerializer,
)
from .services.notifications import notification_receive

log = logging.getLogger("kehou.payments")

# A channel's notification is a few kilobytes (WeChat Pay's encrypted resource, Alipay's form); anything much
# larger is not one. Refused (413) before it is read, below the API's general body limit.
NOTIFY_MAX_BYTES = 64 * 1024


class _RawBody(BaseParser):
    """Declares every media type acceptable; the view reads ``request.body`` itself and never ``request.data``."""

    media_type = "*/*"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        return {}  # pragma: no cover - the view does not read request.data


# What WeChat Pay v3, the simulator and 赣服通 are answered: {"code": "SUCCESS" | "FAIL", "message": …}.
_CHANNEL_ANSWER = {
    "type": "object",
    "properties": {"code": {"type": "string", "enum": ["SUCCESS", "FAIL"]}, "message": {"type": "string"}},
    "required": ["code", "message"],
}


class NotifyView(APIView):
    """Public: no session, no token, no CSRF (a channel's server calls it); the signature is the proof."""

    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny]
    parser_classes = [_RawBody]
    throttle_classes: list[Any] = []

    @extend_schema(
        summary="A payment channel's notification (called by the channel, not by people)",
        description=(
            "`channel` is one of the enabled channels (`simulator`, `wechat`, `alipay`, `ganfutong`; others 404 "
            "`not_found`). The raw body and headers are verified the channel's way (WeChat Pay v3 / simulator: "
            "`Wechatpay-Signature` over timestamp, nonce and body by the platform key of `Wechatpay-Serial`, "
            "timestamp within 5 minutes, resource decrypted with AES-256-GCM; Alipay: RSA2 over the sorted form; "
            "赣服通: RSA2 over the sorted JSON), then matched against our order (merchant, trade number, amount) and "
            "applied once. The answer is the channel's own acknowledgement: WeChat Pay and the simulator 204 on "
            "success and 4xx JSON `{code: FAIL}` otherwise; Alipay `success` / `fail` text; 赣服通 its JSON. A "
            "duplicate is answered as success and changes nothing; a forged, stale, replayed or mismatching "
            "notification changes nothing, is recorded as `rejected` and raises an alert for the city bureau (one per "
            "channel and reason per 15 minutes, counting the rest); past 20 rejected a minute from one address (200 "
            "from everyone) the further ones are counted (`repeats`) in one truncated row instead of stored in full. "
            f"Bodies over {NOTIFY_MAX_BYTES // 1024} KiB: 413 `body_too_large`; a channel enabled without its keys: "
            "400 `channel_unavailable`."
        ),
        parameters=[OpenApiParameter("channel", str, OpenApiParameter.PATH, enum=list(GATEWAYS))],
        request={"*/*": OpenApiTypes.BINARY},
        responses={
            204: OpenApiResponse(description="accepted (WeChat Pay v3, simulator)"),
            (200, "application/json"): OpenApiResponse(_CHANNEL_ANSWER, description="accepted (赣服通: `SUCCESS`)"),
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="accepted (Alipay: `success`)"),
            (400, "application/json"): OpenApiResponse(
                {"oneOf": [_CHANNEL_ANSWER, {"$ref": "#/components/schemas/Error"}]},
                description="rejected: the channel's failure answer (`FAIL`), or `channel_unavailable`",
            ),
            (400, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="rejected (Alipay: `fail`)"),
            404: OpenApiResponse(description="`not_found`: no such channel enabled here"),
            413: OpenApiResponse(description="`body_too_large`"),
            503: OpenApiResponse(description="`channel_not_configured`: the channel is enabled without its keys"),
        },
        auth=[],
    )
    def post(self, request: Request, channel: str) -> HttpResponse:
        if channel not in enabled_channels():
            raise NotFound(_("Not found."))
        raw = request._request
        try:
            declared = int(raw.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > NOTIFY_MAX_BYTES:
            return error_response(ErrorCode.BODY_TOO_LARGE, _("The request body is too large."), 413)
        body = raw.read(NOTIFY_MAX_BYTES + 1)
        if len(body) > NOTIFY_MAX_BYTES:
            return error_response(ErrorCode.BODY_TOO_LARGE, _("The request body is too large."), 413)
        try:
            received = notification_receive(channel=channel, headers=raw.headers, body=body, now=clock.now())
        except ImproperlyConfigured:
            log.warning("payment notification for channel %s: the channel is not configured", channel)
            return error_response(ErrorCode.CHANNEL_NOT_CONFIGURED, _("This payment channel is not configured."), 503)
        except KehouError as exc:
            return error_response(exc.code, exc.message, exc.status, exc.fields)
        ack = received.ack
        return HttpResponse(ack.body, status=ack.status, content_type=ack.content_type)


# --- the log -----------------------------------------------------------------------------------------------------
@extend_schema_view(
    list=extend_schema(
        summary="Payment channels' notifications as received (the city bureau's log)",
        description=(
            "Every notification a channel sent, with what was done with it: `applied`, `duplicate`, "
            "`late_refunded` (paid after the order closed: refunded whole) or `rejected` (with `reason`: "
            "`bad_signature`, `unknown_serial`, `stale_timestamp`, `malformed`, `merchant_mismatch`, "
            "`unknown_trade`, `amount_mismatch`, `unverifiable`, …); `source_ip`, and `truncated` rows that stand for "
            "`repeats` more like them. `alert=1` keeps the security alerts. A rejected notification "
            "that names no order of ours is seen only by the city bureau; schools and districts see those of their "
            "orders. `totals`: `count`, `alerts`."
        ),
        parameters=[
            OpenApiParameter("channel", str, enum=Channel.values),
            OpenApiParameter("outcome", str, enum=ChannelNotification.Outcome.values),
            OpenApiParameter("alert", str, enum=["1"]),
            OpenApiParameter("order", int, description="order id"),
            OpenApiParameter("received_from", OpenApiTypes.DATE),
            OpenApiParameter("received_to", OpenApiTypes.DATE),
        ],
        responses={
            200: OpenApiResponse(
                ChannelNotificationSerializer(many=True),
                description="paginated, with `totals` (ChannelNotificationTotals)",
            )
        },
    ),
    retrieve=extend_schema(summary="One notification with the headers kept and the body as received"),
)
class PaymentNotificationViewSet(ScopedReadOnlyViewSet):
    def get_serializer_class(self) -> type[Any]:
        return ChannelNotificationDetailSerializer if self.action == "retrieve" else ChannelNotificationSerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        return selectors.notification_list(
            scope=scope,
            channel=query_choice(self.request, "channel", Channel.values),
            outcome=query_choice(self.request, "outcome", ChannelNotification.Outcome.values),
            alert=self.request.query_params.get("alert", "") == "1",
            order_id=query_int(self.request, "order"),
            received_from=query_date(self.request, "received_from"),
            received_to=query_date(self.request, "received_to"),
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.get_queryset()
        page = self.paginate_queryset(queryset)
        rows = list(queryset) if page is None else page
        data = ChannelNotificationSerializer(rows, many=True).data
        totals = ChannelNotificationTotalsSerializer(selectors.notification_totals(queryset)).data
        if page is None:
            return Response({"results": data, "totals": totals})
        response = self.get_paginated_response(data)
        response.data["totals"] = totals
        return response
