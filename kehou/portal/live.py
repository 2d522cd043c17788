"""The live view of schools (运营端): today's sessions of the caller's schools with each teacher's check-in and the
roll call's counts, the day's figures and the follow-up queue, updated through the event channel; any past day as
history, by school, class and teacher; Excel export of both lists. Composed from attendance's selectors."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.handlers.asgi import ASGIRequest
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehou.attendance import live, selectors
from kehou.attendance.models import FollowUp
from kehou.attendance.services import followups
from kehou.core import clock
from kehou.core.api import parse_id
from kehou.core.excel import xlsx_response
from kehou.core.pages import ActionPage, ScopedPage, query_day
from kehou.core.scope import Scope

CHECK_IN_CSS = {"on_time": "ok", "makeup": "ok", "late": "warn", "uncertain": "warn", "missing": "bad"}
CHECK_IN_CSS |= {"missed": "bad", "outside": "bad", "not_yet": "state-upcoming"}


class LivePage(ScopedPage):
    title = gettext_lazy("Live view")
    template_name = "portal/live.html"

    def select(self, scope: Scope) -> QuerySet[Any]:
        return FollowUp.objects.none()  # the board reads through attendance.live, narrowed to the scope there

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        scope = self.scope  # who watches no school sees an empty board (the menu does not offer it)
        day = query_day(request)
        now = clock.now()
        school_id = parse_id(request.GET.get("school", ""))
        class_id = parse_id(request.GET.get("course_class", ""))
        teacher = (request.GET.get("teacher") or "").strip()[:40]
        board = live.live_board(scope=scope, day=day, now=now, school_id=school_id, class_id=class_id, teacher=teacher)
        if request.GET.get("format") == "xlsx":
            return self.export(request, board, day)
        for card in board["sessions"]:
            card["state_label"] = selectors.STATE_LABELS.get(card["state"], card["state"])
            card["check_in"]["label"] = live.CHECK_IN_LABELS.get(card["check_in"]["code"], "")
            card["check_in"]["css"] = CHECK_IN_CSS.get(card["check_in"]["code"], "")
            card["follow_up_labels"] = [FollowUp.Kind(k).label for k in card["follow_ups"]]
        may_handle = bool(scope.school_ids or scope.operator_school_ids or scope.everything)
        for f in board["follow_ups"]:
            f["kind_label"] = FollowUp.Kind(f["kind"]).label
            f["level_label"] = FollowUp.Level(f["level"]).label
        query = request.GET.copy()
        query["format"] = "xlsx"
        ctx = self.base_context() | {
            "wide": True,
            "board": board,
            "day": day,
            "today": timezone.localdate(now),
            "schools": live.watched_schools(scope),
            "school_id": school_id,
            "class_id": class_id,
            "teacher": teacher,
            "topics": " ".join(live.board_topics(scope)),
            "may_handle": may_handle,
            "export_sessions": f"?{query.urlencode()}&list=sessions",
            "export_follow_ups": f"?{query.urlencode()}&list=follow_ups",
        }
        template = "portal/_live_board.html" if request.GET.get("fragment") else self.template_name
        return render(request, template, ctx)

    def export(self, request: HttpRequest, board: dict[str, Any], day: date) -> HttpResponseBase:
        asynchronous = isinstance(request, ASGIRequest)
        if request.GET.get("list") == "follow_ups":
            return xlsx_response(
                filename=f"follow-ups-{day}.xlsx",
                title=_("Follow-ups"),
                headers=[_("Opened"), _("School"), _("Class"), _("Teacher"), _("Kind"), _("With"), _("Pupils")],
                rows=(
                    [
                        timezone.localtime(f["opened_at"]).strftime("%Y-%m-%d %H:%M"),
                        f["school"]["name"],
                        f["course_class"]["name"],
                        f["teacher"] or "",
                        str(FollowUp.Kind(f["kind"]).label),
                        str(FollowUp.Level(f["level"]).label),
                        f["count"],
                    ]
                    for f in board["follow_ups"]
                ),
                asynchronous=asynchronous,
            )
        headers = [_("Date"), _("Time"), _("School"), _("Class"), _("Room"), _("Teacher"), _("State"), _("Check-in")]
        headers += [_("Expected"), _("Present"), _("Absent"), _("On leave"), _("Unmarked")]
        return xlsx_response(
            filename=f"live-{day}.xlsx",
            title=_("Live view"),
            headers=[str(h) for h in headers],
            rows=(
                [
                    c["date"].isoformat(),
                    f"{c['starts_at']:%H:%M}–{c['ends_at']:%H:%M}",
                    c["school"]["name"],
                    c["course_class"]["name"],
                    c["room"],
                    c["teacher"] or "",
                    str(selectors.STATE_LABELS.get(c["state"], c["state"])),
                    str(live.CHECK_IN_LABELS.get(c["check_in"]["code"], "")),
                    c["roll_call"]["expected"],
                    c["roll_call"]["present"],
                    c["roll_call"]["absent"],
                    c["roll_call"]["leave"],
                    c["roll_call"]["unmarked"],
                ]
                for c in board["sessions"]
            ),
            asynchronous=asynchronous,
        )


class FollowUpHandleAction(ActionPage):
    """The school or an authorised operator closes a follow-up with a note."""

    def select(self, scope: Scope) -> QuerySet[Any]:
        return FollowUp.objects.select_related("school")

    def fallback(self, obj: Any) -> str:
        return reverse("portal:live")

    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        row = followups.followup_handle(
            actor=request.user, follow_up=obj, note=request.POST.get("note", ""), now=clock.now()
        )
        return _("Follow-up closed: %(what)s.") % {"what": row.get_kind_display()}, None
