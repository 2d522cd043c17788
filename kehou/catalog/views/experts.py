"""Pages of the experts: their review tasks and the scoring sheet."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehou.core import clock
from kehou.core.errors import KehouError
from kehou.core.masking import mask_student_number
from kehou.core.pages import ScopedDetailPage, ScopedListPage, local
from kehou.core.scope import Scope

from .. import selectors as sel
from ..forms import DeclineForm, ScoreForm
from ..models import PanelMember, SubmissionVersion
from ..services import review
from .common import _error, _library_label, _yuan

_STATE_LABELS = {
    "pending": gettext_lazy("To score"),
    "scored": gettext_lazy("Scored"),
    "declined": gettext_lazy("Declined"),
    "closed": gettext_lazy("Closed"),
}


class ReviewListPage(ScopedListPage):
    title = gettext_lazy("Review tasks")
    export_name = "review-tasks"
    search_placeholder = gettext_lazy("Title")
    template_name = "catalog/expert_list.html"
    columns = (
        (gettext_lazy("Submission"), lambda m: m.panel.submission.title),
        (gettext_lazy("Task"), lambda m: str(_STATE_LABELS[sel.seat_state(m)])),
        (gettext_lazy("Kind"), lambda m: m.panel.submission.get_kind_display()),
        (gettext_lazy("Category"), lambda m: m.panel.submission.category.name),
        (gettext_lazy("Library"), lambda m: _library_label(m.panel.region)),
        (gettext_lazy("Version"), lambda m: m.panel.version_number),
        (gettext_lazy("Assigned"), lambda m: local(m.joined_at)),
    )

    def select(self, scope: Scope) -> QuerySet[Any]:
        g = self.request.GET
        return sel.my_seats(scope=scope, state=g.get("state", ""), search=g.get("q", "").strip())

    def filters(self) -> list[dict[str, Any]]:
        return [
            {
                "name": "state",
                "label": _("Task"),
                "choices": list(_STATE_LABELS.items()),
                "value": self.request.GET.get("state", ""),
            }
        ]

    def row_link(self, obj: Any) -> str:
        return reverse("portal:review-task", args=[obj.pk])


class ReviewSheetPage(ScopedDetailPage):
    """The score sheet of one seat: the version under review and its proofs, a table of the quality standards with
    a score for each (and veto checkboxes), a comment; and the decline form. The bureau sees it read-only."""

    title = gettext_lazy("Score sheet")
    template_name = "catalog/expert_sheet.html"

    def select(self, scope: Scope) -> QuerySet[Any]:
        return sel.seats_readable(scope)

    def extra_context(self, obj: Any) -> dict[str, Any]:
        return self.sheet_context(obj, None, None)

    def sheet_context(self, seat: PanelMember, score_form: Any, decline_form: Any) -> dict[str, Any]:
        scope, user = self.scope, self.request.user
        version = (
            SubmissionVersion.objects.select_related("submission", "submission__category", "teacher__user")
            .prefetch_related("teachers__user")
            .get(submission_id=seat.panel.submission_id, number=seat.panel.version_number)
        )
        submission = version.submission
        mine = seat.expert.user_id == user.pk
        state = sel.seat_state(seat)
        items = sel.quality_items()
        show_identity = sel.may_see_identity(scope=scope, actor=user, submission=submission)
        score = getattr(seat, "score", None)
        given = []
        if score is not None:
            vetoed = set(score.vetoed_items or [])
            given = [
                {"item": i, "score": (score.item_scores or {}).get(str(i.number)), "vetoed": i.number in vetoed}
                for i in items
            ]
        return {
            "title": _("Score sheet"),
            "seat": seat,
            "submission": submission,
            "version": version,
            "state": state,
            "state_label": str(_STATE_LABELS[state]),
            "mine": mine,
            "may_score": mine and state == "pending",
            "library": _library_label(seat.panel.region),
            "teachers": [t.user.full_name for t in version.teachers.all()],
            "teacher": version.teacher.user.full_name if version.teacher else "",
            "identity_number": (
                version.identity_number if show_identity else mask_student_number(version.identity_number)
            ),
            "fee": _yuan(version.fee_per_hour_fen),
            "materials_price": _yuan(version.materials_price_fen),
            "proofs": sel.proofs_of(scope=scope, version=version),
            "items": items,
            "score_form": score_form or ScoreForm(items=items),
            "decline_form": decline_form or DeclineForm(),
            "score": score,
            "given": given,
            "total_percent": f"{score.total_bp / 100:.2f}" if score is not None else "",
        }

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        seat: PanelMember = self.get_object()  # type: ignore[assignment]
        items = sel.quality_items()
        score_form = decline_form = None
        try:
            if request.POST.get("action") == "decline":
                decline_form = DeclineForm(request.POST)
                if not decline_form.is_valid():
                    return self.render_sheet(seat, score_form, decline_form, None, 400)
                review.member_decline(
                    actor=request.user, member=seat, reason=decline_form.cleaned_data["reason"], now=clock.now()
                )
                messages.success(request, _("You declined. The next expert in the draw order takes your seat."))
                return HttpResponseRedirect(reverse("portal:review-tasks"))
            score_form = ScoreForm(request.POST, items=items)
            if not score_form.is_valid():
                return self.render_sheet(seat, score_form, decline_form, None, 400)
            review.score_submit(actor=request.user, member=seat, now=clock.now(), **score_form.to_args())
        except KehouError as exc:
            return self.render_sheet(seat, score_form, decline_form, exc, exc.status)
        messages.success(request, _("Your scores were recorded."))
        return HttpResponseRedirect(reverse("portal:review-task", args=[seat.pk]))

    def render_sheet(
        self, seat: PanelMember, score_form: Any, decline_form: Any, exc: KehouError | None, status: int
    ) -> HttpResponse:
        ctx = self.base_context() | {"object": seat} | self.sheet_context(seat, score_form, decline_form)
        if exc is not None:
            ctx["error"] = _error(exc)
        return render(self.request, self.template_name, ctx, status=status)
