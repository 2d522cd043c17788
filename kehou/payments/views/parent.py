"""The parents' payment pages, phone first: the children's orders, a receipt, paying for a held place (the
optional materials, the channel), the simulator's cashier (the demo's stand-in for a channel's payment page), and
cancelling a paid place with its refund quote.

Every page reads its row through the scope (another family's order or place is a 404). The school and the bureaus
who may see a row read the same receipt and quote; only a guardian of the child pays, cancels or uses the cashier
(anyone else's POST is the same 404). Forms carry a request key made when the form was rendered, so a double tap
is one order and one refund (the services answer a repeated key with the first result).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehou.core import clock
from kehou.core.api import parse_id
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import KehouError
from kehou.core.pages import ScopedPage, local, yuan
from kehou.core.scope import Scope
from kehou.enrolment.models import Enrolment
from kehou.enrolment.views.common import schedule

from .. import selectors, selectors_pages
from ..channels import enabled_channels
from ..channels.simulator import MERCHANT_ID, SimulatorGateway
from ..forms import CashierForm, PayForm, RefundForm
from ..models import Channel, Order, OrderLine, PaymentAttempt, Refund
from ..services import orders as order_services
from ..services import refunds as refund_services
from ..services.ticker import simulator_deliver

STATE_LABELS = {
    selectors.State.PENDING: gettext_lazy("Awaiting payment"),
    selectors.State.PAID: gettext_lazy("Paid"),
    selectors.State.PARTIALLY_REFUNDED: gettext_lazy("Partially refunded"),
    selectors.State.REFUNDED: gettext_lazy("Refunded"),
    selectors.State.CLOSED: gettext_lazy("Closed unpaid"),
}
RULE_LABELS = {
    "before_start": gettext_lazy("Before the first session: the whole course fee"),
    "pro_rata": gettext_lazy("Pro rata to the sessions not yet held"),
    "tiered": gettext_lazy("Tiered by the share of sessions held"),
    "after_deadline": gettext_lazy("Past the refund deadline: no course fee refunded"),
}


# The parent's pages read an order's state from its refunds' own states (selectors_pages.refund_progress).
PAGE_STATE_LABELS = {
    **STATE_LABELS,
    selectors_pages.REFUND_REQUESTED: gettext_lazy("Refund requested: awaiting the school"),
    selectors_pages.REFUNDING: gettext_lazy("Refund with the channel"),
}


def refund_view(r: Refund) -> dict[str, Any]:
    basis = r.basis or {}
    return {
        "r": r,
        "amount": yuan(r.amount_fen),
        "course": yuan(r.course_fen),
        "materials": yuan(r.materials_fen),
        "status": r.status,
        "status_label": r.get_status_display(),
        "rule": str(RULE_LABELS.get(basis.get("rule", ""), basis.get("rule", ""))),
        "held": basis.get("sessions_held"),
        "total": basis.get("sessions_total"),
        "requested": local(r.requested_at),
        "finished": local(r.finished_at),
    }


def order_view(o: Order) -> dict[str, Any]:
    """An order as the parent's pages show it: the badge, the totals (what is back with the payer, what is with
    the channel, what awaits the school) from its refunds (prefetched)."""
    progress = selectors_pages.refund_progress(o)
    return {
        "o": o,
        "state": progress.state,
        "state_label": str(PAGE_STATE_LABELS.get(progress.state, progress.state)),
        "total": yuan(o.total_fen),
        "paid": yuan(o.paid_fen),
        "refunded_fen": progress.refunded_fen,
        "refunded": yuan(progress.refunded_fen),
        "refunding_fen": progress.refunding_fen,
        "refunding": yuan(progress.refunding_fen),
        "requested_fen": progress.requested_fen,
        "requested": yuan(progress.requested_fen),
        "line_refunds": progress.lines,
        "channel": o.get_channel_display() if o.channel else "",
        "created": local(o.created_at),
        "paid_at": local(o.paid_at),
    }


def _line_view(line: OrderLine, v: dict[str, Any]) -> dict[str, Any]:
    refunded, refunding = v["line_refunds"].get(line.kind, (0, 0))
    return {
        "line": line,
        "amount": yuan(line.amount_fen),
        "refunded_fen": refunded,
        "refunded": yuan(refunded),
        "refunding_fen": refunding,
        "refunding": yuan(refunding),
    }


def _guardian(scope: Scope, pupil_id: int) -> bool:
    return pupil_id in scope.pupil_ids


class OrdersPage(ScopedPage):
    """The children's orders, newest first."""

    title = gettext_lazy("Orders")
    template_name = "payments/parent_orders.html"
    http_method_names = ["get", "head", "options"]

    def select(self, scope: Scope) -> QuerySet[Any]:
        return selectors_pages.family_orders(user=self.request.user)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        orders = [order_view(o) for o in self.get_queryset()[:200]]
        return render(request, self.template_name, self.base_context() | {"orders": orders})


