from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kehou.core.pages import ScopedListPage
from kehou.core.scope import Scope

from . import selectors
from .models import School


class SchoolListPage(ScopedListPage):
    title = _("Schools")
    export_name = "schools"
    search_placeholder = _("School name or identifier")
    columns = (
        (_("School name"), lambda s: s.name),
        (_("School identifier"), lambda s: s.code),
        (_("District"), lambda s: s.district.name),
        (_("Stage"), lambda s: s.get_stage_display()),
        (_("Run by"), lambda s: s.get_authority_display()),
        (_("Pupils"), lambda s: s.pupil_count),
        (_("Joined"), lambda s: s.joined_at.date().isoformat() if s.joined_at else "—"),
    )

    def select(self, scope: Scope) -> QuerySet[Any]:
        g = self.request.GET
        return selectors.school_list(
            scope=scope,
            search=g.get("q", "").strip(),
            district_code=g.get("district", ""),
            stage=g.get("stage", ""),
            authority=g.get("authority", ""),
            joined=g.get("joined", ""),
        )

    def filters(self) -> list[dict[str, Any]]:
        g = self.request.GET
        districts = [(d.code, d.name) for d in selectors.district_list(scope=self.scope)]
        return [
            {"name": "district", "label": _("District"), "choices": districts, "value": g.get("district", "")},
            {"name": "stage", "label": _("Stage"), "choices": School.Stage.choices, "value": g.get("stage", "")},
            {
                "name": "authority",
                "label": _("Run by"),
                "choices": School.Authority.choices,
                "value": g.get("authority", ""),
            },
            {
                "name": "joined",
                "label": _("Joined"),
                "choices": [("yes", _("Yes")), ("no", _("No"))],
                "value": g.get("joined", ""),
            },
        ]

    def row_link(self, obj: Any) -> str:
        return reverse("portal:school", args=[obj.pk])
