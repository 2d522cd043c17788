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

# Why a notification was rejected, in words (the code stays in the API and the log for engineers).
REASON_LABELS = {
    "bad_signature": gettext_lazy("Signature does not verify"),
    "bad_signature_type": gettext_lazy("Unknown signature type"),
    "bad_algorithm": gettext_lazy("Unknown encryption algorithm"),
    "missing_signature": gettext_lazy("No signature"),
    "missing_signature_headers": gettext_lazy("Signature headers missing"),
    "stale_timestamp": gettext_lazy("Timestamp too old or in the future (a replay?)"),
    "unknown_serial": gettext_lazy("Signed with an unknown platform key"),
    "undecryptable": gettext_lazy("Content cannot be decrypted"),
    "malformed": gettext_lazy("Not a notification the channel sends"),
    "unexpected_status": gettext_lazy("Unexpected status"),
    "wrong_app": gettext_lazy("Meant for another merchant app"),
    "refund_unconfirmed": gettext_lazy("Refund not confirmed by the channel"),
    "amount_mismatch": gettext_lazy("Amount differs from our order"),
    "merchant_mismatch": gettext_lazy("Another merchant's notification"),
    "unknown_trade": gettext_lazy("No such payment of ours"),
    "unknown_refund": gettext_lazy("No such refund of ours"),
    "unverifiable": gettext_lazy("Cannot be verified (channel not configured)"),
}


class NotificationLogPage(ScopedListPage):
    title = gettext_lazy("Payment notifications")
    export_name = "payment-notifications"
    search_placeholder = gettext_lazy("Trade or refund number")
    template_name = "payments/payment_list.html"

    columns = (
        (gettext_lazy("Received at"), lambda n: local(n.received_at, "%Y-%m-%d %H:%M:%S")),
        (gettext_lazy("Channel"), lambda n: n.get_channel_display()),
        (gettext_lazy("Outcome"), lambda n: n.get_outcome_display()),
        (
            gettext_lazy("Reason"),
            lambda n: f"{REASON_LABELS[n.reason]} ({n.reason})" if n.reason in REASON_LABELS else n.reason,
        ),
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
