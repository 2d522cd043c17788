"""The refunds list (the school approves or rejects what awaits it) and the decide action."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehou.core import clock
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import KehouError
from kehou.core.pages import (
    ActionPage,
    ScopedListPage,
    exporting,
    local,
    post_button,
    yuan,
)
from kehou.core.permissions import administers
from kehou.core.scope import Scope

from .. import selectors
from ..forms import DecideForm
from ..models import Refund
from ..services import refunds as refund_services
from .common import _channel_filter, _date, _date_filters, _id, _place_filters
from .parent import RULE_LABELS


class RefundListPage(ScopedListPage):
    title = gettext_lazy("Refunds")
    export_name = "refunds"
    search_placeholder = gettext_lazy("Refund or order number, pupil")
    template_name = "payments/payment_list.html"

    @property
    def columns(self) -> Any:  # type: ignore[override]
        to_excel = exporting(self.request)
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
            if to_excel or r.status != Refund.Status.PENDING_APPROVAL or not administers(scope, r.order.school_id):
                return ""
            url = reverse("portal:refund-decide", args=[r.pk])
            return post_button(
                self.request,
                url,
                _("Approve"),
                extra={"decision": "approve"},
                confirm=_("Approve this refund? The money goes back to the parent through the channel."),
            ) + post_button(
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
            raise KehouError(_("Approve or reject."), code=ErrorCode.DECISION_REQUIRED)
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
