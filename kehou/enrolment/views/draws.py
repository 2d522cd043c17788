"""Pages of lottery results: the draws and one draw with its seed, applicants and order."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehou.core.api import parse_id
from kehou.core.pages import (
    ScopedDetailPage,
    ScopedListPage,
    local,
)
from kehou.core.scope import Scope
from kehou.core.templatetags.kehou_ui import grade_name

from .. import selectors
from ..models import LotteryDraw
from ..services import lottery
from .common import (
    _school_choices,
)


class DrawListPage(ScopedListPage):
    title = gettext_lazy("Lottery results")
    export_name = "lottery-draws"
    search_placeholder = gettext_lazy("Class name")

    columns = (
        (gettext_lazy("Course class"), lambda d: d.course_class.name),
        (gettext_lazy("School"), lambda d: d.course_class.school.name),
        (gettext_lazy("Grade"), lambda d: str(grade_name(d.window.grade))),
        (gettext_lazy("Seats"), lambda d: d.seats),
        (gettext_lazy("Applicants"), lambda d: len(d.applicants)),
        (gettext_lazy("Seed"), lambda d: d.seed),
        (gettext_lazy("Drawn at"), lambda d: local(d.drawn_at)),
    )

    def select(self, scope: Scope) -> QuerySet[Any]:
        g = self.request.GET
        qs = selectors.draw_list(
            scope=scope, window_id=parse_id(g.get("window", "")), school_id=parse_id(g.get("school", ""))
        )
        if search := g.get("q", "").strip():
            qs = qs.filter(course_class__name__icontains=search)
        return qs

    def filters(self) -> list[dict[str, Any]]:
        g = self.request.GET
        schools = _school_choices(self.scope)
        if len(schools) > 1 or g.get("school"):
            return [{"name": "school", "label": _("School"), "choices": schools, "value": g.get("school", "")}]
        return []

    def row_link(self, obj: Any) -> str:
        return reverse("portal:lottery-draw", args=[obj.pk])


class DrawDetailPage(ScopedDetailPage):
    title = gettext_lazy("Lottery result")
    template_name = "enrolment/draw_detail.html"

    def select(self, scope: Scope) -> QuerySet[Any]:
        return LotteryDraw.objects.select_related("window", "course_class", "course_class__school")

    def extra_context(self, obj: Any) -> dict[str, Any]:
        scope = self.scope
        visible = selectors.pupils_named(scope=scope, pupil_ids=list(obj.applicants))
        mine = set(scope.pupil_ids)
        rows = []
        for rank, pupil_id in enumerate(obj.order, start=1):
            pupil = visible.get(pupil_id)
            won = rank <= obj.seats
            rows.append(
                {
                    "rank": rank,
                    "pupil_id": pupil_id,
                    "name": selectors.shown_pupil_name(scope=scope, pupil=pupil) if pupil is not None else "",
                    "mine": pupil_id in mine,
                    "won": won,
                    "wait": None if won else rank - obj.seats,
                }
            )
        replay = lottery.lottery_replay(obj)
        return {
            "draw": obj,
            "rows": rows,
            "winners": [r for r in rows if r["won"]],
            "replay_matches": replay == list(obj.order),
            "applicants": list(obj.applicants),
        }
