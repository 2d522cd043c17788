"""The dashboards' pages: ``/supervision/`` starts at the person's own level (the city, their district, their school)
and drills down, with the way back as a breadcrumb."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from kehou.core import clock
from kehou.core.scope import scope_for

from . import selectors


class DashboardPage(LoginRequiredMixin, View):
    dangerously_unscoped = True  # the selector checks the level against the caller's scope (404 outside it)

    def get(self, request: HttpRequest) -> HttpResponse:
        scope = scope_for(request.user)
        level, code = request.GET.get("level", ""), request.GET.get("code", "")[:12]
        if not level:
            start = selectors.home_level(scope)
            if start is None:  # a teacher, a parent, an operator: nothing to supervise here
                return render(request, "supervision/nothing.html", {"title": _("Supervision")})
            level, code = start
        data = selectors.dashboard(
            scope, level=level, code=code, today=timezone.localdate(clock.now()), sort=request.GET.get("sort", "")
        )
        if data is None:
            raise Http404
        return render(
            request,
            "supervision/dashboard.html",
            {"title": _("Supervision"), "d": data, "sorts": selectors.SORTS, "wide": True},
        )
