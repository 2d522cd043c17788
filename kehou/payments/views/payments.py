"""The payments list: every paid order in scope, with totals and Excel."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehou.core.pages import (
    ScopedListPage,
    local,
    yuan,
)
from kehou.core.scope import Scope

from .. import selectors
from .common import _channel_filter, _date, _date_filters, _id, _place_filters
from .parent import STATE_LABELS


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
