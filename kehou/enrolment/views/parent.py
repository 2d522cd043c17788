"""The parents' pages, phone first: each child's selection windows with a live countdown, the classes open to a
child with a Select (or "Join the waitlist") button, the children's places with hold countdowns, waitlist
positions and Cancel, and the notification centre.

Selecting posts a request key generated for each rendered form, so a double tap or a resent form is one
selection (``services.selection.enrolment_select`` answers a repeated key with the first result). Refusals
(class full, time clash, too many classes, window closed) come back as the service's message on the page.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehou.core import clock
from kehou.core.api import parse_id
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import KehouError
from kehou.core.pages import ActionPage, ScopedPage, duration, local, yuan
from kehou.core.scope import Scope
from kehou.people.models import Pupil

from .. import selectors
from ..hooks import place_payments
from ..models import Enrolment, SelectionWindow
from ..services import selection
from .common import fee_text, schedule

S = Enrolment.Status

# Friendlier words for the refusals a parent meets in the rush (the service's message is kept for the rest).
FRIENDLY = {
    "class_full": gettext_lazy("This class has just filled up. You can join its waitlist instead."),
    "window_closed": gettext_lazy("Selection is not open for this child's grade right now."),
    "already_selected": gettext_lazy("Your child already has a place in this class."),
}


def seconds_until(when: datetime | None, now: datetime) -> int:
    return max(int((when - now).total_seconds()), 0) if when else 0


def place_view(e: Enrolment, position: int | None, now: datetime) -> dict[str, Any]:
    """What the parent is told about one place: its status in words, the hold countdown, the waitlist position."""
    seconds = seconds_until(e.hold_expires_at, now) if e.status == S.HELD else 0
    if e.status == S.HELD:
        text = _("Seat held until %(time)s: pay within %(n)s minutes.") % {
            "time": local(e.hold_expires_at, "%H:%M"),
            "n": math.ceil(seconds / 60),
        }
    elif e.status == S.WAITING:
        text = _("Waitlist position %(n)s.") % {"n": position or "?"}
    elif e.status == S.APPLIED:
        text = _("Applied: the lottery is drawn when the window closes.")
    elif e.status == S.CONFIRMED:
        text = _("Confirmed.") + (" " + _("Fee waived.") if e.waived else "")
    else:
        text = e.get_status_display()
    return {
        "e": e,
        "status": e.status,
        "text": text,
        "seconds": seconds,
        "left": duration(seconds),
        "position": position,
        "live": e.status in (S.APPLIED, S.WAITING, S.HELD, S.CONFIRMED),
        "fee": yuan(e.fee_fen),
        "paid_order": None,  # the paid order's id: a paid place is cancelled through its refund (with_paid_orders)
    }


def with_paid_orders(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mark the places that have a paid order: their Cancel goes to the refund page."""
    paid = place_payments().paid_orders_by_enrolment([r["e"].pk for r in rows])
    for r in rows:
        r["paid_order"] = paid.get(r["e"].pk)
    return rows


def window_view(view: selectors.WindowView) -> dict[str, Any]:
    w = view.window
    seconds = view.seconds_to_open if view.state == "upcoming" else view.seconds_to_close
    return {
        "w": w,
        "state": view.state,
        "seconds": seconds,
        "left": duration(seconds),
        "opens": local(w.opens_at),
        "closes": local(w.closes_at),
        "lottery": w.mode == SelectionWindow.Mode.LOTTERY,
        "drawn": w.drawn_at is not None,
    }


class ParentHomePage(ScopedPage):
    """Each child (children may attend different schools) with its open and upcoming windows."""

    title = gettext_lazy("Class selection")
    template_name = "enrolment/parent_home.html"
    http_method_names = ["get", "head", "options"]

    def select(self, scope: Scope) -> QuerySet[Any]:
        return selectors.children_of(self.request.user)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        now = clock.now()
        children = list(self.get_queryset().order_by("school__code", "grade", "name", "pk"))
        places = selectors.live_places_by_pupil(pupil_ids=[c.pk for c in children])
        rows = [
            {
                "pupil": c,
                "windows": [window_view(v) for v in selectors.windows_for_pupil(pupil=c, now=now)],
                "places": places.get(c.pk, 0),
            }
            for c in children
        ]
        return render(request, self.template_name, self.base_context() | {"children": rows})


