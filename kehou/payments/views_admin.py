"""Pages of the schools and the bureaus: payments and refunds in their scope (filters, totals over everything the
filters keep, Excel export; the school's administrators approve or reject refunds that wait for them), the city
bureau's log of the channels' notifications (alerts first), the reconciliation of the channels' daily bills, the
escrow ledger, and the refund policies (the city's and each district's).

Reads go through the scoped page base classes; each action is a POST that reads its row through the scope first
(a row out of scope is a 404), calls one service and comes back with the outcome as a message.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehou.core import clock
from kehou.core.errors import KehouError
from kehou.core.scope import Scope
from kehou.enrolment.views_school import (
    ActionPage,
    _district_filter,
    _exporting,
    _school_choices,
    administers,
    local,
    post_button,
    yuan,
)
from kehou.ledger import selectors as ledger_selectors
from kehou.ledger.models import LedgerTransaction
from kehou.orgs.models import Region
from kehou.portal.pages import ScopedDetailPage, ScopedListPage, ScopedPage

from . import selectors, selectors_pages, selectors_reconciliation
from .forms import DecideForm, PolicyForm, ReconcileForm
from .models import Channel, ChannelNotification, Reconciliation, ReconciliationItem, Refund, RefundPolicy
from .services import refunds as refund_services
from .services.reconciliation import reconcile, reconciliation_workbook
from .views_parent import RULE_LABELS, STATE_LABELS


def _date(request: HttpRequest, name: str) -> date | None:
    try:
        return parse_date(request.GET.get(name, "").strip())
    except ValueError:
        return None


def _date_filters(request: HttpRequest, start: str, end: str) -> list[dict[str, Any]]:
    g = request.GET
    return [
        {"name": start, "label": _("From"), "type": "date", "value": g.get(start, "")},
        {"name": end, "label": _("To"), "type": "date", "value": g.get(end, "")},
    ]


def _place_filters(scope: Scope, request: HttpRequest) -> list[dict[str, Any]]:
    g = request.GET
    controls = _district_filter(scope, g.get("district", ""))
    schools = _school_choices(scope, g.get("district", ""))
    if len(schools) > 1 or g.get("school"):
        controls.append({"name": "school", "label": _("School"), "choices": schools, "value": g.get("school", "")})
    return controls


def _channel_filter(request: HttpRequest) -> dict[str, Any]:
    return {
        "name": "channel",
        "label": _("Channel"),
        "choices": Channel.choices,
        "value": request.GET.get("channel", ""),
    }


def _id(request: HttpRequest, name: str) -> int | None:
    from kehou.core.api import parse_id

    return parse_id(request.GET.get(name, ""))


# --- payments ----------------------------------------------------------------------------------------------------
class PaymentListPage(ScopedListPage):
    title = gettext_lazy("Payments")
    export_name = "payments"
    search_placeholder = gettext_lazy("Order number or pupil")
    template_name = "payments/payment_list.html"

    columns = (
        (gettext_lazy("Order"), lambda o: o.order_no),
        (gettext_lazy("School"), lambda o: o.school.name),
        (gettext_lazy("Pupil"), lambda o: o.pupil.name),
        (gettext_lazy("Class"), lambda o: o.enrolment.course_class.name),
        (gettext_lazy("State"), lambda o: str(STATE_LABELS.get(selectors.order_state(o), ""))),
        (gettext_lazy("Channel"), lambda o: o.get_channel_display() if o.channel else ""),
        (gettext_lazy("Total"), lambda o: yuan(o.total_fen)),
        (gettext_lazy("Paid"), lambda o: yuan(o.paid_fen)),
        (gettext_lazy("Refunded"), lambda o: yuan(o.refunded_fen)),
        (gettext_lazy("Paid at"), lambda o: local(o.paid_at)),
    )

    def select(self, scope: Scope) -> QuerySet[Any]:
        g = self.request.GET
        return selectors.order_list(
            scope=scope,
            school_id=_id(self.request, "school"),
            district_code=g.get("district", ""),
            state=g.get("status", ""),
            channel=g.get("channel", ""),
            paid_from=_date(self.request, "paid_from"),
            paid_to=_date(self.request, "paid_to"),
            search=g.get("q", "").strip(),
        )

    def filters(self) -> list[dict[str, Any]]:
        g = self.request.GET
        states = [(s, STATE_LABELS[s]) for s in selectors.State.ALL]
        return [
            *_place_filters(self.scope, self.request),
            {"name": "status", "label": _("State"), "choices": states, "value": g.get("status", "")},
            _channel_filter(self.request),
            *_date_filters(self.request, "paid_from", "paid_to"),
        ]

    def row_link(self, obj: Any) -> str:
        return reverse("portal:order", args=[obj.pk])

    def extra_context(self) -> dict[str, Any]:
        t = selectors.order_totals(self.get_queryset())
        return {
            "totals": [
                (_("Orders"), t["count"]),
                (_("Paid"), yuan(t["paid_fen"])),
                (_("Refunded"), yuan(t["refunded_fen"])),
                (_("Net"), yuan(t["paid_fen"] - t["refunded_fen"])),
            ]
        }


# --- refunds -----------------------------------------------------------------------------------------------------
class RefundListPage(ScopedListPage):
    title = gettext_lazy("Refunds")
    export_name = "refunds"
    search_placeholder = gettext_lazy("Refund or order number, pupil")
    template_name = "payments/payment_list.html"

    @property
    def columns(self) -> Any:  # type: ignore[override]
        exporting = _exporting(self.request)
        scope = self.scope

        def basis(r: Refund) -> str:
            b = r.basis or {}
            rule = str(RULE_LABELS.get(b.get("rule", ""), b.get("rule", "")))
            if "sessions_total" not in b:
                return rule
            return _("%(held)s of %(total)s sessions held; %(rule)s") % {
                "held": b.get("sessions_held"),
                "total": b.get("sessions_total"),
                "rule": rule,
            }

        def actions(r: Refund) -> Any:
            if exporting or r.status != Refund.Status.PENDING_APPROVAL or not administers(scope, r.order.school_id):
                return ""
            url = reverse("portal:refund-decide", args=[r.pk])
            return post_button(self.request, url, _("Approve"), extra={"decision": "approve"}) + post_button(
                self.request,
                url,
                _("Reject"),
                extra={"decision": "reject"},
                confirm=_("Reject this refund?"),
                css="small secondary",
            )

        return [
            (gettext_lazy("Refund"), lambda r: r.refund_no),
            (gettext_lazy("Order"), lambda r: r.order.order_no),
            (gettext_lazy("School"), lambda r: r.order.school.name),
            (gettext_lazy("Pupil"), lambda r: r.order.pupil.name),
            (gettext_lazy("Channel"), lambda r: r.get_channel_display()),
            (gettext_lazy("Amount"), lambda r: yuan(r.amount_fen)),
            (gettext_lazy("Course fee"), lambda r: yuan(r.course_fen)),
            (gettext_lazy("Materials"), lambda r: yuan(r.materials_fen)),
            (gettext_lazy("Status"), lambda r: r.get_status_display()),
            (gettext_lazy("Basis"), basis),
            (gettext_lazy("Requested at"), lambda r: local(r.requested_at)),
            (gettext_lazy("Finished at"), lambda r: local(r.finished_at)),
            (gettext_lazy("Actions"), actions),
        ]

    def select(self, scope: Scope) -> QuerySet[Any]:
        g = self.request.GET
        return selectors.refund_list(
            scope=scope,
            school_id=_id(self.request, "school"),
            district_code=g.get("district", ""),
            status=g.get("status", ""),
            channel=g.get("channel", ""),
            requested_from=_date(self.request, "requested_from"),
            requested_to=_date(self.request, "requested_to"),
            search=g.get("q", "").strip(),
        )

    def filters(self) -> list[dict[str, Any]]:
        g = self.request.GET
        return [
            *_place_filters(self.scope, self.request),
            {"name": "status", "label": _("Status"), "choices": Refund.Status.choices, "value": g.get("status", "")},
            _channel_filter(self.request),
            *_date_filters(self.request, "requested_from", "requested_to"),
        ]

    def row_link(self, obj: Any) -> str:
        return reverse("portal:order", args=[obj.order_id])

    def extra_context(self) -> dict[str, Any]:
        t = selectors.refund_totals(self.get_queryset())
        return {
            "totals": [
                (_("Refunds"), t["count"]),
                (_("Asked"), yuan(t["amount_fen"])),
                (_("Refunded"), yuan(t["succeeded_fen"])),
                (_("In progress"), yuan(t["in_progress_fen"])),
            ]
        }


class RefundDecideAction(ActionPage):
    """A school's administrator approves a refund that waits for them (it goes to the channel) or rejects it."""

    def select(self, scope: Scope) -> QuerySet[Any]:
        return selectors.refunds_for_action()

    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        form = DecideForm(request.POST)
        if not form.is_valid():
            raise KehouError(_("Approve or reject."), code="decision_required")
        approve = form.cleaned_data["decision"] == "approve"
        refund = refund_services.refund_decide(actor=request.user, refund=obj, approve=approve, now=clock.now())
        if approve:
            return _("Refund %(no)s approved: %(amount)s goes back through the channel.") % {
                "no": refund.refund_no,
                "amount": yuan(refund.amount_fen),
            }, None
        return _("Refund %(no)s rejected.") % {"no": refund.refund_no}, None

    def fallback(self, obj: Any) -> str:
        return reverse("portal:refunds")


