"""Pages of course classes: the list with its seats, a new class, a class's detail (sessions, holds, waitlist),
change, cancel; the places list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehou.catalog.selectors import usable_entries
from kehou.core import clock
from kehou.core.api import parse_id
from kehou.core.cells import Cell, num, stacked
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import KehouError
from kehou.core.pages import (
    ActionPage,
    ScopedDetailPage,
    ScopedListPage,
    ScopedPage,
    cells,
    duration,
    exporting,
    local,
    yuan,
)
from kehou.core.permissions import administers
from kehou.core.scope import Scope
from kehou.core.templatetags.kehou_ui import grade_name
from kehou.orgs.models import School
from kehou.people.selectors import shown_student_number

from .. import selectors
from ..forms import ClassChangeForm, ClassForm
from ..models import CourseClass, Enrolment
from ..services import classes as class_services
from .common import (
    S,
    _chosen_school,
    _default_term,
    _district_filter,
    _school_choices,
    _term_choices,
    fee_text,
    grades_text,
    is_flagged,
    schedule,
    schedule_short,
)


class ClassListPage(ScopedListPage):
    """The classes in view with their seats. A school or bureau reads a table whose seat columns fit a laptop
    screen (the export keeps every column); a teacher who administers nothing reads their own classes as cards."""

    title = gettext_lazy("Course classes")
    export_name = "classes"
    search_placeholder = gettext_lazy("Class or teacher name")
    template_name = "enrolment/class_list.html"

    @property
    def columns(self) -> Any:  # type: ignore[override]
        if not exporting(self.request):
            return self.page_columns()
        cols: list[tuple[Any, Callable[[Any], Any]]] = [
            (gettext_lazy("Course class"), lambda c: c.name),
            (gettext_lazy("School"), lambda c: c.school.name),
            (gettext_lazy("Kind"), lambda c: c.get_kind_display()),
            (gettext_lazy("Term"), lambda c: c.term.name),
            (gettext_lazy("Grades"), grades_text),
            (gettext_lazy("Teacher"), lambda c: c.teacher.user.full_name),
            (gettext_lazy("Schedule"), schedule),
            (gettext_lazy("Room"), lambda c: c.room),
            (gettext_lazy("Capacity"), lambda c: c.capacity),
            (gettext_lazy("Taken"), lambda c: c.taken),
            (gettext_lazy("Held"), lambda c: c.held_count),
            (gettext_lazy("Confirmed"), lambda c: c.confirmed_count),
            (gettext_lazy("Waiting"), lambda c: c.waiting_count),
            (gettext_lazy("Applied"), lambda c: c.applied_count),
            (gettext_lazy("Seats left"), lambda c: c.seats_left),
            (gettext_lazy("Fee"), lambda c: yuan(c.fee_fen)),
            (gettext_lazy("Status"), lambda c: c.get_status_display()),
            (gettext_lazy("Flag"), lambda c: _("Library entry no longer usable") if is_flagged(c) else ""),
        ]
        return cols

    def page_columns(self) -> list[tuple[Any, Callable[[Any], Any]]]:
        """On the page the seats come first after the class: capacity, taken, held, confirmed, waiting, applied
        and seats left as narrow figures; grades, teacher, times and room fold into two columns; the school only
        when more than one is in view; the term is a filter."""

        def about(c: Any) -> Cell:
            tags = []
            if c.kind == CourseClass.Kind.CARE:
                tags.append(format_html('<span class="tag">{}</span>', c.get_kind_display()))
            if c.status != CourseClass.Status.ACTIVE:
                tags.append(format_html('<span class="tag bad">{}</span>', c.get_status_display()))
            if is_flagged(c):
                tags.append(
                    format_html('<span class="tag bad" data-flagged>⚠ {}</span>', _("Library entry no longer usable"))
                )
            line = format_html("{} · {}", grades_text(c), c.teacher.user.full_name)
            return stacked(line, cells(tags), css="fold")

        def seats_left(c: Any) -> Cell:
            css = "num left" + (" full" if c.seats_left <= 0 else "")
            return Cell(c.seats_left, css)

        cols: list[tuple[Any, Callable[[Any], Any]]] = [
            (gettext_lazy("Course class"), lambda c: c.name),
            (Cell(_("Grades · teacher")), about),
            (Cell(_("When and where")), lambda c: stacked(schedule_short(c), c.room, css="fold")),
            (num(_("Capacity")), lambda c: num(c.capacity)),
            (num(_("Taken")), lambda c: num(c.taken)),
            (num(_("Held")), lambda c: num(c.held_count)),
            (num(_("Confirmed")), lambda c: num(c.confirmed_count)),
            (num(_("Waiting")), lambda c: num(c.waiting_count)),
            (num(_("Applied")), lambda c: num(c.applied_count)),
            (num(_("Seats left")), seats_left),
            (num(_("Fee")), lambda c: num(yuan(c.fee_fen))),
        ]
        if self.several_schools():
            cols.insert(1, (gettext_lazy("School"), lambda c: Cell(c.school.name, "fold")))
        return cols

    def several_schools(self) -> bool:
        scope = self.scope
        return bool(scope.everything or scope.district_ids or len(scope.school_ids) > 1 or scope.operator_school_ids)

    def teacher_only(self) -> bool:
        """A teacher who administers no school or district reads their classes as cards, without the filters."""
        scope = self.scope
        return bool(scope.teacher_ids) and not (scope.everything or scope.district_ids or scope.school_ids)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if self.teacher_only() and not exporting(request):
            return self.teacher_view(request)
        return super().get(request, *args, **kwargs)

    def teacher_view(self, request: HttpRequest) -> HttpResponse:
        classes = list(self.get_queryset())
        nexts = selectors.next_sessions(class_ids=[c.pk for c in classes], today=timezone.localdate(clock.now()))
        cards = [
            {
                "c": c,
                "schedule": schedule_short(c),
                "grades": grades_text(c),
                "next": nexts.get(c.pk),
                "flagged": is_flagged(c),
            }
            for c in classes
        ]
        active = [card for card in cards if card["c"].status == CourseClass.Status.ACTIVE]
        ended = [card for card in cards if card["c"].status != CourseClass.Status.ACTIVE]
        active.sort(key=lambda card: (card["next"] is None, card["next"] or timezone.localdate(clock.now())))
        ctx = self.base_context() | {"title": _("My classes"), "active": active, "ended": ended}
        return render(request, "enrolment/teacher_classes.html", ctx)

    def select(self, scope: Scope) -> QuerySet[Any]:
        g = self.request.GET
        return selectors.class_list(
            scope=scope,
            school_id=parse_id(g.get("school", "")),
            district_code=g.get("district", ""),
            term_id=parse_id(g.get("term", "")),
            grade=parse_id(g.get("grade", "")),
            kind=g.get("kind", ""),
            status=g.get("status", ""),
            search=g.get("q", "").strip(),
            flagged=g.get("flagged", "") == "yes",
        ).prefetch_related("slots")

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
            {"name": "kind", "label": _("Kind"), "choices": CourseClass.Kind.choices, "value": g.get("kind", "")},
            {
                "name": "status",
                "label": _("Status"),
                "choices": CourseClass.Status.choices,
                "value": g.get("status", ""),
            },
            {
                "name": "flagged",
                "label": _("Flagged"),
                "choices": [("yes", _("Library entry no longer usable"))],
                "value": g.get("flagged", ""),
            },
        ]
        return controls

    def row_link(self, obj: Any) -> str:
        return reverse("portal:class", args=[obj.pk])

    def extra_context(self) -> dict[str, Any]:
        return {"may_create": bool(self.scope.school_ids), "table_class": "seats", "wide": True}


class ClassNewPage(ScopedPage):
    """A school admin creates a course class (from the school library) or basic care."""

    title = gettext_lazy("New class")
    template_name = "enrolment/class_form.html"

    def select(self, scope: Scope) -> QuerySet[Any]:
        return School.objects.filter(pk__in=scope.school_ids)

    def make_form(self, school: School, data: Any = None) -> ClassForm:
        entries = usable_entries(school=school).filter(item__kind="course").order_by("item__name")
        initial = {"term": _default_term()}
        return ClassForm(
            data,
            school=school,
            entries=entries,
            teachers=selectors.school_teachers(school=school),
            initial=initial,
        )

    def show(
        self, request: HttpRequest, school: School | None, schools: list[School], form: Any, status: int = 200
    ) -> HttpResponse:
        ctx = self.base_context() | {"school": school, "schools": schools, "form": form}
        return render(request, self.template_name, ctx, status=status)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        school, schools = _chosen_school(self.scope, request.GET.get("school"))
        return self.show(request, school, schools, self.make_form(school) if school else None)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        school, schools = _chosen_school(self.scope, request.POST.get("school"))
        if school is None:
            return self.show(request, None, schools, None, status=403)
        form = self.make_form(school, request.POST)
        if not form.is_valid():
            return self.show(request, school, schools, form, status=400)
        d = form.cleaned_data
        try:
            course_class = class_services.class_create(
                actor=request.user,
                school=school,
                term=d["term"],
                teacher=d["teacher"],
                room=d["room"],
                capacity=d["capacity"],
                grade_min=d["grade_min"],
                grade_max=d["grade_max"],
                unit_price_fen=d["price"],
                slots=d["slots"],
                now=clock.now(),
                entry=d.get("entry"),
                kind=d["kind"],
                pricing=d["pricing"],
                name=d.get("name", ""),
                introduction=d.get("introduction", ""),
                materials_name=d.get("materials_name", ""),
                materials_fee_fen=d.get("materials_fee") or 0,
                first_date=d.get("first_date"),
            )
        except KehouError as exc:
            form.add_error(None, exc.message)
            return self.show(request, school, schools, form, status=400 if exc.status < 500 else exc.status)
        messages.success(
            request,
            _("%(name)s was created with %(n)s sessions.")
            % {"name": course_class.name, "n": course_class.session_count},
        )
        return HttpResponseRedirect(reverse("portal:class", args=[course_class.pk]))


def _pupil_cell(scope: Scope, e: Enrolment) -> str:
    name = selectors.shown_pupil_name(scope=scope, pupil=e.pupil, teacher_id=e.course_class.teacher_id)
    return f"{name} · {shown_student_number(scope=scope, pupil=e.pupil)}"


class ClassDetailPage(ScopedDetailPage):
    title = gettext_lazy("Course class")
    template_name = "enrolment/class_detail.html"

    def select(self, scope: Scope) -> QuerySet[Any]:
        return selectors.class_list(scope=scope).prefetch_related("slots")

    def extra_context(self, obj: Any) -> dict[str, Any]:
        scope, now = self.scope, clock.now()
        places = list(selectors.enrolment_list(scope=scope, class_id=obj.pk))
        by_status: dict[str, list[dict[str, Any]]] = {s: [] for s in S.values}
        for e in places:
            seconds = max(int((e.hold_expires_at - now).total_seconds()), 0) if e.hold_expires_at else 0
            by_status[e.status].append(
                {
                    "e": e,
                    "pupil": _pupil_cell(scope, e),
                    "seconds": seconds,
                    "left": duration(seconds),
                    "fee": yuan(e.fee_fen),
                }
            )
        waiting = by_status[S.WAITING]
        for i, row in enumerate(waiting, start=1):
            row["position"] = i
        sessions = list(selectors.class_sessions(course_class=obj))
        return {
            "c": obj,
            "schedule": schedule(obj),
            "grades": grades_text(obj),
            "fee": fee_text(obj),
            "materials_fee": yuan(obj.materials_fee_fen),
            "flagged": is_flagged(obj),
            "sessions": sessions,
            "held": by_status[S.HELD],
            "confirmed": by_status[S.CONFIRMED],
            "waiting": waiting,
            "applied": by_status[S.APPLIED],
            "ended": by_status[S.CANCELLED] + by_status[S.EXPIRED],
            "may_manage": administers(scope, obj.school_id) and obj.status == CourseClass.Status.ACTIVE,
            "draws": list(selectors.draw_list(scope=scope).filter(course_class=obj)),
            "change_form": ClassChangeForm(initial={"capacity": obj.capacity, "room": obj.room}),
        }


class ClassChangeAction(ActionPage):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return CourseClass.objects.select_related("school")

    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        form = ClassChangeForm(request.POST)
        if not form.is_valid():
            raise KehouError(_("The capacity is a whole number between 1 and 500."), code=ErrorCode.INVALID_CAPACITY)
        room = form.cleaned_data.get("room") or None
        class_services.class_update(
            actor=request.user, course_class=obj, capacity=form.cleaned_data.get("capacity"), room=room, now=clock.now()
        )
        return _("%(name)s was changed.") % {"name": obj.name}, None

    def fallback(self, obj: Any) -> str:
        return reverse("portal:class", args=[obj.pk])


class ClassCancelAction(ActionPage):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return CourseClass.objects.select_related("school")

    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        ended = class_services.class_cancel(
            actor=request.user, course_class=obj, reason=request.POST.get("reason", "")[:500], now=clock.now()
        )
        return _("%(name)s was cancelled; %(n)s places ended and their families were told.") % {
            "name": obj.name,
            "n": ended,
        }, None

    def fallback(self, obj: Any) -> str:
        return reverse("portal:class", args=[obj.pk])


class EnrolmentListPage(ScopedListPage):
    """Every place (held, confirmed, waiting, applied, ended) of the classes in view, by class and status, with the
    waitlist position and the hold's expiry: the export a school hands on."""

    title = gettext_lazy("Places in classes")
    export_name = "places"
    search_placeholder = gettext_lazy("Pupil or class name")

    @property
    def columns(self) -> Any:  # type: ignore[override]
        scope = self.scope
        positions: dict[int, dict[int, int]] = {}

        def position(e: Enrolment) -> Any:
            if e.status != S.WAITING:
                return ""
            if e.course_class_id not in positions:
                ids = selectors.waitlist(course_class=e.course_class).values_list("pk", flat=True)
                positions[e.course_class_id] = {pk: i for i, pk in enumerate(ids, start=1)}
            return positions[e.course_class_id].get(e.pk, "")

        cols: list[tuple[Any, Callable[[Any], Any]]] = [
            (
                gettext_lazy("Pupil"),
                lambda e: selectors.shown_pupil_name(scope=scope, pupil=e.pupil, teacher_id=e.course_class.teacher_id),
            ),
            (gettext_lazy("Student number"), lambda e: shown_student_number(scope=scope, pupil=e.pupil)),
            (gettext_lazy("Grade"), lambda e: str(grade_name(e.pupil.grade))),
            (gettext_lazy("Course class"), lambda e: e.course_class.name),
            (gettext_lazy("School"), lambda e: e.course_class.school.name),
            (gettext_lazy("Status"), lambda e: e.get_status_display()),
            (gettext_lazy("Waitlist position"), position),
            (gettext_lazy("Hold expires"), lambda e: local(e.hold_expires_at) if e.status == S.HELD else ""),
            (gettext_lazy("Fee"), lambda e: yuan(e.fee_fen)),
            (gettext_lazy("Fee waived"), lambda e: _("Yes") if e.waived else ""),
            (gettext_lazy("Since"), lambda e: local(e.status_changed_at)),
            (gettext_lazy("Selected at"), lambda e: local(e.created_at)),
        ]
        return cols

    def select(self, scope: Scope) -> QuerySet[Any]:
        g = self.request.GET
        return selectors.enrolment_list(
            scope=scope,
            class_id=parse_id(g.get("class", "")),
            school_id=parse_id(g.get("school", "")),
            status=g.get("status", ""),
            search=g.get("q", "").strip(),
        ).select_related("course_class__school")

    def filters(self) -> list[dict[str, Any]]:
        g = self.request.GET
        controls: list[dict[str, Any]] = []
        schools = _school_choices(self.scope)
        if len(schools) > 1 or g.get("school"):
            controls.append({"name": "school", "label": _("School"), "choices": schools, "value": g.get("school", "")})
        controls.append({"name": "status", "label": _("Status"), "choices": S.choices, "value": g.get("status", "")})
        return controls

    def row_link(self, obj: Any) -> str:
        return reverse("portal:class", args=[obj.course_class_id])
