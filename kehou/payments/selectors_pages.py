"""Reads the payment pages need beyond :mod:`kehou.payments.selectors`: a family's own orders, where a pending
payment stands, the simulator cashier's trade, the policies a viewer is shown, the ledger for the city and for a
school or district. Every read of a scoped row goes through the caller's scope."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, QuerySet

from kehou.core.scope import Scope
from kehou.enrolment.models import Enrolment
from kehou.ledger import selectors as ledger_selectors
from kehou.orgs.models import Region

from .models import Order, OrderLine, PaymentAttempt, Refund, RefundPolicy, SimulatorTrade
from .selectors import State, order_state

REFUND_REQUESTED = "refund_requested"  # a refund awaits the school's approval
REFUNDING = "refunding"  # a refund is with the channel


def family_orders(*, user: Any) -> QuerySet[Order]:
    """The orders of the children a person is a guardian of (the scope is applied on top by the page)."""
    return (
        Order.objects.filter(pupil__guardians__user=user)
        .select_related("school", "pupil", "enrolment__course_class")
        .prefetch_related(Prefetch("refunds", queryset=Refund.objects.order_by("requested_at", "pk")))
        .distinct()
        .order_by("-created_at", "-pk")
    )


@dataclass(frozen=True)
class RefundProgress:
    """Where an order's money stands for the person who paid, from its refunds' own states (``Order.refunded_fen``
    counts what is reserved for refunds, in progress included; this counts only what is back with the payer).
    ``state`` is the order's :func:`~kehou.payments.selectors.order_state`, except that an order with a refund in
    progress is ``refund_requested`` (awaiting the school) or ``refunding`` (with the channel), and ``paid``,
    ``partially_refunded`` or ``refunded`` follow the refunds that succeeded. Failed and rejected refunds moved no
    money."""

    state: str
    refunded_fen: int = 0  # back with the payer
    refunding_fen: int = 0  # with the channel
    requested_fen: int = 0  # awaiting the school's approval
    # per line kind: (refunded, in progress)
    lines: dict[str, tuple[int, int]] = field(default_factory=dict)


def refund_progress(order: Order) -> RefundProgress:
    """:class:`RefundProgress` of an order (its refunds prefetched). A second payment refunded whole (``stray``) is
    not the order's money and is left out."""
    state = order_state(order)
    if state in (State.PENDING, State.CLOSED):
        return RefundProgress(state=state)
    sums = {status: 0 for status in Refund.Status.values}
    lines = {OrderLine.Kind.COURSE.value: [0, 0], OrderLine.Kind.MATERIALS.value: [0, 0]}
    for refund in order.refunds.all():
        if refund.stray or refund.status in (Refund.Status.FAILED, Refund.Status.REJECTED):
            continue
        sums[refund.status] += refund.amount_fen
        at = 0 if refund.status == Refund.Status.SUCCEEDED else 1
        lines[OrderLine.Kind.COURSE][at] += refund.course_fen
        lines[OrderLine.Kind.MATERIALS][at] += refund.materials_fen
    refunded = sums[Refund.Status.SUCCEEDED]
    if sums[Refund.Status.PENDING_APPROVAL]:
        state = REFUND_REQUESTED
    elif sums[Refund.Status.PROCESSING]:
        state = REFUNDING
    elif refunded == 0:
        state = State.PAID
    elif refunded < order.paid_fen:
        state = State.PARTIALLY_REFUNDED
    else:
        state = State.REFUNDED
    return RefundProgress(
        state=state,
        refunded_fen=refunded,
        refunding_fen=sums[Refund.Status.PROCESSING],
        requested_fen=sums[Refund.Status.PENDING_APPROVAL],
        lines={kind: (done, going) for kind, (done, going) in lines.items()},
    )


def enrolments_to_pay() -> QuerySet[Enrolment]:
    """What the pay page reads (through the scope): the place, its class and school, and its order if any."""
    return Enrolment.objects.select_related(
        "pupil", "course_class", "course_class__school", "course_class__teacher__user"
    )


def order_of_enrolment(enrolment: Enrolment) -> Order | None:
    return Order.objects.filter(enrolment=enrolment).prefetch_related("lines", "attempts").first()


def paid_orders_by_enrolment(enrolment_ids: list[int]) -> dict[int, int]:
    """{enrolment id: order id} of the places among these that have a paid order."""
    rows = Order.objects.filter(enrolment_id__in=enrolment_ids, status=Order.Status.PAID, paid_fen__gt=0)
    return dict(rows.values_list("enrolment_id", "pk"))


def payment_progress(order: Order) -> str:
    """Where a pending order stands: ``awaiting_confirmation`` when the payer has paid at the channel (the
    simulator says so) and its notification has not arrived yet; ``awaiting_payment`` otherwise; "" when the order
    is no longer pending."""
    if order.status != Order.Status.PENDING:
        return ""
    open_trades = [a.out_trade_no for a in order.attempts.all() if a.status == PaymentAttempt.Status.CREATED]
    if (
        open_trades
        and SimulatorTrade.objects.filter(kind="payment", out_trade_no__in=open_trades, status="paid").exists()
    ):
        return "awaiting_confirmation"
    return "awaiting_payment"


def attempts_for_cashier() -> QuerySet[PaymentAttempt]:
    return PaymentAttempt.objects.select_related("order", "order__school", "order__pupil")


def simulator_trade(out_trade_no: str) -> SimulatorTrade | None:
    return SimulatorTrade.objects.filter(kind="payment", out_trade_no=out_trade_no).first()


def policies_shown(*, scope: Scope) -> list[RefundPolicy]:
    """The city's policy and the districts' overrides the viewer's scope reaches (the city bureau: all)."""
    qs = scope.filter(RefundPolicy.objects.select_related("region")).order_by("region__kind", "region__code")
    if scope.everything:
        return list(qs)
    return [p for p in qs if p.region.kind == Region.Kind.CITY or p.region_id in scope.district_ids]


def policy_regions(*, scope: Scope) -> list[Region]:
    """The regions whose policy the viewer may set: the city (the city bureau) and the districts they administer."""
    regions: list[Region] = []
    if scope.everything:
        regions += list(Region.objects.filter(kind=Region.Kind.CITY))
        regions += list(Region.objects.filter(kind=Region.Kind.DISTRICT).order_by("code"))
    elif scope.district_ids:
        regions += list(Region.objects.filter(pk__in=scope.district_ids).order_by("code"))
    return regions


def ledger_view(*, scope: Scope, limit: int = 50) -> dict[str, Any]:
    """The ledger as a viewer may read it: account balances (the city bureau: every account; a district or school:
    their prepayment accounts), the recent transactions with their postings, and for the city bureau the result of
    :func:`kehou.ledger.selectors.verify` and the funds in custody."""
    accounts = ledger_selectors.account_balances(ledger_selectors.account_list(scope=scope))
    transactions = list(ledger_selectors.transaction_list(scope=scope)[:limit])
    verification = ledger_selectors.verify() if scope.everything else None
    return {"accounts": accounts, "transactions": transactions, "verification": verification}