# --- channel notifications ---------------------------------------------------------------------------------------
class NotificationLogPage(ScopedListPage):
    title = gettext_lazy("Payment notifications")
    export_name = "payment-notifications"
    search_placeholder = gettext_lazy("Trade or refund number")
    template_name = "payments/payment_list.html"

    columns = (
        (gettext_lazy("Received at"), lambda n: local(n.received_at, "%Y-%m-%d %H:%M:%S")),
        (gettext_lazy("Channel"), lambda n: n.get_channel_display()),
        (gettext_lazy("Outcome"), lambda n: n.get_outcome_display()),
        (gettext_lazy("Reason"), lambda n: n.reason),
        (gettext_lazy("Alert"), lambda n: "⚠" if n.alert else ""),
        (gettext_lazy("Verified"), lambda n: _("yes") if n.verified else _("no")),
        (gettext_lazy("Trade number"), lambda n: n.out_trade_no),
        (gettext_lazy("Refund number"), lambda n: n.out_refund_no),
        (gettext_lazy("Order"), lambda n: n.order.order_no if n.order else ""),
    )

    def select(self, scope: Scope) -> QuerySet[Any]:
        g = self.request.GET
        qs = selectors.notification_list(
            scope=scope,
            channel=g.get("channel", ""),
            outcome=g.get("outcome", ""),
            alert=g.get("alert", "") == "yes",
            received_from=_date(self.request, "received_from"),
            received_to=_date(self.request, "received_to"),
        )
        search = g.get("q", "").strip()
        if search:
            qs = qs.filter(out_trade_no__istartswith=search) | qs.filter(out_refund_no__istartswith=search)
        return qs.order_by("-alert", "-received_at", "-pk")

    def filters(self) -> list[dict[str, Any]]:
        g = self.request.GET
        return [
            _channel_filter(self.request),
            {
                "name": "outcome",
                "label": _("Outcome"),
                "choices": ChannelNotification.Outcome.choices,
                "value": g.get("outcome", ""),
            },
            {
                "name": "alert",
                "label": _("Alerts"),
                "choices": [("yes", _("Alerts only"))],
                "value": g.get("alert", ""),
            },
            *_date_filters(self.request, "received_from", "received_to"),
        ]

    def row_link(self, obj: Any) -> str | None:
        return reverse("portal:order", args=[obj.order_id]) if obj.order_id else None

    def extra_context(self) -> dict[str, Any]:
        t = selectors.notification_totals(self.get_queryset())
        return {"totals": [(_("Notifications"), t["count"]), (_("Alerts"), t["alerts"])]}


