"""Pages of hardship waivers: list, mark a pupil, decide (a second person), revoke."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehou.core import clock
from kehou.core.api import parse_id
from kehou.core.cells import Cell, reject_with_reason
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import KehouError
from kehou.core.pages import (
    ActionPage,
    ScopedListPage,
    ScopedPage,
    cells,
    exporting,
    local,
    post_button,
)
from kehou.core.permissions import administers
from kehou.core.scope import Scope
from kehou.core.templatetags.kehou_ui import grade_name
from kehou.orgs.models import School
from kehou.people.selectors import shown_student_number

from .. import selectors
from ..forms import WaiverForm
from ..models import HardshipWaiver
from ..services import waivers
from .common import (
    _default_term,
    _school_choices,
    _term_choices,
)


class WaiverListPage(ScopedListPage):
    title = gettext_lazy("Hardship waivers")
    export_name = "waivers"
    search_placeholder = gettext_lazy("Pupil name")
    template_name = "enrolment/waiver_list.html"

    @property
    def columns(self) -> Any:  # type: ignore[override]
        scope, request = self.scope, self.request
        me = request.user.pk

        def actions(w: HardshipWaiver) -> SafeString:
            parts: list[SafeString] = []
            school = w.pupil.school
            may_decide = administers(scope, school.pk) or school.district_id in scope.district_ids
            if w.status == HardshipWaiver.Status.PENDING and may_decide and w.requested_by_id != me:
                url = reverse("portal:waiver-decide", args=[w.pk])
                parts.append(
                    post_button(
                        request,
                        url,
                        _("Approve"),
                        extra={"decision": "approve"},
                        confirm=_("Approve this waiver? The pupil then selects at no fee."),
                    )
                )
                parts.append(
                    reject_with_reason(
                        request,
                        url,
                        label=_("Reject"),
                        confirm=_("Reject this waiver?"),
                        reason_label=_("Reason for rejecting"),
                        submit=_("Reject the waiver"),
                    )
                )
            if w.status == HardshipWaiver.Status.APPROVED and administers(scope, school.pk):
                parts.append(
                    post_button(
                        request,
                        reverse("portal:waiver-revoke", args=[w.pk]),
                        _("Revoke"),
                        confirm=_("Revoke this waiver?"),
                        css="small secondary",
                    )
                )
            if not parts:
                return cells(parts)
            return Cell(format_html('<div class="decide" data-decide>{}</div>', cells(parts)))

        cols: list[tuple[Any, Callable[[Any], Any]]] = [
            (gettext_lazy("Pupil"), lambda w: selectors.shown_pupil_name(scope=scope, pupil=w.pupil)),
            (gettext_lazy("Student number"), lambda w: shown_student_number(scope=scope, pupil=w.pupil)),
            (gettext_lazy("School"), lambda w: w.pupil.school.name),
            (gettext_lazy("Grade"), lambda w: str(grade_name(w.pupil.grade))),
            (gettext_lazy("Term"), lambda w: w.term.name),
            (gettext_lazy("Reason"), lambda w: w.reason if exporting(request) else Cell(w.reason, "fold wide-fold")),
            (gettext_lazy("Status"), lambda w: w.get_status_display()),
            (gettext_lazy("Marked by"), lambda w: w.requested_by.full_name),
            (gettext_lazy("Marked at"), lambda w: local(w.requested_at)),
            (gettext_lazy("Decided by"), lambda w: w.decided_by.full_name if w.decided_by else ""),
            (gettext_lazy("Decided at"), lambda w: local(w.decided_at)),
        ]
        if not exporting(request):
            cols.insert(1, (gettext_lazy("Actions"), actions))
        return cols

    def select(self, scope: Scope) -> QuerySet[Any]:
        g = self.request.GET
        qs = selectors.waiver_list(
            scope=scope,
            school_id=parse_id(g.get("school", "")),
            term_id=parse_id(g.get("term", "")),
            status=g.get("status", ""),
        )
        if search := g.get("q", "").strip():
            qs = qs.filter(pupil__name__contains=search)
        return qs

    def filters(self) -> list[dict[str, Any]]:
        g = self.request.GET
        controls: list[dict[str, Any]] = []
        schools = _school_choices(self.scope)
        if len(schools) > 1 or g.get("school"):
            controls.append({"name": "school", "label": _("School"), "choices": schools, "value": g.get("school", "")})
        controls += [
            {"name": "term", "label": _("Term"), "choices": _term_choices(), "value": g.get("term", "")},
            {
                "name": "status",
                "label": _("Status"),
                "choices": HardshipWaiver.Status.choices,
                "value": g.get("status", ""),
            },
        ]
        return controls

    def extra_context(self) -> dict[str, Any]:
        may_mark = bool(self.scope.school_ids)
        return {
            "wide": True,
            "may_mark": may_mark,
            "waiver_form": WaiverForm(initial={"term": _default_term()}) if may_mark else None,
        }


class WaiverNewPage(ScopedPage):
    """A school admin marks a pupil (by student number) for a fee waiver; a second person approves."""

    title = gettext_lazy("Mark a pupil for a fee waiver")
    template_name = "enrolment/waiver_form.html"

    def select(self, scope: Scope) -> QuerySet[Any]:
        return School.objects.filter(pk__in=scope.school_ids)

    def show(self, request: HttpRequest, form: Any, status: int = 200) -> HttpResponse:
        ctx = self.base_context() | {"form": form, "may_mark": bool(self.scope.school_ids)}
        return render(request, self.template_name, ctx, status=status)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.show(request, WaiverForm(initial={"term": _default_term()}))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.scope.school_ids:
            return self.show(request, None, status=403)
        form = WaiverForm(request.POST)
        if not form.is_valid():
            return self.show(request, form, status=400)
        d = form.cleaned_data
        pupil = selectors.pupil_by_student_number(scope=self.scope, student_number=d["student_number"])
        if pupil is None:
            form.add_error("student_number", _("No pupil of your school has this student number."))
            return self.show(request, form, status=400)
        try:
            waivers.waiver_request(actor=request.user, pupil=pupil, term=d["term"], reason=d["reason"], now=clock.now())
        except KehouError as exc:
            form.add_error(None, exc.message)
            return self.show(request, form, status=400 if exc.status < 500 else exc.status)
        messages.success(
            request, _("%(name)s is marked for a fee waiver; a second person must approve it.") % {"name": pupil.name}
        )
        return HttpResponseRedirect(reverse("portal:waivers"))


class _WaiverAction(ActionPage):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return HardshipWaiver.objects.select_related("pupil", "pupil__school", "pupil__school__district")

    def fallback(self, obj: Any) -> str:
        return reverse("portal:waivers")


class WaiverDecideAction(_WaiverAction):
    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        decision = request.POST.get("decision", "")
        if decision not in ("approve", "reject"):
            raise KehouError(_("Choose approve or reject."), code=ErrorCode.INVALID_DECISION)
        reason = request.POST.get("reason", "").strip()[:200]
        if decision == "reject" and not reason:
            raise KehouError(_("Give the reason for rejecting the waiver."), code=ErrorCode.REASON_REQUIRED)
        waivers.waiver_decide(
            actor=request.user, waiver=obj, approve=decision == "approve", reason=reason, now=clock.now()
        )
        if decision == "approve":
            return _("The waiver of %(name)s is approved.") % {
                "name": selectors.shown_pupil_name(scope=self.scope, pupil=obj.pupil)
            }, None
        return _("The waiver of %(name)s is rejected.") % {
            "name": selectors.shown_pupil_name(scope=self.scope, pupil=obj.pupil)
        }, None


class WaiverRevokeAction(_WaiverAction):
    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        waivers.waiver_revoke(actor=request.user, waiver=obj, now=clock.now())
        return _("The waiver of %(name)s is revoked.") % {
            "name": selectors.shown_pupil_name(scope=self.scope, pupil=obj.pupil)
        }, None