class ReceiptPage(ScopedPage):
    """One order: its lines, how and when it was paid (the channel's trade number), its refunds and their basis."""

    title = gettext_lazy("Receipt")
    template_name = "payments/receipt.html"
    http_method_names = ["get", "head", "options"]

    def select(self, scope: Scope) -> QuerySet[Any]:
        return selectors.order_detail_queryset(scope=scope)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            order = self.get_queryset().get(pk=self.kwargs["pk"])
        except (Order.DoesNotExist, ValueError, TypeError) as exc:
            raise Http404 from exc
        paid = next((a for a in order.attempts.all() if a.status == PaymentAttempt.Status.PAID), None)
        guardian = _guardian(self.scope, order.pupil_id)
        live = order.enrolment.status in (Enrolment.Status.HELD, Enrolment.Status.CONFIRMED)
        v = order_view(order)
        ctx = self.base_context() | {
            "title": _("Order %(no)s") % {"no": order.order_no},
            "v": v,
            "lines": [_line_view(line, v) for line in order.lines.all()],
            "paid_attempt": paid,
            "refunds": [refund_view(r) for r in order.refunds.all()],
            "progress": selectors_pages.payment_progress(order),
            "guardian": guardian,
            "may_refund": guardian and order.status == Order.Status.PAID and order.refundable_fen > 0 and live,
            "may_pay": guardian and order.status == Order.Status.PENDING,
        }
        return render(request, self.template_name, ctx)


