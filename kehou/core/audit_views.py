from __future__ import annotations

import json
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehou.core.pages import ScopedListPage

from .audit_actions import AuditAction
from .scope import Scope
from .selectors import audit_list


class AuditListPage(ScopedListPage):
    title = _("Audit log")
    export_name = "audit"
    search_placeholder = _("Action, e.g. role.granted")
    columns = (
        (_("Time"), lambda e: timezone.localtime(e.at).strftime("%Y-%m-%d %H:%M:%S")),
        (_("Actor"), lambda e: e.actor_label),
        (_("Action"), lambda e: action_label(e.action)),
        (_("Object"), lambda e: f"{e.object_type}#{e.object_id} {e.object_repr}"),
        (_("Before"), lambda e: json.dumps(e.before, ensure_ascii=False) if e.before else ""),
        (_("After"), lambda e: json.dumps(e.after, ensure_ascii=False) if e.after else ""),
        (_("Client address"), lambda e: e.client_ip or ""),
    )

    def select(self, scope: Scope) -> QuerySet[Any]:
        g = self.request.GET
        return audit_list(
            scope=scope,
            action=g.get("q", "").strip() or g.get("action", ""),
            object_type=g.get("object_type", ""),
            actor=g.get("actor", ""),
            since=g.get("since", ""),
            until=g.get("until", ""),
        )

    def filters(self) -> list[dict[str, Any]]:
        g = self.request.GET
        return [
            {"name": "since", "label": _("Date from"), "type": "date", "value": g.get("since", "")},
            {"name": "until", "label": _("Date to"), "type": "date", "value": g.get("until", "")},
        ]


def action_label(action: str) -> str:
    """The audited action in words ("退费：批准"); an action no longer in the enum is shown as it was recorded."""
    try:
        return str(AuditAction(action).label)
    except ValueError:
        return action
