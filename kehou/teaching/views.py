"""The teaching platform's pages: the classroom screen's login (/teach/screen/), the phone's side of it
(/teach/qr/<token>), and the teaching home (/teach/) with the teacher's own classes."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from kehou.core import clock
from kehou.core.errors import KehouError
from kehou.core.pages import local
from kehou.core.scope import scope_for
from kehou.enrolment import selectors as enrolment_selectors

from .middleware import SESSION_FLAG
from .models import ScreenLogin
from .services import qr_login as qr


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
        return render(
            request,
            "teaching/home.html",
            {
                "title": _("Teaching"),
                "screen": bool(request.session.get(SESSION_FLAG)),
                "sessions": sessions,
                "today": today,
                "is_teacher": bool(scope.teacher_ids),
            },
        )
