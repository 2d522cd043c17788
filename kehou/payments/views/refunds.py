"""The refunds list (the school approves or rejects what awaits it) and the decide action."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from kehou.core import clock
from kehou.core.cells import Cell, num, reject_with_reason, stacked
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
from kehou.people.selectors import shown_pupil_name

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

        def pupil(r: Refund) -> str:
            return shown_pupil_name(scope=scope, pupil=r.order.pupil)

        if exporting(self.request):
            return [
                (gettext_lazy("Refund"), lambda r: r.refund_no),
                (gettext_lazy("Order"), lambda r: r.order.order_no),
                (gettext_lazy("School"), lambda r: r.order.school.name),
                (gettext_lazy("Pupil"), pupil),
                (gettext_lazy("Channel"), lambda r: r.get_channel_display()),
                (gettext_lazy("Amount"), lambda r: yuan(r.amount_fen)),
                (gettext_lazy("Course fee"), lambda r: yuan(r.course_fen)),
                (gettext_lazy("Materials"), lambda r: yuan(r.materials_fen)),
                (gettext_lazy("Status"), lambda r: r.get_status_display()),
                (gettext_lazy("Basis"), basis),
                (gettext_lazy("Requested at"), lambda r: local(r.requested_at)),
                (gettext_lazy("Finished at"), lambda r: local(r.finished_at)),
            ]

        def actions(r: Refund) -> Any:
            if r.status != Refund.Status.PENDING_APPROVAL or not administers(scope, r.order.school_id):
                return ""
            url = reverse("portal:refund-decide", args=[r.pk])
            approve = post_button(
                self.request,
                url,
                _("Approve"),
                extra={"decision": "approve"},
                confirm=_("Approve this refund? The money goes back to the parent through the channel."),
            )
            reject = reject_with_reason(
                self.request,
                url,
                label=_("Reject"),
                confirm=_("Reject this refund? The parent is told the reason and the place stays cancelled."),
                reason_label=_("Reason for rejecting"),
                submit=_("Reject the refund"),
            )
            return Cell(format_html('<div class="decide" data-decide>{}{}</div>', approve, reject))

        def status(r: Refund) -> Cell:
            return Cell(format_html('<span class="kh-state {}">{}</span>', r.status, r.get_status_display()))

        def amount(r: Refund) -> Cell:
            parts = [_("course %(yuan)s") % {"yuan": yuan(r.course_fen)}]
            if r.materials_fen:
                parts.append(_("materials %(yuan)s") % {"yuan": yuan(r.materials_fen)})
            return stacked(yuan(r.amount_fen), " · ".join(parts), css="num")

        def who(r: Refund) -> Cell:
            return stacked(pupil(r), r.refund_no)

        def when(r: Refund) -> Cell:
            done = _("finished %(at)s") % {"at": local(r.finished_at)} if r.finished_at else ""
            return stacked(local(r.requested_at), done)

        cols: list[tuple[Any, Any]] = [
            (gettext_lazy("Pupil and refund"), who),
            (Cell(pgettext("refund", "Approval")), actions),
            (gettext_lazy("Status"), status),
            (num(_("Amount")), amount),
            (gettext_lazy("Basis"), lambda r: Cell(basis(r), "fold wide-fold")),
            (gettext_lazy("Channel"), lambda r: Cell(r.get_channel_display(), "fold")),
            (gettext_lazy("Requested at"), when),
        ]
        if scope.everything or scope.district_ids or len(scope.school_ids) > 1:
            cols.insert(2, (gettext_lazy("School"), lambda r: Cell(r.order.school.name, "fold")))
        return cols

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
            "table_class": "refunds",
            "wide": True,
            "totals": [
                (_("Refunds"), t["count"]),
                (_("Asked"), yuan(t["amount_fen"])),
                (_("Refunded"), yuan(t["succeeded_fen"])),
                (_("In progress"), yuan(t["in_progress_fen"])),
            ],
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
        reason = request.POST.get("reason", "").strip()[:200]
        if not approve and not reason:
            raise KehouError(_("Give the reason for rejecting: the parent is told it."), code=ErrorCode.REASON_REQUIRED)
        refund = refund_services.refund_decide(
            actor=request.user, refund=obj, approve=approve, reason=reason, now=clock.now()
        )
        if approve:
            return _("Refund %(no)s approved: %(amount)s goes back through the channel.") % {
                "no": refund.refund_no,
                "amount": yuan(refund.amount_fen),
            }, None
        return _("Refund %(no)s rejected.") % {"no": refund.refund_no}, None

    def fallback(self, obj: Any) -> str:
        return reverse("portal:refunds")
