"""Reads of orders, refunds, channel notifications and refund policies, always through a scope (DESIGN.md rule 1):
a parent sees their own children's orders, a school its own, a district its schools', the city bureau all. Lists
take filters and come with totals over everything the filters keep (not just one page). The reconciliation report
is read through :mod:`kehou.payments.selectors_reconciliation`."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from kehou.core.error_codes import ErrorCode
from kehou.core.errors import Conflict, NotFound
from kehou.core.scope import Scope

from .channels import enabled_channels
from .models import Channel, ChannelNotification, Order, PaymentAttempt, Refund, RefundPolicy

SHANGHAI = ZoneInfo("Asia/Shanghai")


class State:
    """An order's state as a person reads it, derived from its status and counters."""

    PENDING = "pending"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    CLOSED = "closed"
    ALL = (PENDING, PAID, PARTIALLY_REFUNDED, REFUNDED, CLOSED)


def order_state(order: Order) -> str:
    """``pending`` (awaiting payment), ``closed`` (unpaid when its hold expired), else by the refunds requested and
    not failed or rejected: ``paid``, ``partially_refunded`` or ``refunded`` (everything paid is refunded or being
    refunded). A fee-waived order (paid 0) is ``paid``."""
    if order.status == Order.Status.PENDING:
        return State.PENDING
    if order.status == Order.Status.CLOSED:
        return State.CLOSED
    if order.refunded_fen == 0:
        return State.PAID
    if order.refunded_fen < order.paid_fen:
        return State.PARTIALLY_REFUNDED
    return State.REFUNDED


def _state_q(state: str) -> Q:
    if state == State.PENDING:
        return Q(status=Order.Status.PENDING)
    if state == State.CLOSED:
        return Q(status=Order.Status.CLOSED)
    paid = Q(status=Order.Status.PAID)
    if state == State.PAID:
        return paid & Q(refunded_fen=0)
    if state == State.PARTIALLY_REFUNDED:
        return paid & Q(refunded_fen__gt=0, refunded_fen__lt=F("paid_fen"))
    return paid & Q(refunded_fen__gt=0, refunded_fen=F("paid_fen"))


def day_start(day: date) -> datetime:
    """The start of a day in Asia/Shanghai (date filters are local days)."""
    return datetime.combine(day, time.min, tzinfo=SHANGHAI)


def _between(qs: QuerySet[Any], field: str, date_from: date | None, date_to: date | None) -> QuerySet[Any]:
    # The calendar's first and last days bound nothing (and their local midnights fall outside it in UTC: a 500)
    if date_from and date_from > date.min:
        qs = qs.filter(**{f"{field}__gte": day_start(date_from)})
    if date_to and date_to < date.max:
        qs = qs.filter(**{f"{field}__lt": day_start(date_to + timedelta(days=1))})
    return qs


# --- orders ------------------------------------------------------------------------------------------------------
def order_list(
    *,
    scope: Scope,
    school_id: int | None = None,
    district_code: str = "",
    state: str = "",
    channel: str = "",
    paid_from: date | None = None,
    paid_to: date | None = None,
    search: str = "",
    pupil_id: int | None = None,
) -> QuerySet[Order]:
    """Orders in the scope, newest first. ``state`` is a derived state (:func:`order_state`); ``paid_from`` /
    ``paid_to`` are local days (inclusive) of payment; ``search`` finds an order number (its start) or a pupil's
    name (contains)."""
    qs = scope.filter(Order.objects.select_related("school", "school__district", "pupil", "enrolment__course_class"))
    if school_id:
        qs = qs.filter(school_id=school_id)
    if district_code:
        qs = qs.filter(school__district__code=district_code)
    if state in State.ALL:
        qs = qs.filter(_state_q(state))
    if channel:
        qs = qs.filter(channel=channel)
    if pupil_id:
        qs = qs.filter(pupil_id=pupil_id)
    qs = _between(qs, "paid_at", paid_from, paid_to)
    if search:
        qs = qs.filter(Q(order_no__istartswith=search) | Q(pupil__name__contains=search))
    return qs.order_by("-created_at", "-pk")


def order_totals(orders: QuerySet[Order]) -> dict[str, int]:
    """How many orders, and what they were paid and refunded (refunds requested and not failed or rejected)."""
    figures = orders.order_by().aggregate(count=Count("pk"), paid=Sum("paid_fen"), refunded=Sum("refunded_fen"))
    return {
        "count": figures["count"] or 0,
        "paid_fen": figures["paid"] or 0,
        "refunded_fen": figures["refunded"] or 0,
    }


def order_detail_queryset(*, scope: Scope) -> QuerySet[Order]:
    """Orders in the scope with their lines, attempts and refunds (the detail's reads in a few queries)."""
    return scope.filter(
        Order.objects.select_related("school", "school__district", "pupil", "enrolment__course_class")
    ).prefetch_related(
        "lines",
        Prefetch("attempts", queryset=PaymentAttempt.objects.order_by("created_at", "pk")),
        Prefetch("refunds", queryset=Refund.objects.order_by("requested_at", "pk")),
    )