class ChildClassesPage(ScopedPage):
    """The classes open to one child; guardians select, others (the school, the bureaus) see the same list."""

    title = gettext_lazy("Course classes")
    template_name = "enrolment/parent_classes.html"
    http_method_names = ["get", "head", "options"]

    def select(self, scope: Scope) -> QuerySet[Any]:
        return Pupil.objects.select_related("school", "school__district")

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            pupil = self.get_queryset().get(pk=self.kwargs["pupil_id"])
        except (Pupil.DoesNotExist, ValueError, TypeError) as exc:
            raise Http404 from exc
        now = clock.now()
        windows = [window_view(v) for v in selectors.windows_for_pupil(pupil=pupil, now=now)]
        open_window = next((w for w in windows if w["state"] == "open"), None)
        term_window = open_window or next((w for w in windows if w["state"] == "upcoming"), None)
        term_id = term_window["w"].term_id if term_window else None
        guardian = pupil.pk in self.scope.pupil_ids
        offered = []
        for o in selectors.classes_for_pupil(pupil=pupil, term_id=term_id):
            c = o.course_class
            offered.append(
                {
                    "c": c,
                    "seats_left": o.seats_left,
                    "full": o.seats_left <= 0,
                    "schedule": schedule(c),
                    "fee": fee_text(c),
                    "materials": (
                        _("%(name)s, %(fee)s (optional, bought separately)")
                        % {"name": c.materials_name, "fee": yuan(c.materials_fee_fen)}
                        if c.materials_name
                        else ""
                    ),
                    "teacher": c.teacher.user.full_name,
                    "place": place_view(o.place, o.position, now) if o.place else None,
                    "key": uuid.uuid4().hex,
                }
            )
        with_paid_orders([o["place"] for o in offered if o["place"]])  # type: ignore[misc]
        ctx = self.base_context() | {
            "title": _("Classes for %(name)s") % {"name": pupil.name},
            "pupil": pupil,
            "windows": windows,
            "open_window": open_window,
            "may_select": guardian and open_window is not None,
            "guardian": guardian,
            "classes": offered,
        }
        return render(request, self.template_name, ctx)


class SelectAction(ActionPage):
    """A guardian selects a class for a child (or joins its waitlist)."""

    pk_url_kwarg = "pupil_id"

    def select(self, scope: Scope) -> QuerySet[Any]:
        return Pupil.objects.select_related("school")

    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        class_id = parse_id(request.POST.get("class", ""))
        if class_id is None:
            raise KehouError(_("Choose a class."), code=ErrorCode.CLASS_REQUIRED)
        try:
            result = selection.enrolment_select(
                actor=request.user,
                pupil_id=obj.pk,
                class_id=class_id,
                request_key=request.POST.get("key", "").strip(),
                join_waitlist=request.POST.get("waitlist") == "1",
                now=clock.now(),
            )
        except KehouError as exc:
            if exc.code in FRIENDLY:
                raise KehouError(str(FRIENDLY[exc.code]), code=exc.code, status=exc.status) from exc
            raise
        e = result.enrolment
        view = place_view(e, result.position, clock.now())
        name = e.course_class.name
        return _("%(child)s · %(name)s: %(text)s") % {"child": obj.name, "name": name, "text": view["text"]}, None

    def fallback(self, obj: Any) -> str:
        return reverse("portal:child-classes", args=[obj.pk])


class PlacesPage(ScopedPage):
    """All the children's places with status, hold countdown, waitlist position and Cancel."""

    title = gettext_lazy("My places")
    template_name = "enrolment/parent_places.html"
    http_method_names = ["get", "head", "options"]

    def select(self, scope: Scope) -> QuerySet[Any]:
        return Enrolment.objects.filter(pupil__guardians__user=self.request.user)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        now = clock.now()
        status = request.GET.get("status", "")
        rows = with_paid_orders(
            [
                place_view(e, position, now)
                for e, position in selectors.enrolments_of_user(user=request.user, scope=self.scope, status=status)
            ]
        )
        ctx = self.base_context() | {
            "places": rows,
            "status": status,
            "statuses": S.choices,
            "live": [r for r in rows if r["live"]],
            "ended": [r for r in rows if not r["live"]],
        }
        return render(request, self.template_name, ctx)


class PlacePage(ScopedPage):
    """One place (the link in a "seat held for your child" notification)."""

    title = gettext_lazy("Place")
    template_name = "enrolment/parent_place.html"
    http_method_names = ["get", "head", "options"]

    def select(self, scope: Scope) -> QuerySet[Any]:
        return Enrolment.objects.select_related(
            "pupil", "course_class", "course_class__school", "course_class__teacher__user", "window"
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            e = self.get_queryset().get(pk=self.kwargs["pk"])
        except (Enrolment.DoesNotExist, ValueError, TypeError) as exc:
            raise Http404 from exc
        position = selection.waitlist_position(e)
        ctx = self.base_context() | {
            "p": with_paid_orders([place_view(e, position, clock.now())])[0],
            "schedule": schedule(e.course_class),
            "guardian": e.pupil_id in self.scope.pupil_ids,
        }
        return render(request, self.template_name, ctx)


class CancelAction(ActionPage):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return Enrolment.objects.select_related("pupil", "course_class", "course_class__school")

    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        selection.enrolment_cancel(
            actor=request.user, enrolment=obj, now=clock.now(), reason=request.POST.get("reason", "")[:120]
        )
        return _("The place of %(child)s in %(name)s is cancelled.") % {
            "child": obj.pupil.name,
            "name": obj.course_class.name,
        }, None

    def fallback(self, obj: Any) -> str:
        return reverse("portal:parent-places")