class PayPage(ScopedPage):
    """Pay for a held place: the order's lines (the materials may be left out), the channel; the POST creates the
    order (once per request key) and starts the payment, then goes to the channel's page."""

    title = gettext_lazy("Pay")
    template_name = "payments/pay.html"
    http_method_names = ["get", "post", "head", "options"]

    def select(self, scope: Scope) -> QuerySet[Any]:
        return selectors_pages.enrolments_to_pay()

    def enrolment(self) -> Enrolment:
        try:
            return self.get_queryset().get(pk=self.kwargs["enrolment_id"])  # type: ignore[no-any-return]
        except (Enrolment.DoesNotExist, ValueError, TypeError) as exc:
            raise Http404 from exc

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        e = self.enrolment()
        order = selectors_pages.order_of_enrolment(e)
        c = e.course_class
        materials_fen = c.materials_fee_fen if c.materials_name else 0
        ctx = self.base_context() | {
            "e": e,
            "schedule": schedule(c),
            "order": order_view(order) if order else None,
            "lines": [{"line": ln, "amount": yuan(ln.amount_fen)} for ln in order.lines.all()] if order else [],
            "course_fee": yuan(e.fee_fen),
            "course_fen": e.fee_fen,
            "materials_name": c.materials_name if materials_fen else "",
            "materials_fee": yuan(materials_fen),
            "materials_fen": materials_fen,
            # The total is the course fee unless the parent ticks the materials (opt-in): both are on the page, so
            # that it shows what will be charged with or without its script.
            "total_without": yuan(e.fee_fen),
            "total_with": yuan(e.fee_fen + materials_fen),
            "total_with_fen": e.fee_fen + materials_fen,
            "channels": selectors.channels_to_choose(),
            "guardian": _guardian(self.scope, e.pupil_id),
            "payable": e.status == Enrolment.Status.HELD and (order is None or order.status == Order.Status.PENDING),
            "hold_until": local(e.hold_expires_at, "%H:%M"),
            "key": uuid.uuid4().hex,
        }
        return render(request, self.template_name, ctx)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        e = self.enrolment()
        if not _guardian(self.scope, e.pupil_id):
            raise Http404
        back = reverse("portal:place-pay", args=[e.pk])
        form = PayForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose how to pay."))
            return HttpResponseRedirect(back)
        d = form.cleaned_data
        now = clock.now()
        try:
            order, _created = order_services.order_create(
                actor=request.user,
                enrolment_id=e.pk,
                include_materials=d["materials"],
                request_key=d["key"],
                now=now,
                expected_total_fen=form.expected_total_fen(),
            )
            if order.status != Order.Status.PENDING:
                messages.success(request, _("Nothing to pay: the place is confirmed."))
                return HttpResponseRedirect(reverse("portal:order", args=[order.pk]))
            if not d["channel"]:
                raise KehouError(_("Choose how to pay."), code=ErrorCode.CHANNEL_REQUIRED)
            _attempt, start = order_services.payment_start(
                actor=request.user, order=order, channel=d["channel"], now=now
            )
        except KehouError as exc:
            if exc.status == 404:
                raise Http404 from exc
            messages.error(request, exc.message)
            return HttpResponseRedirect(back)
        if start.kind == "redirect" and start.url:
            return HttpResponseRedirect(start.url)
        messages.info(request, _("Open this page inside the channel's app to finish paying."))
        return HttpResponseRedirect(reverse("portal:order", args=[order.pk]))


class SimulatorCashierPage(ScopedPage):
    """The simulator channel's cashier (what a channel's H5 payment page is in real life): the merchant, the amount,
    and the payer's choices — pay, pay with the notification sent twice or delayed by a minute, or fail. Paying
    hands the notification to the real receiving path at once (a delayed one waits for the payments ticker).

    The URL names the merchant's trade number (the simulator's start URL); a plain number is read as the attempt's
    id as well, so the scope walker can reach this page like any other detail."""

    title = gettext_lazy("Simulator cashier")
    template_name = "payments/cashier.html"
    http_method_names = ["get", "post", "head", "options"]

    def select(self, scope: Scope) -> QuerySet[Any]:
        return selectors_pages.attempts_for_cashier()

    def attempt(self) -> PaymentAttempt:
        value = str(self.kwargs["trade_id"])
        if not (value.isascii() and value.isalnum() and len(value) <= 32):
            raise Http404  # trade numbers are [A-Za-z0-9]{1,32}; anything else (NUL, …) never reaches the database
        by = Q(out_trade_no=value)
        pk = parse_id(value)
        if pk is not None:
            by |= Q(pk=pk)
        attempt = self.get_queryset().filter(by, channel=Channel.SIMULATOR).first()
        if attempt is None or Channel.SIMULATOR not in enabled_channels():
            raise Http404
        return attempt  # type: ignore[no-any-return]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        a = self.attempt()
        trade = selectors_pages.simulator_trade(a.out_trade_no)
        ctx = self.base_context() | {
            "a": a,
            "amount": yuan(a.amount_fen),
            "merchant_id": MERCHANT_ID,
            "trade_status": trade.status if trade else "",
            "payable": bool(trade and trade.status == "created") and _guardian(self.scope, a.order.pupil_id),
        }
        return render(request, self.template_name, ctx)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        a = self.attempt()
        if not _guardian(self.scope, a.order.pupil_id):
            raise Http404
        form = CashierForm(request.POST)
        receipt = reverse("portal:order", args=[a.order_id])
        if not form.is_valid():
            messages.error(request, _("Choose how to pay."))
            return HttpResponseRedirect(reverse("portal:simulator-cashier", args=[a.out_trade_no]))
        scenario = form.cleaned_data["scenario"]
        now = clock.now()
        SimulatorGateway().pay(out_trade_no=a.out_trade_no, now=now, scenario=scenario)
        simulator_deliver(now=now)
        if scenario == "fail":
            messages.error(request, _("The payment failed at the channel. You can try again."))
        elif scenario == "delayed":
            messages.info(request, _("Paid. Awaiting the channel's confirmation."))
        else:
            messages.success(request, _("Paid."))
        return HttpResponseRedirect(receipt)


