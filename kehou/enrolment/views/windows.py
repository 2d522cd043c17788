"""Pages of selection windows: list, new, publish, cancel, draw; a district's stagger."""

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
from kehou.orgs.models import Region, School

from .. import selectors
from ..forms import StaggerForm, WindowForm
from ..models import SelectionWindow
from ..services import lottery, windows
from .common import (
    _chosen_school,
    _default_term,
    _district_filter,
    _school_choices,
    _term_choices,
)


def window_state_label(w: SelectionWindow) -> str:
    view = selectors.window_state(w, clock.now())
    return {"upcoming": _("Upcoming"), "open": _("Open now"), "closed": _("Closed")}[view.state]


class WindowListPage(ScopedListPage):
    title = gettext_lazy("Selection windows")
    export_name = "selection-windows"
    search_placeholder = gettext_lazy("School name")
    template_name = "enrolment/window_list.html"

    @property
    def columns(self) -> Any:  # type: ignore[override]
        scope, request, now = self.scope, self.request, clock.now()

        def actions(w: SelectionWindow) -> SafeString:
            parts: list[SafeString] = []
            if not administers(scope, w.school_id):
                return SafeString("")
            if w.status == SelectionWindow.Status.DRAFT:
                parts.append(post_button(request, reverse("portal:window-publish", args=[w.pk]), _("Publish")))
            if w.status != SelectionWindow.Status.CANCELLED and w.closes_at > now:
                parts.append(
                    post_button(
                        request,
                        reverse("portal:window-cancel", args=[w.pk]),
                        _("Cancel"),
                        confirm=_("Cancel this window?"),
                        css="small secondary",
                    )
                )
            if (
                w.mode == SelectionWindow.Mode.LOTTERY
                and w.status == SelectionWindow.Status.PUBLISHED
                and w.closes_at <= now
                and w.drawn_at is None
            ):
                parts.append(post_button(request, reverse("portal:window-draw", args=[w.pk]), _("Draw the lottery")))
            if w.drawn_at is not None:
                parts.append(
                    format_html(
                        '<a href="{}?window={}">{}</a>', reverse("portal:lottery-draws"), w.pk, _("Lottery results")
                    )
                )
            return cells(parts)

        cols: list[tuple[Any, Callable[[Any], Any]]] = [
            (gettext_lazy("School"), lambda w: w.school.name),
            (gettext_lazy("Grade"), lambda w: str(grade_name(w.grade))),
            (gettext_lazy("Term"), lambda w: w.term.name),
            (gettext_lazy("Opens at"), lambda w: local(w.opens_at)),
            (gettext_lazy("Closes at"), lambda w: local(w.closes_at)),
            (gettext_lazy("Now"), window_state_label),
            (gettext_lazy("Mode"), lambda w: w.get_mode_display()),
            (gettext_lazy("Most classes per child"), lambda w: w.max_classes),
            (gettext_lazy("Hold (minutes)"), lambda w: w.hold_minutes),
            (gettext_lazy("Status"), lambda w: w.get_status_display()),
            (gettext_lazy("Selections"), lambda w: w.enrolment_count),
            (gettext_lazy("Lottery drawn at"), lambda w: local(w.drawn_at)),
        ]
        if not exporting(request):
            cols.insert(1, (gettext_lazy("Actions"), actions))
        return cols

    def select(self, scope: Scope) -> QuerySet[Any]:
        g = self.request.GET
        qs = selectors.window_list(
            scope=scope,
            school_id=parse_id(g.get("school", "")),
            district_code=g.get("district", ""),
            term_id=parse_id(g.get("term", "")),
            grade=parse_id(g.get("grade", "")),
            status=g.get("status", ""),
        )
        if search := g.get("q", "").strip():
            qs = qs.filter(school__name__icontains=search)
        if g.get("mode"):
            qs = qs.filter(mode=g["mode"])
        return qs

    def filters(self) -> list[dict[str, Any]]:
        g = self.request.GET
        controls = _district_filter(self.scope, g.get("district", ""))
        schools = _school_choices(self.scope, g.get("district", ""))
        if len(schools) > 1 or g.get("school"):
            controls.append({"name": "school", "label": _("School"), "choices": schools, "value": g.get("school", "")})
        controls += [
            {"name": "term", "label": _("Term"), "choices": _term_choices(), "value": g.get("term", "")},
            {
                "name": "grade",
                "label": _("Grade"),
                "choices": [(str(i), grade_name(i)) for i in range(1, 10)],
                "value": g.get("grade", ""),
            },
            {
                "name": "status",
                "label": _("Status"),
                "choices": SelectionWindow.Status.choices,
                "value": g.get("status", ""),
            },
            {"name": "mode", "label": _("Mode"), "choices": SelectionWindow.Mode.choices, "value": g.get("mode", "")},
        ]
        return controls

    def extra_context(self) -> dict[str, Any]:
        return {"may_create": bool(self.scope.school_ids), "may_stagger": bool(self.scope.district_ids)}


