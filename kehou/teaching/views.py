"""The teaching platform's pages: the classroom screen's login (/teach/screen/), the phone's side of it
(/teach/qr/<token>), and the teaching home (/teach/) with the teacher's own classes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from kehou.catalog.models import Category
from kehou.core import clock
from kehou.core.api import parse_id
from kehou.core.errors import KehouError
from kehou.core.pages import local
from kehou.core.scope import scope_for
from kehou.enrolment import selectors as enrolment_selectors

from . import selectors
from .middleware import SESSION_FLAG
from .models import Courseware, ScreenLogin
from .services import lessons, outlines
from .services import qr_login as qr

PRESENTING = timedelta(hours=6)  # a presentation untouched for longer is no longer offered to the remote


class ScreenPage(View):
    """The classroom screen: a QR code to scan, renewed when it expires; logs in when the phone confirms (public:
    listed in the scope walker's PUBLIC)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and request.session.get(SESSION_FLAG):
            return HttpResponseRedirect("/teach/")
        return render(
            request,
            "teaching/screen.html",
            {"title": _("Classroom screen"), "screen_name": request.GET.get("name", "")[:60]},
        )


class ScanPage(LoginRequiredMixin, View):
    """The phone opened the code's link: what is asking, and the number to match; confirm or reject."""

    dangerously_unscoped = True  # the caller's own scanned login only

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        if request.session.get(SESSION_FLAG):
            return HttpResponseRedirect("/teach/")
        try:
            row = qr.qr_scan(actor=request.user, token=token, now=clock.now())
        except KehouError as exc:
            return render(request, "teaching/scan.html", {"title": _("Log a screen in"), "error": exc.message})
        return render(
            request, "teaching/scan.html", {"title": _("Log a screen in"), "login": row, "at": local(row.created_at)}
        )


class DecidePage(LoginRequiredMixin, View):
    dangerously_unscoped = True  # the caller's own scanned login only
    approve = True

    def post(self, request: HttpRequest, public_id: str) -> HttpResponse:
        row = ScreenLogin.objects.filter(public_id=public_id[:32], scanned_by_id=request.user.pk).first()
        if row is None or request.session.get(SESSION_FLAG):
            return render(
                request, "teaching/scan.html", {"title": _("Log a screen in"), "error": _("Not found.")}, status=404
            )
        try:
            if self.approve:
                qr.qr_confirm(actor=request.user, login=row, now=clock.now())
                messages.success(
                    request, _("The screen is logging in as you. Log it out from the screen when the lesson ends.")
                )
            else:
                qr.qr_reject(actor=request.user, login=row, now=clock.now())
                messages.success(request, _("Rejected: the screen was not logged in."))
        except KehouError as exc:
            messages.error(request, exc.message)
        return HttpResponseRedirect("/teach/")


class RejectPage(DecidePage):
    approve = False


class TeachingHome(LoginRequiredMixin, View):
    """The teaching home: today's and the coming sessions of the teacher's own classes."""

    dangerously_unscoped = True  # the caller's own classes only (through the scope's teacher ids)

    def get(self, request: HttpRequest) -> HttpResponse:
        scope = scope_for(request.user)
        today = timezone.localdate(clock.now())
        sessions: list[Any] = []
        if scope.teacher_ids:
            sessions = list(enrolment_selectors.teacher_sessions_from(scope=scope, day=today)[:12])
        rows = selectors.sessions_with_lessons(sessions)
        own = outlines.owned_items(request.user)
        from .models import Presentation

        showing = list(
            Presentation.objects.filter(
                owner_id=request.user.pk, ended_at__isnull=True, updated_at__gte=clock.now() - PRESENTING
            )
            .select_related("courseware")
            .order_by("-updated_at")[:5]
        )
        day = (
            selectors.day_courseware(request.user, [s for s in sessions if s.date == today])
            if scope.teacher_ids
            else []
        )
        return render(
            request,
            "teaching/home.html",
            {
                "title": _("Teaching"),
                "screen": bool(request.session.get(SESSION_FLAG)),
                "sessions": rows,
                "own": own,
                "today": today,
                "is_teacher": bool(scope.teacher_ids),
                "showing": showing,
                "day_courseware": day,
            },
        )


class OutlinePage(LoginRequiredMixin, View):
    """A library course's outline: its units and lessons, its versions; the owner edits it as plain text."""

    dangerously_unscoped = True  # library courses and their outlines are read by everyone signed in (PUBLIC)

    def _item(self, pk: int) -> Any:
        from django.http import Http404

        from kehou.catalog.models import CatalogItem

        item = CatalogItem.objects.filter(pk=pk, kind="course").select_related("submission").first()
        if item is None:
            raise Http404
        return item

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        item = self._item(pk)
        outline = outlines.current(item)
        units = list(outline.units.all()) if outline else []
        return render(
            request,
            "teaching/outline.html",
            {
                "title": _("Course outline"),
                "item": item,
                "outline": outline,
                "units": units,
                "minutes": sum(x.minutes for u in units for x in u.lessons.all()),
                "versions": list(item.outlines.order_by("-version")[:20]),
                "may_edit": outlines.may_edit(request.user, item) and not request.session.get(SESSION_FLAG),
                "text": request.POST.get("text") if request.method == "POST" else outlines.as_text(outline),
            },
        )

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        item = self._item(pk)
        if request.session.get(SESSION_FLAG):
            return HttpResponseRedirect("/teach/")
        try:
            based_on = int(request.POST.get("based_on", "0"))
        except ValueError:
            based_on = -1
        try:
            outlines.outline_save(
                actor=request.user,
                item=item,
                units=outlines.parse_text(request.POST.get("text", "")),
                based_on=based_on,
                note=request.POST.get("note", ""),
                now=clock.now(),
            )
        except KehouError as exc:
            messages.error(request, exc.message)
            return self.get(request, pk)
        messages.success(request, _("Saved as a new version."))
        return HttpResponseRedirect(request.path)


class SessionLessonPage(LoginRequiredMixin, View):
    dangerously_unscoped = True  # the service decides (the class's teacher or school) and refuses everyone else

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        from django.http import Http404

        from kehou.enrolment.models import ClassSession

        if request.session.get(SESSION_FLAG):  # a screen reads, never writes
            return HttpResponseRedirect("/teach/")

        session = (
            scope_for(request.user)
            .filter(ClassSession.objects.select_related("course_class__entry"))
            .filter(pk=pk)
            .first()
        )
        if session is None:
            raise Http404
        raw = request.POST.get("lesson", "")
        try:
            outlines.session_lesson_set(
                actor=request.user, session=session, lesson_id=int(raw) if raw else None, now=clock.now()
            )
        except (KehouError, ValueError) as exc:
            messages.error(request, getattr(exc, "message", _("Choose a lesson of this course's outline.")))
        else:
            messages.success(request, _("The session's lesson is saved."))
        return HttpResponseRedirect("/teach/")


def _plan_form(request: HttpRequest) -> dict[str, Any]:
    from .models import TeachingGroup

    raw_group = request.POST.get("group", "")
    return {
        "title": request.POST.get("title", ""),
        "goals": request.POST.get("goals", ""),
        "steps": lessons.parse_steps(request.POST.get("steps", "")),
        "notes": request.POST.get("notes", ""),
        "sharing": request.POST.get("sharing", "private"),
        "group": TeachingGroup.objects.filter(pk=parse_id(raw_group) or 0).first(),
        "courseware": [n for x in request.POST.getlist("courseware") if (n := parse_id(x)) is not None],
    }


class LessonListPage(LoginRequiredMixin, View):
    """Prepared lessons (备课): one's own, and those shared with one; a new one."""

    dangerously_unscoped = True  # reads through scope.filter (LessonPlan's sharing rule)

    def get(self, request: HttpRequest) -> HttpResponse:
        from .models import LessonPlan

        scope = scope_for(request.user)
        plans = list(scope.filter(LessonPlan.objects.select_related("owner", "school", "group"))[:200])
        profile = getattr(request.user, "teacher_profile", None)
        return render(
            request,
            "teaching/lessons.html",
            {
                "title": _("Lesson preparation"),
                "mine": [p for p in plans if p.owner_id == request.user.pk],
                "shared": [p for p in plans if p.owner_id != request.user.pk],
                "is_teacher": profile is not None,
                "schools": list(profile.schools.all()) if profile else [],
                "groups": list(profile.teaching_groups.select_related("school")) if profile else [],
                "sharings": LessonPlan.Sharing.choices,
                "screen": bool(request.session.get(SESSION_FLAG)),
                "form": request.POST if request.method == "POST" else {},
                "library": list(lessons.library_lessons()[:50]),
            },
        )

    def post(self, request: HttpRequest) -> HttpResponse:
        from kehou.orgs.models import School

        if request.session.get(SESSION_FLAG):
            return HttpResponseRedirect("/teach/")
        raw = request.POST.get("school", "")
        try:
            plan = lessons.plan_save(
                actor=request.user,
                school=School.objects.filter(pk=parse_id(raw) or 0).first(),
                now=clock.now(),
                **_plan_form(request),
            )
        except KehouError as exc:
            messages.error(request, exc.message)
            return self.get(request)
        messages.success(request, _("The lesson is saved."))
        return HttpResponseRedirect(f"/teach/lessons/{plan.pk}/")


class LessonPage(LoginRequiredMixin, View):
    dangerously_unscoped = True  # reads through scope.filter (LessonPlan's sharing rule)

    def _plan(self, request: HttpRequest, pk: int) -> Any:
        from django.http import Http404

        from .models import LessonPlan

        plan = (
            scope_for(request.user)
            .filter(
                LessonPlan.objects.select_related(
                    "owner", "school__district", "group", "origin", "origin_item", "submission__library_region"
                )
            )
            .filter(pk=pk)
            .first()
        )
        if plan is None:
            raise Http404
        return plan

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        from .models import LessonPlan

        plan = self._plan(request, pk)
        profile = getattr(request.user, "teacher_profile", None)
        screen = bool(request.session.get(SESSION_FLAG))
        return render(
            request,
            "teaching/lesson.html",
            {
                "title": plan.title,
                "plan": plan,
                "minutes": sum(int(s.get("minutes", 0)) for s in plan.steps),
                "steps_text": "\n".join(f"{s['text']} | {s['minutes']}" for s in plan.steps),
                "mine": plan.owner_id == request.user.pk and not screen,
                "is_teacher": profile is not None,
                "may_copy": profile is not None and plan.owner_id != request.user.pk and not screen,
                "groups": list(profile.teaching_groups.filter(school=plan.school)) if profile else [],
                "sharings": LessonPlan.Sharing.choices,
                "attached": list(scope_for(request.user).filter(plan.courseware.select_related("rendition"))),
                "submission": plan.submission,
                "categories": list(Category.objects.all()),
                "choices": list(scope_for(request.user).filter(Courseware.objects.all())[:100])
                if plan.owner_id == request.user.pk
                else [],
            },
        )

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        plan = self._plan(request, pk)
        if request.session.get(SESSION_FLAG):
            return HttpResponseRedirect("/teach/")
        try:
            if request.POST.get("action") == "submit":
                raw = request.POST.get("category", "")
                lessons.plan_submit(
                    actor=request.user,
                    plan=plan,
                    library=request.POST.get("library", ""),
                    category=Category.objects.filter(pk=parse_id(raw) or 0).first(),
                    note=request.POST.get("note", ""),
                    now=clock.now(),
                )
                messages.success(request, _("Submitted: a panel of experts reviews it as it reviews courses."))
                return HttpResponseRedirect(request.path)
            if request.POST.get("action") == "copy":
                copy = lessons.plan_copy(actor=request.user, plan=plan, now=clock.now())
                messages.success(request, _("Copied: the copy is yours and private."))
                return HttpResponseRedirect(f"/teach/lessons/{copy.pk}/")
            lessons.plan_save(actor=request.user, plan=plan, now=clock.now(), **_plan_form(request))
        except KehouError as exc:
            messages.error(request, exc.message)
            return self.get(request, pk)
        messages.success(request, _("Saved as a new version."))
        return HttpResponseRedirect(request.path)


class LibraryLessonPage(LoginRequiredMixin, View):
    """A prepared lesson admitted into a district or city library: read by everyone signed in; a teacher copies it."""

    dangerously_unscoped = True  # library items are read by everyone signed in (catalog.CatalogItem is PUBLIC)

    def _item(self, pk: int) -> Any:
        from django.http import Http404

        item = lessons.library_lessons().filter(pk=pk).first()
        if item is None:
            raise Http404
        return item

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        item = self._item(pk)
        content = item.version.content or {}
        screen = bool(request.session.get(SESSION_FLAG))
        return render(
            request,
            "teaching/library_lesson.html",
            {
                "title": item.name,
                "item": item,
                "content": content,
                "minutes": sum(int(s.get("minutes", 0)) for s in content.get("steps") or []),
                "may_copy": getattr(request.user, "teacher_profile", None) is not None and not screen,
            },
        )

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        item = self._item(pk)
        if request.session.get(SESSION_FLAG):
            return HttpResponseRedirect("/teach/")
        try:
            copy = lessons.plan_copy_from_library(actor=request.user, item=item, now=clock.now())
        except KehouError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(request.path)
        messages.success(request, _("Copied: the copy is yours and private."))
        return HttpResponseRedirect(f"/teach/lessons/{copy.pk}/")
