"""Pages of the schools and the bureaus: course classes with their seats, waitlists and holds; selection windows
(create, publish, cancel, draw, and a district's stagger); hardship waivers (mark, approve or reject by a second
person, revoke); lottery results. Bureaus read what their scope reaches; only a school's own administrators write.

Reads go through the scoped page base classes (every list filters and exports to Excel); each action is a POST
form (with CSRF) to a small action page that reads its row through the same scope (a row out of scope is a 404),
calls one service and returns to the page it came from with the outcome as a message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.contrib import messages
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehou.catalog.selectors import usable_entries
from kehou.core import clock
from kehou.core.api import parse_id
from kehou.core.errors import KehouError
from kehou.core.money import fen_to_yuan_str
from kehou.core.scope import Scope
from kehou.orgs import selectors as org_selectors
from kehou.orgs.models import Region, School, Term
from kehou.people.selectors import shown_student_number
from kehou.portal.pages import ScopedDetailPage, ScopedListPage, ScopedPage
from kehou.portal.templatetags.kehou_ui import grade_name

from . import selectors
from .forms import WEEKDAY_SHORT, ClassChangeForm, ClassForm, StaggerForm, WaiverForm, WindowForm
from .models import CourseClass, Enrolment, HardshipWaiver, LotteryDraw, SelectionWindow
from .services import classes as class_services
from .services import selection, waivers, windows

S = Enrolment.Status


# --- small presentation helpers (shared with views_parent) ------------------------------------------------------
def yuan(fen: int | None) -> str:
    return "" if fen is None else f"¥{fen_to_yuan_str(fen)}"


def local(dt: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return timezone.localtime(dt).strftime(fmt) if dt else ""


def duration(seconds: int) -> str:
    """Seconds as the countdown shows them before its script runs: "1 d 02:03:04" or "02:03:04"."""
    seconds = max(int(seconds), 0)
    days, rest = divmod(seconds, 86400)
    text = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
    return f"{days} {_('d')} {text}" if days else text


def schedule(course_class: CourseClass) -> str:
    """The weekly time slots: "Mon 16:00–17:00, Wed 16:00–17:00"."""
    return ", ".join(
        f"{WEEKDAY_SHORT[s.weekday]} {s.starts_at:%H:%M}–{s.ends_at:%H:%M}" for s in course_class.slots.all()
    )


def grades_text(course_class: CourseClass) -> str:
    if course_class.grade_min == course_class.grade_max:
        return str(grade_name(course_class.grade_min))
    return f"{grade_name(course_class.grade_min)}–{grade_name(course_class.grade_max)}"


def unit_label(course_class: CourseClass) -> str:
    labels: dict[str, str] = {
        CourseClass.Pricing.PER_HOUR: _("per class hour"),
        CourseClass.Pricing.PER_DAY: _("per day"),
        CourseClass.Pricing.PER_MONTH: _("per month"),
    }
    return labels.get(course_class.pricing, "")


def fee_text(course_class: CourseClass) -> str:
    """Price × sessions = fee, in yuan."""
    if course_class.pricing == CourseClass.Pricing.PER_HOUR:
        return _("%(price)s per class hour × %(n)s sessions = %(fee)s") % {
            "price": yuan(course_class.unit_price_fen),
            "n": course_class.session_count,
            "fee": yuan(course_class.fee_fen),
        }
    return _("%(price)s %(unit)s, %(n)s sessions: %(fee)s for the term") % {
        "price": yuan(course_class.unit_price_fen),
        "unit": unit_label(course_class),
        "n": course_class.session_count,
        "fee": yuan(course_class.fee_fen),
    }


def is_flagged(course_class: Any) -> bool:
    """A course whose library entry is no longer usable (suspended or withdrawn somewhere up the chain)."""
    return course_class.kind == CourseClass.Kind.COURSE and not getattr(course_class, "entry_usable", True)


def post_button(
    request: HttpRequest,
    url: str,
    label: str,
    *,
    extra: dict[str, Any] | None = None,
    confirm: str = "",
    css: str = "small",
) -> SafeString:
    hidden = {"csrfmiddlewaretoken": get_token(request), "next": request.get_full_path(), **(extra or {})}
    inputs = format_html_join("", '<input type="hidden" name="{}" value="{}">', hidden.items())
    confirm_attr = format_html(' data-confirm="{}"', confirm) if confirm else ""
    return format_html(
        '<form method="post" action="{}" class="inline-action"{}>{}<button type="submit" class="{}">{}</button></form>',
        url,
        confirm_attr,
        inputs,
        css,
        label,
    )


def _cells(parts: list[SafeString]) -> SafeString:
    return format_html_join("", "{}", ((p,) for p in parts))


def _exporting(request: HttpRequest) -> bool:
    return request.GET.get("format") == "xlsx"


def safe_next(request: HttpRequest) -> str | None:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        return target
    return None


def administers(scope: Scope, school_id: int) -> bool:
    """Whether the viewer writes this school's classes, windows and waivers (the services decide in the end)."""
    return "superuser" in scope.roles or school_id in scope.school_ids


