"""Pages of review for the bureaus: the queue, drawing a panel, the panels, one panel, deciding, cancelling,
recusals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehou.core import clock
from kehou.core.api import parse_id
from kehou.core.pages import (
    ActionPage,
    ScopedDetailPage,
    ScopedListPage,
    cells,
    exporting,
    local,
    post_button,
)
from kehou.core.scope import Scope

from ..models import (
    Decision,
    Panel,
    PanelMember,
    Submission,
)
from ..selectors import (
    is_bureau,
    latest_panel,
    may_administer,
    panel_rows,
    pool_experts,
    review_queue,
    seat_counts,
    verify_data,
)
from ..serializers.panels import PanelSerializer
from ..services import review
from .common import _category_choices, _library_choices, points, reasons_text, submitter_label


class ReviewQueuePage(ScopedListPage):
    title = gettext_lazy("Review queue")
    export_name = "review-queue"
    search_placeholder = gettext_lazy("Title")
    template_name = "catalog/admin_review.html"

    @property
    def columns(self) -> Any:  # type: ignore[override]
        scope, request = self.scope, self.request

        def panel(s: Submission) -> str:
            p = latest_panel(s)
            if p is None:
                return ""
            return _("Round %(n)s · %(status)s") % {"n": p.round, "status": p.get_status_display()}

        def actions(s: Submission) -> SafeString:
            parts: list[SafeString] = []
            if s.status == Submission.Status.SUBMITTED and may_administer(scope, s.library_region):
                parts.append(post_button(request, reverse("portal:review-draw", args=[s.pk]), _("Draw a panel")))
            p = latest_panel(s)
            if p is not None:
                parts.append(
                    format_html('<a href="{}">{}</a>', reverse("portal:review-panel", args=[p.pk]), _("Panel"))
                )
            return cells(parts)

        cols: list[tuple[Any, Callable[[Submission], Any]]] = [
            (gettext_lazy("Title"), lambda s: s.title),
            (gettext_lazy("Kind"), lambda s: s.get_kind_display()),
            (gettext_lazy("Category"), lambda s: s.category.name),
            (
                gettext_lazy("Library"),
                lambda s: _("City library") if s.library_region.is_city else s.library_region.name,
            ),
            (gettext_lazy("Submitted by"), submitter_label),
            (gettext_lazy("Status"), lambda s: s.get_status_display()),
            (gettext_lazy("Version"), lambda s: s.version_count),
            (gettext_lazy("Updated"), lambda s: local(s.updated_at)),
            (gettext_lazy("Panel"), panel),
        ]
        if not exporting(request):
            cols.insert(1, (gettext_lazy("Actions"), actions))
        return cols

    def select(self, scope: Scope) -> QuerySet[Any]:
        g = self.request.GET
        return review_queue(
            scope=scope,
            status=g.get("status", ""),
            kind=g.get("kind", ""),
            library=g.get("library", ""),
            category=g.get("category", ""),
            search=g.get("q", "").strip(),
        )

    def filters(self) -> list[dict[str, Any]]:
        g = self.request.GET
        return [
            {
                "name": "status",
                "label": _("Status"),
                "choices": Submission.Status.choices,
                "value": g.get("status", ""),
            },
            {
                "name": "library",
                "label": _("Library"),
                "choices": _library_choices(self.scope),
                "value": g.get("library", ""),
            },
            {
                "name": "category",
                "label": _("Category"),
                "choices": _category_choices(),
                "value": g.get("category", ""),
            },
            {"name": "kind", "label": _("Kind"), "choices": Submission.Kind.choices, "value": g.get("kind", "")},
        ]

    def row_link(self, obj: Any) -> str | None:
        p = latest_panel(obj)
        return reverse("portal:review-panel", args=[p.pk]) if p else None

    def extra_context(self) -> dict[str, Any]:
        return {"tab": "queue"}


class PanelListPage(ScopedListPage):
    title = gettext_lazy("Review panels")
    export_name = "review-panels"
    search_placeholder = gettext_lazy("Title")
    template_name = "catalog/admin_review.html"

    columns = (
        (gettext_lazy("Submission"), lambda p: p.submission.title),
        (gettext_lazy("Category"), lambda p: p.submission.category.name),
        (gettext_lazy("Library"), lambda p: _("City library") if p.region.is_city else p.region.name),
        (gettext_lazy("Round"), lambda p: p.round),
        (gettext_lazy("Status"), lambda p: p.get_status_display()),
        (gettext_lazy("Scored"), lambda p: "{}/{}".format(*seat_counts(p))),
        (gettext_lazy("Outcome"), lambda p: p.decision.get_outcome_display() if hasattr(p, "decision") else ""),
        (gettext_lazy("Mean score"), lambda p: points(p.decision.mean_bp) if hasattr(p, "decision") else ""),
        (gettext_lazy("Drawn"), lambda p: local(p.drawn_at)),
    )

    def select(self, scope: Scope) -> QuerySet[Any]:
        if not is_bureau(scope):
            return Panel.objects.none()
        g = self.request.GET
        return panel_rows(
            scope=scope, status=g.get("status", ""), library=g.get("library", ""), search=g.get("q", "").strip()
        )

    def filters(self) -> list[dict[str, Any]]:
        g = self.request.GET
        return [
            {"name": "status", "label": _("Status"), "choices": Panel.Status.choices, "value": g.get("status", "")},
            {
                "name": "library",
                "label": _("Library"),
                "choices": _library_choices(self.scope),
                "value": g.get("library", ""),
            },
        ]

    def row_link(self, obj: Any) -> str:
        return reverse("portal:review-panel", args=[obj.pk])

    def extra_context(self) -> dict[str, Any]:
        return {"tab": "panels"}


class PanelPage(ScopedDetailPage):
    title = gettext_lazy("Review panel")
    template_name = "catalog/admin_panel.html"

    def select(self, scope: Scope) -> QuerySet[Any]:
        return Panel.objects.select_related(
            "region", "submission__category", "submission__submitter_school", "submission__submitter_organisation"
        )

    def extra_context(self, obj: Any) -> dict[str, Any]:
        data = PanelSerializer(obj, context={"scope": self.scope}).data
        decision = Decision.objects.filter(panel=obj).select_related("decided_by").first()
        bureau = may_administer(self.scope, obj.region)
        # The bureau reads each expert by the username they log in with (README's walk-through) and their name;
        # the pool's ids are for re-running the draw and stay in the JSON and the folded re-run details.
        experts = pool_experts(obj) if bureau else {}
        members = [
            m
            | {
                "total": points(m["score"]["total_bp"]) if m.get("score") else "",
                "status_label": dict(PanelMember.Status.choices).get(m["status"], m["status"]),
                "username": experts[m["expert"]["id"]].user.username
                if m.get("expert") and m["expert"]["id"] in experts
                else "",
            }
            for m in data["members"]
        ]
        verify = verify_data(obj)
        seated = set(verify["members"])
        drawn = [
            {
                "id": expert_id,
                "position": i,
                "seat": expert_id in seated,
                "username": experts[expert_id].user.username if expert_id in experts else "",
                "name": experts[expert_id].user.full_name if expert_id in experts else "",
            }
            for i, expert_id in enumerate(verify["order"], start=1)
        ]
        return {
            "panel": data,
            "members": members,
            "bureau": bureau,
            "verify": verify,
            "drawn": drawn,
            "decision": decision,
            "reasons": reasons_text(decision) if decision else [],
            "mean": points(decision.mean_bp) if decision else "",
            "library_label": _("City library") if obj.region.is_city else obj.region.name,
            "waiting_for": data["scored"]["size"] - data["scored"]["scored"],
        }


class ReviewDrawAction(ActionPage):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return Submission.objects.select_related("library_region")

    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        size = parse_id(request.POST.get("size", "").strip())
        panel = review.panel_draw(actor=request.user, submission=obj, size=size, now=clock.now())
        return _("A panel of %(n)s experts was drawn.") % {"n": panel.size}, reverse(
            "portal:review-panel", args=[panel.pk]
        )

    def fallback(self, obj: Any) -> str:
        return reverse("portal:review")


class PanelDecideAction(ActionPage):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return Panel.objects.select_related("region")

    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        decision = review.panel_decide(actor=request.user, panel=obj, now=clock.now())
        message = _("Decided: %(outcome)s.") % {"outcome": decision.get_outcome_display()}
        return message, reverse("portal:review-panel", args=[obj.pk])

    def fallback(self, obj: Any) -> str:
        return reverse("portal:review-panel", args=[obj.pk])


class PanelCancelAction(ActionPage):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return Panel.objects.select_related("region")

    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        review.panel_cancel(actor=request.user, panel=obj, reason=request.POST.get("reason", ""), now=clock.now())
        return _("The panel was cancelled; the submission awaits a new draw."), reverse("portal:review")

    def fallback(self, obj: Any) -> str:
        return reverse("portal:review-panel", args=[obj.pk])


class SeatRecuseAction(ActionPage):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return PanelMember.objects.select_related("panel__submission")

    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        review.member_recuse(actor=request.user, member=obj, reason=request.POST.get("reason", ""), now=clock.now())
        return _("Your recusal was recorded and your seat redrawn."), reverse("portal:review-tasks")

    def fallback(self, obj: Any) -> str:
        return reverse("portal:review-task", args=[obj.pk])
