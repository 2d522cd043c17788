"""The pages of courseware (课件): the list with the upload (progress and conversion state), one courseware's pages,
the presenter on the classroom screen (page by page, full screen, the day's courseware pre-loaded) and the phone's
remote."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from kehou.core import clock
from kehou.core.api import parse_id
from kehou.core.errors import KehouError
from kehou.core.scope import scope_for
from kehou.enrolment import selectors as enrolment_selectors

from . import selectors
from .middleware import SCREEN_NAME_KEY, SESSION_FLAG
from .models import Courseware, LessonPlan, Presentation
from .services import courseware as cw


def _visible(request: HttpRequest) -> Any:
    return scope_for(request.user).filter(Courseware.objects.select_related("owner", "rendition", "school"))


def _deck(item: Courseware) -> dict[str, Any]:
    """What the presenter needs of one courseware (as JSON in the page)."""
    return {
        "id": item.pk,
        "title": item.title,
        "kind": item.kind,
        "pages": cw.page_count(item),
        "page_url": f"/api/v1/teaching/courseware/{item.pk}/pages/" if item.rendition_id else "",
        "file_url": f"/api/v1/teaching/courseware/{item.pk}/file",
    }


def _today_sessions(request: HttpRequest) -> list[Any]:
    scope = scope_for(request.user)
    if not scope.teacher_ids:
        return []
    today = timezone.localdate(clock.now())
    return [s for s in enrolment_selectors.teacher_sessions_from(scope=scope, day=today)[:20] if s.date == today]


class CoursewareListPage(LoginRequiredMixin, View):
    """One's courseware and what is shared with one; the upload (a teacher's, not a screen's)."""

    dangerously_unscoped = True  # reads through scope.filter (Courseware's sharing rule)

    def get(self, request: HttpRequest) -> HttpResponse:
        rows = list(_visible(request)[:300])
        profile = getattr(request.user, "teacher_profile", None)
        screen = bool(request.session.get(SESSION_FLAG))
        return render(
            request,
            "teaching/courseware.html",
            {
                "title": _("Courseware"),
                "mine": [c for c in rows if c.owner_id == request.user.pk],
                "shared": [c for c in rows if c.owner_id != request.user.pk],
                "may_upload": profile is not None and not screen,
                "is_teacher": profile is not None,
                "screen": screen,
                "schools": list(profile.schools.all()) if profile else [],
                "groups": list(profile.teaching_groups.select_related("school")) if profile else [],
                "sharings": LessonPlan.Sharing.choices,
                "limits": {
                    "doc_mb": cw.rules()["DOC_MAX_BYTES"] // 2**20,
                    "media_mb": cw.rules()["MEDIA_MAX_BYTES"] // 2**20,
                },
            },
        )

    def post(self, request: HttpRequest) -> HttpResponse:
        """The upload without the page's script (the script sends the same form to the API, with progress)."""
        from kehou.orgs.models import School

        from .models import TeachingGroup

        if request.session.get(SESSION_FLAG):
            return HttpResponseRedirect("/teach/")
        raw_school, raw_group = request.POST.get("school", ""), request.POST.get("group", "")
        uploaded = request.FILES.get("file")
        if uploaded is None:
            messages.error(request, _("Choose a file to upload."))
            return HttpResponseRedirect(request.path)
        try:
            item = cw.courseware_upload(
                actor=request.user,
                uploaded_file=uploaded,
                school=School.objects.filter(pk=parse_id(raw_school) or 0).first(),
                title=request.POST.get("title", ""),
                sharing=request.POST.get("sharing", LessonPlan.Sharing.PRIVATE),
                group=TeachingGroup.objects.filter(pk=parse_id(raw_group) or 0).first(),
                now=clock.now(),
            )
        except KehouError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(request.path)
        messages.success(request, _("Uploaded."))
        return HttpResponseRedirect(f"/teach/courseware/{item.pk}/")


class CoursewarePage(LoginRequiredMixin, View):
    dangerously_unscoped = True  # reads through scope.filter (Courseware's sharing rule)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        item = _visible(request).filter(pk=pk).first()
        if item is None:
            raise Http404
        pages = range(1, cw.page_count(item) + 1) if item.rendition_id and item.rendition.status == "ready" else []
        return render(
            request,
            "teaching/courseware_detail.html",
            {
                "title": item.title,
                "item": item,
                "pages": pages,
                "is_teacher": getattr(request.user, "teacher_profile", None) is not None,
                "screen": bool(request.session.get(SESSION_FLAG)),
            },
        )


class PresentStartPage(LoginRequiredMixin, View):
    """Present courseware (a form's POST): starts the presentation and opens the presenter."""

    dangerously_unscoped = True  # reads through scope.filter (Courseware's sharing rule)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        item = _visible(request).filter(pk=pk).first()
        if item is None:
            raise Http404
        try:
            show = cw.presentation_start(
                actor=request.user,
                courseware=item,
                screen_name=str(request.session.get(SCREEN_NAME_KEY, "")),
                now=clock.now(),
            )
        except KehouError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(f"/teach/courseware/{pk}/")
        return HttpResponseRedirect(f"/teach/present/{show.pk}/")


class _Show(LoginRequiredMixin, View):
    dangerously_unscoped = True  # the caller's own presentations only (Presentation's scope: its owner)

    def _show(self, request: HttpRequest, pk: int) -> Presentation:
        show = (
            scope_for(request.user)
            .filter(Presentation.objects.select_related("courseware__rendition"))
            .filter(pk=pk)
            .first()
        )
        if show is None:
            raise Http404
        return show

    def _decks(self, request: HttpRequest, show: Presentation) -> list[dict[str, Any]]:
        day = selectors.day_courseware(request.user, _today_sessions(request))
        decks = [_deck(show.courseware)] + [_deck(c) for c in day if c.pk != show.courseware_id]
        return decks


class PresenterPage(_Show):
    """The classroom screen presents: one page at a time, full screen; the phone turns the pages (topic
    ``presentation:<id>``); every page of the day's courseware is loaded first, so a dropped network does not stop
    the lesson."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        show = self._show(request, pk)
        decks = self._decks(request, show)
        return render(
            request,
            "teaching/present.html",
            {
                "title": show.courseware.title,
                "show": show,
                "state": cw.state(show),
                "decks": decks,
                "screen": bool(request.session.get(SESSION_FLAG)),
            },
        )


class RemotePage(_Show):
    """The teacher's phone as the remote: previous, next, go to a page, switch to another of the day's courseware."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        show = self._show(request, pk)
        return render(
            request,
            "teaching/remote.html",
            {
                "title": _("Remote"),
                "show": show,
                "state": cw.state(show),
                "decks": self._decks(request, show),
            },
        )