class ActionPage(ScopedPage):
    """A POST-only action on one scoped row: the row is read through the scope first (404 when out of scope), then
    one service call, then back with a message. A service refusal is shown as its message, never a 500."""

    http_method_names: ClassVar[list[str]] = ["post"]  # type: ignore[misc]
    pk_url_kwarg: ClassVar[str] = "pk"

    def get_object(self) -> Model:
        try:
            return self.get_queryset().get(pk=self.kwargs[self.pk_url_kwarg])  # type: ignore[no-any-return]
        except (self.get_queryset().model.DoesNotExist, ValueError, TypeError) as exc:
            raise Http404 from exc

    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        raise NotImplementedError

    def fallback(self, obj: Any) -> str:
        return reverse("portal:home")

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        obj = self.get_object()
        target: str | None = None
        try:
            message, target = self.act(request, obj)
        except KehouError as exc:
            if exc.status == 404:
                raise Http404 from exc
            messages.error(request, exc.message)
        else:
            messages.success(request, message)
        return HttpResponseRedirect(target or safe_next(request) or self.fallback(obj))


def _school_choices(scope: Scope, district: str = "") -> list[tuple[str, str]]:
    schools = scope.filter(School.objects.all())
    if district:
        schools = schools.filter(district__code=district)
    return [(str(pk), name) for pk, name in schools.order_by("code").values_list("pk", "name")]


def _term_choices() -> list[tuple[str, str]]:
    return [(str(pk), name) for pk, name in Term.objects.order_by("-starts_on").values_list("pk", "name")]


def _district_filter(scope: Scope, value: str) -> list[dict[str, Any]]:
    if scope.everything or len(scope.district_ids) > 1:
        districts = [(d.code, d.name) for d in org_selectors.district_list(scope=scope)]
        return [{"name": "district", "label": _("District"), "choices": districts, "value": value}]
    return []


def _admin_schools(scope: Scope) -> list[School]:
    return list(School.objects.filter(pk__in=scope.school_ids).select_related("district").order_by("code"))


def _chosen_school(scope: Scope, wanted: Any) -> tuple[School | None, list[School]]:
    schools = _admin_schools(scope)
    chosen = next((s for s in schools if str(s.pk) == str(wanted or "")), schools[0] if schools else None)
    return chosen, schools


def _default_term() -> Term | None:
    return org_selectors.current_term(today=timezone.localdate(clock.now()))


# --- classes -----------------------------------------------------------------------------------------------------
class ClassListPage(ScopedListPage):
    title = gettext_lazy("Course classes")
    export_name = "classes"
    search_placeholder = gettext_lazy("Class or teacher name")
    template_name = "enrolment/class_list.html"

    @property
    def columns(self) -> Any:  # type: ignore[override]
        exporting = _exporting(self.request)

        def flag(c: Any) -> Any:
            if not is_flagged(c):
                return ""
            text = _("Library entry no longer usable")
            return text if exporting else format_html('<span class="tag bad" data-flagged>⚠ {}</span>', text)

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
            (gettext_lazy("Flag"), flag),
        ]
        return cols

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
        return {"may_create": bool(self.scope.school_ids)}


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

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
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
            raise KehouError(_("The capacity is a whole number between 1 and 500."), code="invalid_capacity")
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


# --- windows -----------------------------------------------------------------------------------------------------
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
            return _cells(parts)

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
        if not _exporting(request):
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
        drawn = selection.lottery_draw(window=obj, now=clock.now(), actor=request.user)
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


# --- waivers -----------------------------------------------------------------------------------------------------
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
                parts.append(post_button(request, url, _("Approve"), extra={"decision": "approve"}))
                parts.append(
                    post_button(request, url, _("Reject"), extra={"decision": "reject"}, css="small secondary")
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
            return _cells(parts)

        cols: list[tuple[Any, Callable[[Any], Any]]] = [
            (gettext_lazy("Pupil"), lambda w: selectors.shown_pupil_name(scope=scope, pupil=w.pupil)),
            (gettext_lazy("Student number"), lambda w: shown_student_number(scope=scope, pupil=w.pupil)),
            (gettext_lazy("School"), lambda w: w.pupil.school.name),
            (gettext_lazy("Grade"), lambda w: str(grade_name(w.pupil.grade))),
            (gettext_lazy("Term"), lambda w: w.term.name),
            (gettext_lazy("Reason"), lambda w: w.reason),
            (gettext_lazy("Status"), lambda w: w.get_status_display()),
            (gettext_lazy("Marked by"), lambda w: w.requested_by.full_name),
            (gettext_lazy("Marked at"), lambda w: local(w.requested_at)),
            (gettext_lazy("Decided by"), lambda w: w.decided_by.full_name if w.decided_by else ""),
            (gettext_lazy("Decided at"), lambda w: local(w.decided_at)),
        ]
        if not _exporting(request):
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
            raise KehouError(_("Choose approve or reject."), code="invalid_decision")
        waivers.waiver_decide(actor=request.user, waiver=obj, approve=decision == "approve", now=clock.now())
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


# --- lottery results ---------------------------------------------------------------------------------------------
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
        replay = selection.lottery_replay(obj)
        return {
            "draw": obj,
            "rows": rows,
            "winners": [r for r in rows if r["won"]],
            "replay_matches": replay == list(obj.order),
            "applicants": list(obj.applicants),
        }