class RefundPage(ScopedPage):
    """Cancel a paid place: what it refunds now and why (sessions held of the total, the rule, whether the school
    approves first); the POST cancels the place and asks for the refund (once per request key)."""

    title = gettext_lazy("Cancel and refund")
    template_name = "payments/refund.html"
    http_method_names = ["get", "post", "head", "options"]

    def select(self, scope: Scope) -> QuerySet[Any]:
        return selectors.order_detail_queryset(scope=scope)

    def order(self) -> Order:
        try:
            return self.get_queryset().get(pk=self.kwargs["pk"])  # type: ignore[no-any-return]
        except (Order.DoesNotExist, ValueError, TypeError) as exc:
            raise Http404 from exc

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        order = self.order()
        quote, refusal = None, ""
        try:
            quote = selectors.refund_quote(order=order, now=clock.now())
        except KehouError as exc:
            refusal = exc.message
        basis = quote.basis if quote else {}
        ctx = self.base_context() | {
            "v": order_view(order),
            "quote": quote,
            "refusal": refusal,
            "amount": yuan(quote.amount_fen) if quote else "",
            "course": yuan(quote.course_fen) if quote else "",
            "materials": yuan(quote.materials_fen) if quote else "",
            "refundable": yuan(order.refundable_fen),
            "held": basis.get("sessions_held"),
            "total": basis.get("sessions_total"),
            "rule": str(RULE_LABELS.get(basis.get("rule", ""), basis.get("rule", ""))),
            "guardian": _guardian(self.scope, order.pupil_id),
            "has_materials": any(ln.kind == OrderLine.Kind.MATERIALS for ln in order.lines.all()),
            "key": uuid.uuid4().hex,
        }
        return render(request, self.template_name, ctx)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        order = self.order()
        if not _guardian(self.scope, order.pupil_id):
            raise Http404
        receipt = reverse("portal:order", args=[order.pk])
        form = RefundForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("The form has expired: open it again."))
            return HttpResponseRedirect(reverse("portal:order-refund", args=[order.pk]))
        try:
            refund, _created = refund_services.refund_request(
                actor=request.user,
                order=order,
                request_key=form.cleaned_data["key"],
                reason=form.cleaned_data["reason"],
                now=clock.now(),
            )
        except KehouError as exc:
            if exc.status == 404:
                raise Http404 from exc
            messages.error(request, exc.message)
            return HttpResponseRedirect(receipt)
        if refund is None:
            messages.success(request, _("The place is cancelled. Nothing was left to refund."))
        elif refund.status == Refund.Status.PENDING_APPROVAL:
            messages.success(
                request,
                _("The place is cancelled. The refund of %(amount)s awaits the school's approval.")
                % {"amount": yuan(refund.amount_fen)},
            )
        else:
            messages.success(
                request,
                _("The place is cancelled. %(amount)s is being refunded through %(channel)s.")
                % {"amount": yuan(refund.amount_fen), "channel": refund.get_channel_display()},
            )
        return HttpResponseRedirect(receipt)
