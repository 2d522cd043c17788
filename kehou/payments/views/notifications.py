"""The channels' notification log (verified, rejected, alerts for the city bureau)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehou.core.pages import (
    ScopedListPage,
    local,
)
from kehou.core.scope import Scope

from .. import selectors
from ..models import ChannelNotification
from .common import _channel_filter, _date, _date_filters


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
