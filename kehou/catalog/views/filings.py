"""Pages of filings to the bureau: the list and acknowledging one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehou.core import clock
from kehou.core.pages import (
    ActionPage,
    ScopedListPage,
    exporting,
    local,
    post_button,
)
from kehou.core.scope import Scope
from kehou.orgs import selectors as org_selectors

from .. import selectors
from ..models import (
    Filing,
)
from ..services import libraries


class FilingAcknowledgeAction(ActionPage):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return Filing.objects.select_related("entry__item")

    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        libraries.filing_acknowledge(actor=request.user, filing=obj, now=clock.now())
        return _("Filing acknowledged: %(item)s.") % {"item": obj.entry.item.name}, None

    def fallback(self, obj: Any) -> str:
        return reverse("portal:filings")


class FilingListPage(ScopedListPage):
    title = gettext_lazy("Filings")
    export_name = "filings"
    search_placeholder = gettext_lazy("Course or teacher name")

    @property
    def columns(self) -> Any:  # type: ignore[override]
        scope, request = self.scope, self.request

        def actions(f: Filing) -> SafeString:
            if scope.everything and f.status == Filing.Status.FILED:
                return post_button(
                    request,
                    reverse("portal:filing-acknowledge", args=[f.pk]),
                    _("Acknowledge"),
                    confirm=_("Acknowledge this filing?"),
                )
            return SafeString("")

        cols: list[tuple[Any, Callable[[Filing], Any]]] = [
            (gettext_lazy("Course or teacher"), lambda f: f.entry.item.name),
            (gettext_lazy("Change"), lambda f: f.get_change_display()),
            (gettext_lazy("Library"), lambda f: f.school.name if f.school else f.district.name),
            (gettext_lazy("District"), lambda f: f.district.name),
            (gettext_lazy("Filed at"), lambda f: local(f.filed_at)),
            (gettext_lazy("Filed by"), lambda f: f.filed_by.full_name),
            (gettext_lazy("Status"), lambda f: f.get_status_display()),
            (gettext_lazy("Acknowledged at"), lambda f: local(f.acknowledged_at)),
        ]
        if not exporting(request):
            cols.insert(1, (gettext_lazy("Actions"), actions))
        return cols

    def select(self, scope: Scope) -> QuerySet[Any]:
        g = self.request.GET
        qs = selectors.filing_list(scope=scope, status=g.get("status", ""), district_code=g.get("district", ""))
        if g.get("change"):
            qs = qs.filter(change=g["change"])
        if search := g.get("q", "").strip():
            qs = qs.filter(entry__item__name__icontains=search)
        return qs

    def filters(self) -> list[dict[str, Any]]:
        g = self.request.GET
        controls: list[dict[str, Any]] = [
            {"name": "status", "label": _("Status"), "choices": Filing.Status.choices, "value": g.get("status", "")},
            {"name": "change", "label": _("Change"), "choices": Filing.Change.choices, "value": g.get("change", "")},
        ]
        if self.scope.everything or len(self.scope.district_ids) > 1:
            districts = [(d.code, d.name) for d in org_selectors.district_list(scope=self.scope)]
            controls.append(
                {"name": "district", "label": _("District"), "choices": districts, "value": g.get("district", "")}
            )
        return controls

    def row_link(self, obj: Any) -> str:
        return reverse("portal:library-entry", args=[obj.entry_id])