# --- reconciliation ----------------------------------------------------------------------------------------------
class ReconciliationListPage(ScopedListPage):
    """The city bureau's reconciliations of the channels' daily bills; run one for a channel's day (the bill
    downloaded from the channel, or a file)."""

    title = gettext_lazy("Reconciliation")
    export_name = "reconciliations"
    search_placeholder = gettext_lazy("Search")
    template_name = "payments/reconciliation_list.html"
    http_method_names = ["get", "post", "head", "options"]

    columns = (
        (gettext_lazy("Day"), lambda r: r.bill_date.isoformat()),
        (gettext_lazy("Channel"), lambda r: r.get_channel_display()),
        (gettext_lazy("Bill rows"), lambda r: r.rows),
        (gettext_lazy("Matched"), lambda r: r.matched),
        (gettext_lazy("Differences"), lambda r: r.differences),
        (gettext_lazy("Missing"), lambda r: r.missing),
        (gettext_lazy("Extra"), lambda r: r.extra),
        (gettext_lazy("Amounts differ"), lambda r: r.amount_mismatch),
        (gettext_lazy("Bill total"), lambda r: yuan(r.bill_total_fen)),
        (gettext_lazy("Our total"), lambda r: yuan(r.our_total_fen)),
        (gettext_lazy("Imported at"), lambda r: local(r.imported_at)),
    )

    def select(self, scope: Scope) -> QuerySet[Any]:
        return selectors_reconciliation.reconciliation_list(
            scope=scope,
            channel=self.request.GET.get("channel", ""),
            date_from=_date(self.request, "date_from"),
            date_to=_date(self.request, "date_to"),
        )

    def filters(self) -> list[dict[str, Any]]:
        return [_channel_filter(self.request), *_date_filters(self.request, "date_from", "date_to")]

    def row_link(self, obj: Any) -> str:
        return reverse("portal:reconciliation", args=[obj.pk])

    def extra_context(self) -> dict[str, Any]:
        may_run = self.scope.everything
        today = timezone.localdate(clock.now())
        return {"form": ReconcileForm(initial={"bill_date": today}) if may_run else None}

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.scope.everything:
            raise PermissionDenied
        form = ReconcileForm(request.POST, request.FILES)
        if not form.is_valid():
            errors = "; ".join(str(e) for errs in form.errors.values() for e in errs)
            messages.error(request, errors)
            return HttpResponseRedirect(reverse("portal:reconciliations"))
        d = form.cleaned_data
        content = d["bill"].read() if d.get("bill") else None
        try:
            done = reconcile(
                channel=d["channel"], bill_date=d["bill_date"], content=content, actor=request.user, now=clock.now()
            )
        except KehouError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("portal:reconciliations"))
        messages.success(
            request,
            _("%(channel)s, %(day)s: %(matched)s matched, %(n)s differences.")
            % {
                "channel": done.get_channel_display(),
                "day": done.bill_date.isoformat(),
                "matched": done.matched,
                "n": done.differences,
            },
        )
        return HttpResponseRedirect(reverse("portal:reconciliation", args=[done.pk]))


