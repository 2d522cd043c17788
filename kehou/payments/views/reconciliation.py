"""Reconciliation of the channels' daily bills: the reports, their differences, one report."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehou.core import clock
from kehou.core.errors import KehouError
from kehou.core.pages import (
    ScopedDetailPage,
    ScopedListPage,
    local,
    yuan,
)
from kehou.core.scope import Scope

from .. import selectors_reconciliation
from ..forms import ReconcileForm
from ..models import Reconciliation, ReconciliationItem
from ..services.reconciliation import reconcile, reconciliation_workbook
from .common import _channel_filter, _date, _date_filters, _id


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

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
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