class WindowNewPage(ScopedPage):
    title = gettext_lazy("New selection window")
    template_name = "enrolment/window_form.html"

    def select(self, scope: Scope) -> QuerySet[Any]:
        return School.objects.filter(pk__in=scope.school_ids)

    def show(
        self, request: HttpRequest, school: School | None, schools: list[School], form: Any, status: int = 200
    ) -> HttpResponse:
        ctx = self.base_context() | {"school": school, "schools": schools, "form": form}
        return render(request, self.template_name, ctx, status=status)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        school, schools = _chosen_school(self.scope, request.GET.get("school"))
        form = WindowForm(school=school, initial={"term": _default_term()}) if school else None
        return self.show(request, school, schools, form)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        school, schools = _chosen_school(self.scope, request.POST.get("school"))
        if school is None:
            return self.show(request, None, schools, None, status=403)
        form = WindowForm(request.POST, school=school)
        if not form.is_valid():
            return self.show(request, school, schools, form, status=400)
        d = form.cleaned_data
        try:
            window = windows.window_create(
                actor=request.user,
                school=school,
                term=d["term"],
                grade=d["grade"],
                opens_at=d["opens_at"],
                closes_at=d["closes_at"],
                mode=d["mode"],
                max_classes=d["max_classes"],
                hold_minutes=d["hold_minutes"],
                publish=d["publish"],
                now=clock.now(),
            )
        except KehouError as exc:
            form.add_error(None, exc.message)
            return self.show(request, school, schools, form, status=400 if exc.status < 500 else exc.status)
        messages.success(
            request,
            _("The window for %(grade)s was created (%(status)s).")
            % {"grade": grade_name(window.grade), "status": window.get_status_display()},
        )
        return HttpResponseRedirect(reverse("portal:windows") + f"?school={school.pk}")


class _WindowAction(ActionPage):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return SelectionWindow.objects.select_related("school", "school__district", "term")

    def fallback(self, obj: Any) -> str:
        return reverse("portal:windows")


class WindowPublishAction(_WindowAction):
    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        windows.window_publish(actor=request.user, window=obj, now=clock.now())
        return _("The window is published: parents see it with a countdown."), None


class WindowCancelAction(_WindowAction):
    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        windows.window_cancel(actor=request.user, window=obj, now=clock.now())
        return _("The window was cancelled."), None


class WindowDrawAction(_WindowAction):
    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        # The service lets only the school's administrators draw (the tick draws closed windows by itself too).
        drawn = lottery.lottery_draw(window=obj, now=clock.now(), actor=request.user)
        return _("The lottery was drawn: %(n)s oversubscribed classes.") % {"n": drawn}, (
            reverse("portal:lottery-draws") + f"?window={obj.pk}"
        )


class StaggerPage(ScopedPage):
    """A district bureau opens all its schools' windows one after another."""

    title = gettext_lazy("Stagger the district's windows")
    template_name = "enrolment/stagger.html"

    def select(self, scope: Scope) -> QuerySet[Any]:
        return Region.objects.filter(pk__in=scope.district_ids).order_by("code")

    def show(self, request: HttpRequest, districts: list[Region], form: Any, status: int = 200) -> HttpResponse:
        ctx = self.base_context() | {"districts": districts, "form": form}
        return render(request, self.template_name, ctx, status=status)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        districts = list(self.get_queryset())
        form = StaggerForm(districts=districts, initial={"term": _default_term()}) if districts else None
        return self.show(request, districts, form)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        districts = list(self.get_queryset())
        if not districts:
            return self.show(request, districts, None, status=403)
        form = StaggerForm(request.POST, districts=districts)
        if not form.is_valid():
            return self.show(request, districts, form, status=400)
        d = form.cleaned_data
        district = next((r for r in districts if r.code == d.get("district")), districts[0])
        try:
            result = windows.windows_stagger(
                actor=request.user,
                district=district,
                term=d["term"],
                first_opens_at=d["first_opens_at"],
                step_minutes=d["step_minutes"],
                length_minutes=d["length_minutes"],
                mode=d["mode"],
                max_classes=d["max_classes"],
                hold_minutes=d["hold_minutes"],
                now=clock.now(),
            )
        except KehouError as exc:
            form.add_error(None, exc.message)
            return self.show(request, districts, form, status=400 if exc.status < 500 else exc.status)
        messages.success(
            request,
            _(
                "%(created)s windows were published for %(schools)s schools (%(skipped)s grades already had one); "
                "the last school opens at %(last)s."
            )
            % {
                "created": result.created,
                "schools": result.schools,
                "skipped": result.skipped,
                "last": local(result.last_opens_at),
            },
        )
        return HttpResponseRedirect(reverse("portal:windows") + f"?district={district.code}")