class ReconciliationItemsPage(ScopedListPage):
    """The differences of a reconciliation (``?reconciliation=<id>``; without it, of every reconciliation), with
    the report's figures and its full Excel workbook (``?reconciliation=<id>&format=report``)."""

    title = gettext_lazy("Reconciliation differences")
    export_name = "reconciliation-differences"
    search_placeholder = gettext_lazy("Trade or refund number")
    template_name = "payments/reconciliation_items.html"

    columns = (
        (gettext_lazy("Reference"), lambda i: i.reference),
        (gettext_lazy("Day"), lambda i: i.reconciliation.bill_date.isoformat()),
        (gettext_lazy("Channel"), lambda i: i.reconciliation.get_channel_display()),
        (gettext_lazy("Difference"), lambda i: i.get_kind_display()),
        (gettext_lazy("Trade"), lambda i: i.trade_kind),
        (gettext_lazy("In the bill"), lambda i: yuan(i.bill_amount_fen)),
        (gettext_lazy("Ours"), lambda i: yuan(i.our_amount_fen)),
        (gettext_lazy("Note"), lambda i: i.note),
    )

    def chosen(self) -> Reconciliation | None:
        pk = _id(self.request, "reconciliation")
        if pk is None:
            return None
        try:
            return selectors_reconciliation.reconciliation_detail(scope=self.scope, pk=pk)
        except KehouError as exc:
            raise Http404 from exc

    def select(self, scope: Scope) -> QuerySet[Any]:
        g = self.request.GET
        chosen = self.chosen()
        qs = ReconciliationItem.objects.select_related("reconciliation")
        if chosen is not None:
            qs = selectors_reconciliation.reconciliation_items(
                scope=scope, reconciliation=chosen, kind=g.get("kind", ""), trade_kind=g.get("trade", "")
            ).select_related("reconciliation")
        else:
            if g.get("kind"):
                qs = qs.filter(kind=g["kind"])
            if g.get("trade"):
                qs = qs.filter(trade_kind=g["trade"])
        search = g.get("q", "").strip()
        if search:
            qs = qs.filter(reference__istartswith=search)
        return qs.order_by("-reconciliation__bill_date", "kind", "reference")

    def filters(self) -> list[dict[str, Any]]:
        g = self.request.GET
        return [
            {
                "name": "kind",
                "label": _("Difference"),
                "choices": ReconciliationItem.Kind.choices,
                "value": g.get("kind", ""),
            },
            {
                "name": "trade",
                "label": _("Trade"),
                "choices": [("payment", _("Payment")), ("refund", _("Refund"))],
                "value": g.get("trade", ""),
            },
        ]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        chosen = self.chosen()
        if chosen is not None and request.GET.get("format") == "report":
            response = HttpResponse(
                reconciliation_workbook(chosen),
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
            name = f"reconciliation-{chosen.channel}-{chosen.bill_date.isoformat()}.xlsx"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
        return super().get(request, *args, **kwargs)

    def extra_context(self) -> dict[str, Any]:
        chosen = self.chosen()
        if chosen is None:
            return {"summary": None}
        s = selectors_reconciliation.reconciliation_summary(chosen)
        return {
            "chosen": chosen,
            "summary": [
                (_("Channel"), chosen.get_channel_display()),
                (_("Day"), s["date"]),
                (_("Bill rows"), s["rows"]),
                (_("Matched"), s["matched"]),
                (_("Differences"), s["differences"]),
                (_("Bill total"), yuan(s["bill_total_fen"])),
                (_("Our total"), yuan(s["our_total_fen"])),
                (_("Settled into escrow"), yuan(s["settled_fen"])),
            ],
        }


def _summary(reconciliation: Reconciliation) -> list[tuple[str, Any]]:
    s = selectors_reconciliation.reconciliation_summary(reconciliation)
    return [
        (_("Channel"), reconciliation.get_channel_display()),
        (_("Day"), s["date"]),
        (_("Bill rows"), s["rows"]),
        (_("Matched"), s["matched"]),
        (_("Differences"), s["differences"]),
        (_("Bill total"), yuan(s["bill_total_fen"])),
        (_("Our total"), yuan(s["our_total_fen"])),
        (_("Settled into escrow"), yuan(s["settled_fen"])),
    ]


class ReconciliationDetailPage(ScopedDetailPage):
    """One reconciliation: its figures and its differences (filtered by kind), and the report's Excel workbook
    (``?format=xlsx``, :func:`~kehou.payments.services.reconciliation.reconciliation_workbook`)."""

    title = gettext_lazy("Reconciliation")
    template_name = "payments/reconciliation_detail.html"
    http_method_names = ["get", "head", "options"]

    def select(self, scope: Scope) -> QuerySet[Any]:
        return Reconciliation.objects.select_related("imported_by")

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.GET.get("format") == "xlsx":
            chosen: Any = self.get_object()
            response = HttpResponse(
                reconciliation_workbook(chosen),
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
            name = f"reconciliation-{chosen.channel}-{chosen.bill_date.isoformat()}.xlsx"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
        return super().get(request, *args, **kwargs)

    def extra_context(self, obj: Any) -> dict[str, Any]:
        kind = self.request.GET.get("kind", "")
        items = selectors_reconciliation.reconciliation_items(scope=self.scope, reconciliation=obj, kind=kind)
        return {
            "title": _("Reconciliation of %(channel)s, %(day)s")
            % {"channel": obj.get_channel_display(), "day": obj.bill_date.isoformat()},
            "summary": _summary(obj),
            "kinds": ReconciliationItem.Kind.choices,
            "kind": kind,
            "items": [{"i": i, "bill": yuan(i.bill_amount_fen), "ours": yuan(i.our_amount_fen)} for i in items[:1000]],
        }


# --- the escrow ledger -------------------------------------------------------------------------------------------
def _postings(t: LedgerTransaction) -> str:
    return "; ".join(f"{p.debit.code} ← {p.credit.code} {yuan(p.amount_fen)}" for p in t.postings.all())


class LedgerPage(ScopedListPage):
    """The escrow ledger: account balances (the city bureau every account, with the funds in custody and the
    invariants checked; a district or school its prepayment accounts) and the transactions with their postings."""

    title = gettext_lazy("Escrow ledger")
    export_name = "ledger"
    search_placeholder = gettext_lazy("Reference, e.g. order:KH…")
    template_name = "payments/ledger.html"

    columns = (
        (gettext_lazy("At"), lambda t: local(t.at, "%Y-%m-%d %H:%M:%S")),
        (gettext_lazy("Kind"), lambda t: t.get_kind_display()),
        (gettext_lazy("Key"), lambda t: t.key),
        (gettext_lazy("Reference"), lambda t: t.reference),
        (gettext_lazy("Postings (debit ← credit)"), _postings),
        (gettext_lazy("Amount"), lambda t: yuan(sum(p.amount_fen for p in t.postings.all()))),
    )

    def select(self, scope: Scope) -> QuerySet[Any]:
        g = self.request.GET
        return ledger_selectors.transaction_list(scope=scope, kind=g.get("kind", ""), reference=g.get("q", "").strip())

    def filters(self) -> list[dict[str, Any]]:
        return [
            {
                "name": "kind",
                "label": _("Kind"),
                "choices": LedgerTransaction.Kind.choices,
                "value": self.request.GET.get("kind", ""),
            }
        ]

    def extra_context(self) -> dict[str, Any]:
        view = selectors_pages.ledger_view(scope=self.scope, limit=0)
        v = view["verification"]
        return {
            "accounts": [
                {"a": a, "debits": yuan(d), "credits": yuan(c), "balance": yuan(b)} for a, d, c, b in view["accounts"]
            ],
            "verification": v,
            "custody": yuan(v.escrow_fen) if v else "",
        }


# --- refund policies ---------------------------------------------------------------------------------------------
class PolicyPage(ScopedPage):
    """The refund policies: the city's default and the districts' overrides; the city bureau sets the city's (and
    may set a district's), a district bureau its own."""

    title = gettext_lazy("Refund policies")
    template_name = "payments/policies.html"
    http_method_names = ["get", "post", "head", "options"]

    def select(self, scope: Scope) -> QuerySet[Any]:
        return RefundPolicy.objects.select_related("region")

    def show(self, request: HttpRequest, form: PolicyForm | None = None, status: int = 200) -> HttpResponse:
        scope = self.scope
        policies = []
        for p in selectors_pages.policies_shown(scope=scope):
            tiers = ", ".join(f"{t['held_upto']}:{t['percent']}%" for t in p.tiers)
            policies.append(
                {
                    "p": p,
                    "rule": str(RULE_LABELS.get(p.after_start, p.after_start)),
                    "tiers": tiers,
                    "set_at": local(p.set_at),
                }
            )
        regions = selectors_pages.policy_regions(scope=scope)
        ctx = self.base_context() | {
            "policies": policies,
            "regions": regions,
            "form": form
            or (PolicyForm(initial={"after_start": "pro_rata", "no_refund_after": 1}) if regions else None),
        }
        return render(request, self.template_name, ctx, status=status)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.show(request)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = PolicyForm(request.POST)
        if not form.is_valid():
            return self.show(request, form, status=400)
        d = form.cleaned_data
        region = Region.objects.filter(code=d["region"]).first()
        if region is None:
            form.add_error("region", _("No such region."))
            return self.show(request, form, status=400)
        try:
            refund_services.policy_set(
                actor=request.user,
                region=region,
                after_start=d["after_start"],
                tiers=d["tiers"],
                no_refund_after=d["no_refund_after"],
                approval_after_start=d["approval_after_start"],
                now=clock.now(),
            )
        except KehouError as exc:
            form.add_error(None, exc.message)
            return self.show(request, form, status=exc.status if exc.status < 500 else 400)
        messages.success(request, _("The refund policy of %(region)s is set.") % {"region": region.name})
        return HttpResponseRedirect(reverse("portal:refund-policies"))