def order_in_scope(*, scope: Scope, pk: int) -> Order:
    order = order_detail_queryset(scope=scope).filter(pk=pk).first()
    if order is None:
        raise NotFound(_("Not found."))
    return order


def orders_for_action() -> QuerySet[Order]:
    """What the order action views read (through the scope) before they parse the body."""
    return Order.objects.select_related("school", "school__district", "pupil", "enrolment", "enrolment__course_class")


def refund_quote(*, order: Order, now: datetime) -> Any:
    """What cancelling a paid order now would refund (:func:`kehou.payments.services.refunds.quote`); an order
    that is not paid has nothing to refund (409 ``order_not_paid``, as a refund request would answer)."""
    from .services.refunds import quote

    if order.status != Order.Status.PAID:
        raise Conflict(
            _("Only a paid order can be refunded."), code=ErrorCode.ORDER_NOT_PAID, fields={"status": order.status}
        )
    return quote(order, now=now)


# --- refunds -----------------------------------------------------------------------------------------------------
def refund_list(
    *,
    scope: Scope,
    school_id: int | None = None,
    district_code: str = "",
    status: str = "",
    channel: str = "",
    order_id: int | None = None,
    requested_from: date | None = None,
    requested_to: date | None = None,
    search: str = "",
) -> QuerySet[Refund]:
    qs = scope.filter(
        Refund.objects.select_related("order", "order__school", "order__school__district", "order__pupil", "attempt")
    )
    if school_id:
        qs = qs.filter(order__school_id=school_id)
    if district_code:
        qs = qs.filter(order__school__district__code=district_code)
    if status in Refund.Status.values:
        qs = qs.filter(status=status)
    if channel:
        qs = qs.filter(channel=channel)
    if order_id:
        qs = qs.filter(order_id=order_id)
    qs = _between(qs, "requested_at", requested_from, requested_to)
    if search:
        qs = qs.filter(
            Q(refund_no__istartswith=search)
            | Q(order__order_no__istartswith=search)
            | Q(order__pupil__name__contains=search)
        )
    return qs.order_by("-requested_at", "-pk")


def refund_totals(refunds: QuerySet[Refund]) -> dict[str, int]:
    """How many refunds, what they ask for, and what has been refunded (succeeded)."""
    figures = refunds.order_by().aggregate(
        count=Count("pk"),
        amount=Sum("amount_fen"),
        succeeded=Sum("amount_fen", filter=Q(status=Refund.Status.SUCCEEDED)),
        in_progress=Sum("amount_fen", filter=Q(status__in=[Refund.Status.PROCESSING, Refund.Status.PENDING_APPROVAL])),
    )
    return {
        "count": figures["count"] or 0,
        "amount_fen": figures["amount"] or 0,
        "succeeded_fen": figures["succeeded"] or 0,
        "in_progress_fen": figures["in_progress"] or 0,
    }


def refunds_for_action() -> QuerySet[Refund]:
    return Refund.objects.select_related("order", "order__school", "attempt")


# --- channel notifications ---------------------------------------------------------------------------------------
def notification_list(
    *,
    scope: Scope,
    channel: str = "",
    outcome: str = "",
    alert: bool = False,
    order_id: int | None = None,
    received_from: date | None = None,
    received_to: date | None = None,
) -> QuerySet[ChannelNotification]:
    """The channels' notifications as received, newest first. A rejected notification that names no order of ours
    reaches no school: only the city bureau sees it."""
    qs = scope.filter(ChannelNotification.objects.select_related("order"))
    if channel:
        qs = qs.filter(channel=channel)
    if outcome in ChannelNotification.Outcome.values:
        qs = qs.filter(outcome=outcome)
    if alert:
        qs = qs.filter(alert=True)
    if order_id:
        qs = qs.filter(order_id=order_id)
    qs = _between(qs, "received_at", received_from, received_to)
    return qs.order_by("-received_at", "-pk")


def notification_totals(notifications: QuerySet[ChannelNotification]) -> dict[str, int]:
    figures = notifications.order_by().aggregate(count=Count("pk"), alerts=Count("pk", filter=Q(alert=True)))
    return {"count": figures["count"] or 0, "alerts": figures["alerts"] or 0}


# --- refund policies ---------------------------------------------------------------------------------------------
def policy_list(*, scope: Scope) -> QuerySet[RefundPolicy]:
    """The refund policies (reference data every signed-in role reads): the city's default first, then the
    districts' overrides by code."""
    return scope.filter(RefundPolicy.objects.select_related("region")).order_by("region__kind", "region__code")


# --- channels ----------------------------------------------------------------------------------------------------
def channels_to_choose() -> list[dict[str, str]]:
    """The channels a parent may pay through here (configured and enabled), with their names."""
    labels = dict(Channel.choices)
    return [{"code": code, "name": str(labels.get(code, code))} for code in enabled_channels() if code in labels]
