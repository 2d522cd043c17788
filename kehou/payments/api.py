"""API of orders, paying through a channel, refund quotes and requests, the school's refund decisions, refund
policies and the channels a parent may choose.

Every read goes through :class:`~kehou.core.api.ScopeGuard` (``select(scope)``; a row outside the caller's scope is
the same 404 as a missing one); action views fetch their row through the scope before they read the body; every
write is one service call (``services.orders``, ``services.refunds``) whose error codes are the services'. Creating
an order and asking for a refund take the client's ``Idempotency-Key``. The channels' notify endpoints and the city's
notification log are in ``api_notify``; the reconciliation report in ``api_reconciliation``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from kehou.core import clock
from kehou.core.api import (
    ERRORS,
    NOT_FOUND,
    ActionView,
    ScopedObjectView,
    ScopedReadOnlyViewSet,
    ScopeGuard,
    parsed,
    query_int,
    request_key,
)
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import KehouError
from kehou.core.scope import Scope
from kehou.orgs.api import RegionalStandardView
from kehou.orgs.models import Region

from . import selectors
from .models import Channel, Order, Refund, RefundPolicy
from .serializers import (
    ChannelSerializer,
    OrderCreateSerializer,
    OrderDetailSerializer,
    OrderSerializer,
    OrderTotalsSerializer,
    PayResultSerializer,
    PaySerializer,
    PolicySetSerializer,
    QuoteSerializer,
    RefundDecideSerializer,
    RefundPolicySerializer,
    RefundRequestResultSerializer,
    RefundRequestSerializer,
    RefundSerializer,
    RefundTotalsSerializer,
    local_time,
)
from .services import orders, refunds

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="8–64 of A–Z a–z 0–9 - _ . : (required here or as `request_key` in the body)",
)


def query_date(request: Request, name: str) -> Any:
    """A date filter (YYYY-MM-DD): None when absent; 400 ``invalid_date`` when unreadable."""
    from datetime import date

    value = request.query_params.get(name, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise KehouError(_("Give the date as YYYY-MM-DD."), code=ErrorCode.INVALID_DATE, fields={name: value}) from None


def query_choice(request: Request, name: str, choices: Any) -> str:
    """A filter that is one of the choices, or no filter."""
    value = request.query_params.get(name, "").strip()
    return value if value in choices else ""


def _order_response(scope: Scope, pk: int, status_code: int = 200) -> Response:
    order = selectors.order_in_scope(scope=scope, pk=pk)
    return Response(OrderDetailSerializer(order, context={"scope": scope}).data, status=status_code)


# --- channels ----------------------------------------------------------------------------------------------------
class ChannelListView(ScopeGuard, generics.GenericAPIView):  # type: ignore[type-arg]
    """The configured channels: no rows of anyone's."""

    dangerously_unscoped = True
    pagination_class = None

    @extend_schema(
        summary="The payment channels a parent may choose",
        description="The channels enabled here (`KEHOU_PAYMENT_CHANNELS`), in the configured order, with names.",
        responses={200: ChannelSerializer(many=True)},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(ChannelSerializer(selectors.channels_to_choose(), many=True).data)


# --- orders ------------------------------------------------------------------------------------------------------
ORDER_FILTERS = [
    OpenApiParameter("school", int, description="school id"),
    OpenApiParameter("district", str, description="district code"),
    OpenApiParameter("pupil", int, description="pupil id"),
    OpenApiParameter("status", str, enum=list(selectors.State.ALL), description="the derived state"),
    OpenApiParameter("channel", str, enum=Channel.values),
    OpenApiParameter("paid_from", OpenApiTypes.DATE, description="paid on or after this local day"),
    OpenApiParameter("paid_to", OpenApiTypes.DATE, description="paid on or before this local day"),
    OpenApiParameter("search", str, description="order number (its start) or pupil name (contains)"),
]


@extend_schema_view(
    list=extend_schema(
        summary="Orders in the caller's scope, with totals",
        description=(
            "A parent sees their children's orders; a school its own; a district bureau its schools'; the city "
            "bureau all. `state` is derived: `pending` (awaiting payment), `paid`, `partially_refunded`, `refunded` "
            "(refunds requested and not failed or rejected, in progress included), `closed` (unpaid when its hold "
            "expired). `totals` (`count`, `paid_fen`, `refunded_fen`) cover every order the filters keep, not only "
            "the page. Pupil names are masked for the bureaus and operators."
        ),
        parameters=ORDER_FILTERS,
        responses={
            200: OpenApiResponse(
                OrderSerializer(many=True),
                description="paginated (`count`, `next`, `previous`, `results`) with `totals` (OrderTotals)",
            )
        },
    ),
    retrieve=extend_schema(summary="One order with its lines, payment attempts and refunds"),
)
class OrderViewSet(ScopedReadOnlyViewSet):
    def get_serializer_class(self) -> type[Any]:
        return OrderDetailSerializer if self.action == "retrieve" else OrderSerializer

    def get_serializer_context(self) -> dict[str, Any]:
        return super().get_serializer_context() | {"scope": self.scope}

    def select(self, scope: Scope) -> QuerySet[Any]:
        if self.action == "retrieve":
            return selectors.order_detail_queryset(scope=scope)
        p = self.request.query_params
        return selectors.order_list(
            scope=scope,
            school_id=query_int(self.request, "school"),
            district_code=p.get("district", "").strip(),
            pupil_id=query_int(self.request, "pupil"),
            state=query_choice(self.request, "status", selectors.State.ALL),
            channel=query_choice(self.request, "channel", Channel.values),
            paid_from=query_date(self.request, "paid_from"),
            paid_to=query_date(self.request, "paid_to"),
            search=p.get("search", "").strip(),
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.get_queryset()
        page = self.paginate_queryset(queryset)
        rows = list(queryset) if page is None else page
        data = OrderSerializer(rows, many=True, context=self.get_serializer_context()).data
        totals = OrderTotalsSerializer(selectors.order_totals(queryset)).data
        if page is None:
            return Response({"results": data, "totals": totals})
        response = self.get_paginated_response(data)
        response.data["totals"] = totals
        return response

    @extend_schema(
        summary="The order for a held seat (course fee, optional materials as a second line)",
        description=(
            "A guardian of the child whose seat it is. Send a client-made key in `Idempotency-Key` (or "
            "`request_key`): the same key again answers 200 with the same order and writes nothing (409 "
            "`request_key_reused` if it named another seat); one order per seat, so a second key for the same seat "
            "also answers 200 with the first order. A zero total (a hardship waiver) is paid at once "
            "(`state` `paid`, channel `waiver`) and the seat confirmed. Codes: 400 `request_key_required`, "
            "`request_key_invalid`, `request_key_mismatch`; 409 `no_held_seat`, `request_key_reused`; 404 for a seat "
            "that is not the caller's child's."
        ),
        parameters=[IDEMPOTENCY_KEY],
        request=OrderCreateSerializer,
        responses={
            201: OrderDetailSerializer,
            200: OpenApiResponse(OrderDetailSerializer, description="a retry, or the seat's existing order"),
            400: ERRORS,
            404: NOT_FOUND,
            409: ERRORS,
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        v = parsed(request, OrderCreateSerializer)
        key = request_key(request, v["request_key"])
        order, created = orders.order_create(
            actor=request.user,
            enrolment_id=v["enrolment"],
            include_materials=v["include_materials"],
            request_key=key,
            now=clock.now(),
        )
        return _order_response(self.scope, order.pk, status.HTTP_201_CREATED if created else status.HTTP_200_OK)


@extend_schema_view(
    post=extend_schema(
        summary="Start paying a pending order through a channel",
        description=(
            "The payer (or another guardian of the child). Answers what the page needs to pay: `start.kind` "
            "`redirect` (open `start.url`) or `jsapi` (call the wallet with `start.params`). The same channel again "
            "reuses the open attempt (`openid` names the payer inside WeChat; else the client's address goes to the "
            "channel); switching channel closes the earlier attempt first, so the order cannot be "
            "paid twice. The payment itself arrives as the channel's notification. Codes: 400 "
            "`channel_unavailable`; 409 `order_not_pending`, `hold_expired`; 404 for anyone but the child's "
            "guardians."
        ),
        request=PaySerializer,
        responses={200: PayResultSerializer, 400: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
)
class OrderPayView(ActionView):
    body = PaySerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        return selectors.orders_for_action()

    def act(self, obj: Order, values: dict[str, Any], *, actor: Any, now: datetime) -> Any:
        payer_ref = f"openid:{values['openid']}" if values.get("openid") else ""
        return orders.payment_start(actor=actor, order=obj, channel=values["channel"], payer_ref=payer_ref, now=now)

    def answer(self, obj: Order, result: Any) -> Response:
        attempt, start = result
        body = {
            "attempt": attempt.pk,
            "channel": attempt.channel,
            "out_trade_no": attempt.out_trade_no,
            "amount_fen": attempt.amount_fen,
            "expires_at": local_time(obj.expires_at),
            "start": {"kind": start.kind, "url": start.url, "params": dict(start.params)},
        }
        return Response(PayResultSerializer(body).data)


class OrderRefundQuoteView(ScopedObjectView):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return selectors.orders_for_action()

    @extend_schema(
        summary="What cancelling a paid order now would refund, and why",
        description=(
            "Before the first session the whole course fee; after it, by the refund policy (the district's, else "
            "the city's: pro rata to the sessions not yet held, or tiered, nothing after the deadline), never more "
            "than is left unrefunded. Materials until handed out. `basis` says how (`sessions_total`, "
            "`sessions_held`, `rule`); `needs_approval` when the school approves first. 409 `order_not_paid`."
        ),
        responses={200: QuoteSerializer, 404: NOT_FOUND, 409: ERRORS},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        order = self.get_object()
        q = selectors.refund_quote(order=order, now=clock.now())
        body = {
            "order": order.pk,
            "course_fen": q.course_fen,
            "materials_fen": q.materials_fen,
            "amount_fen": q.amount_fen,
            "refundable_fen": order.refundable_fen,
            "needs_approval": q.needs_approval,
            "basis": q.basis,
        }
        return Response(QuoteSerializer(body).data)


class OrderRefundView(ScopedObjectView):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return selectors.orders_for_action()

    @extend_schema(
        summary="Cancel a paid place and refund what the policy gives back",
        description=(
            "A guardian of the child, or the school. The seat is freed at once (the waitlist moves up) and the "
            "quoted amount goes back through the channel the order was paid with — at once, or after the school "
            "approves (`pending_approval`) when the policy says so. The refund's final state comes from the "
            "channel. Send a client-made key in `Idempotency-Key` (or `request_key`): the same key again answers "
            "200 with the first refund. `refund` is null when nothing was refundable. Codes: 409 `order_not_paid`, "
            "`refund_exceeds_paid`, `request_key_reused`; 400 `request_key_required`, `request_key_invalid`, "
            "`request_key_mismatch`; 403 `not_guardian` for others who may see the order (a bureau)."
        ),
        parameters=[IDEMPOTENCY_KEY],
        request=RefundRequestSerializer,
        responses={
            201: RefundRequestResultSerializer,
            200: OpenApiResponse(RefundRequestResultSerializer, description="a retry with the same key"),
            400: ERRORS,
            403: ERRORS,
            404: NOT_FOUND,
            409: ERRORS,
        },
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        order = self.get_object()
        v = self.parsed(RefundRequestSerializer)
        key = request_key(request, v["request_key"])
        refund, created = refunds.refund_request(
            actor=request.user, order=order, request_key=key, reason=v["reason"], now=clock.now()
        )
        scope = self.scope
        fresh = selectors.order_in_scope(scope=scope, pk=order.pk)
        context = {"scope": scope}
        body = {
            "created": created,
            "refund": None if refund is None else RefundSerializer(refund, context=context).data,
            "order": OrderDetailSerializer(fresh, context=context).data,
        }
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


# --- refunds -----------------------------------------------------------------------------------------------------
@extend_schema_view(
    list=extend_schema(
        summary="Refunds in the caller's scope, with totals",
        description=(
            "`pending_approval` (awaiting the school), `processing` (with the channel), `succeeded`, `failed` (the "
            "amount went back to the prepayments), `rejected` (by the school). `stray` refunds give back a second "
            "payment of an already paid order. `totals` cover every refund the filters keep."
        ),
        parameters=[
            OpenApiParameter("school", int, description="school id"),
            OpenApiParameter("district", str, description="district code"),
            OpenApiParameter("order", int, description="order id"),
            OpenApiParameter("status", str, enum=Refund.Status.values),
            OpenApiParameter("channel", str, enum=Channel.values),
            OpenApiParameter("requested_from", OpenApiTypes.DATE),
            OpenApiParameter("requested_to", OpenApiTypes.DATE),
            OpenApiParameter("search", str, description="refund or order number (its start) or pupil name"),
        ],
        responses={
            200: OpenApiResponse(RefundSerializer(many=True), description="paginated, with `totals` (RefundTotals)")
        },
    ),
    retrieve=extend_schema(summary="One refund"),
)
class RefundViewSet(ScopedReadOnlyViewSet):
    serializer_class = RefundSerializer

    def get_serializer_context(self) -> dict[str, Any]:
        return super().get_serializer_context() | {"scope": self.scope}

    def select(self, scope: Scope) -> QuerySet[Any]:
        p = self.request.query_params
        return selectors.refund_list(
            scope=scope,
            school_id=query_int(self.request, "school"),
            district_code=p.get("district", "").strip(),
            order_id=query_int(self.request, "order"),
            status=query_choice(self.request, "status", Refund.Status.values),
            channel=query_choice(self.request, "channel", Channel.values),
            requested_from=query_date(self.request, "requested_from"),
            requested_to=query_date(self.request, "requested_to"),
            search=p.get("search", "").strip(),
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.get_queryset()
        page = self.paginate_queryset(queryset)
        rows = list(queryset) if page is None else page
        data = RefundSerializer(rows, many=True, context=self.get_serializer_context()).data
        totals = RefundTotalsSerializer(selectors.refund_totals(queryset)).data
        if page is None:
            return Response({"results": data, "totals": totals})
        response = self.get_paginated_response(data)
        response.data["totals"] = totals
        return response


@extend_schema_view(
    post=extend_schema(
        summary="Approve or reject a refund awaiting the school",
        description=(
            "An administrator of the order's school. Approved, it goes to the channel; rejected, the amount goes "
            "back to the prepayments (the place stays cancelled). 409 `refund_decided` the second time; 403 "
            "`not_school_admin` for others who may see it."
        ),
        request=RefundDecideSerializer,
        responses={200: RefundSerializer, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
)
class RefundDecideView(ActionView):
    body = RefundDecideSerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        return selectors.refunds_for_action()

    def act(self, obj: Refund, values: dict[str, Any], *, actor: Any, now: datetime) -> Any:
        return refunds.refund_decide(actor=actor, refund=obj, approve=values["approve"], now=now)

    def answer(self, obj: Refund, result: Any) -> Response:
        fresh = selectors.refund_list(scope=self.scope).get(pk=obj.pk)
        return Response(RefundSerializer(fresh, context={"scope": self.scope}).data)


# --- refund policies ---------------------------------------------------------------------------------------------
@extend_schema_view(
    get=extend_schema(
        summary="Refund policies: the city's default and the districts' overrides",
        description=(
            "Before the first session the whole course fee is refunded. After it, `after_start` decides: "
            "`pro_rata` refunds the sessions not yet held; `tiered` multiplies that by the `percent` of the first "
            "tier whose `held_upto` (fraction of the sessions held) is not exceeded. Once more than "
            "`no_refund_after` of the sessions are held, no course fee is refunded. `approval_after_start` sends "
            "refunds after the start to the school first. A district without its own policy follows the city's."
        ),
    ),
    post=extend_schema(
        summary="Set the refund policy of the city (its default) or of a district (its override)",
        description=(
            "The city bureau for the city, a district bureau for its own district. Codes: `invalid_rule`, "
            "`invalid_tiers`, `invalid_deadline`, `unknown_region`, `region_required`; 403 for others."
        ),
        request=PolicySetSerializer,
        responses={200: RefundPolicySerializer, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND},
    ),
)
class RefundPolicyListView(RegionalStandardView):
    serializer_class = RefundPolicySerializer
    input_serializer = PolicySetSerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        return selectors.policy_list(scope=scope)

    def save(self, *, region: Region, values: dict[str, Any], now: datetime) -> RefundPolicy:
        return refunds.policy_set(
            actor=self.request.user,
            region=region,
            after_start=values["after_start"],
            tiers=[dict(t) for t in values["tiers"]],
            no_refund_after=values["no_refund_after"],
            approval_after_start=values["approval_after_start"],
            now=now,
        )
