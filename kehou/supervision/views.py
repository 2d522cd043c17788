"""The dashboards' pages: ``/supervision/`` starts at the person's own level (the city, their district, their school)
and drills down, with the way back as a breadcrumb."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from kehou.core import clock
from kehou.core.scope import scope_for
from kehou.orgs.models import School

from . import charts, selectors


class DashboardPage(LoginRequiredMixin, View):
    dangerously_unscoped = True  # the selector checks the level against the caller's scope (404 outside it)

    def get(self, request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
        scope = scope_for(request.user)
        level, code = request.GET.get("level", ""), request.GET.get("code", "")[:12]
        if not level:
            start = selectors.home_level(scope)
            if start is None:  # a teacher, a parent, an operator: nothing to supervise here
                return render(request, "supervision/nothing.html", {"title": _("Supervision")})
            level, code = start
        from datetime import date

        try:
            week = date.fromisoformat(request.GET.get("week", "")[:10]) if request.GET.get("week") else None
        except ValueError:
            week = None
        data = selectors.dashboard(
            scope,
            level=level,
            code=code,
            today=timezone.localdate(clock.now()),
            sort=request.GET.get("sort", ""),
            stage=request.GET.get("stage", ""),
            week=week,
        )
        if data is None:
            raise Http404
        if request.GET.get("format") == "xlsx":
            return _export(request, data)
        weeks = [w for w in data["trend"] if w["sessions_planned"]]
        chart = (
            charts.trend_svg(
                [f"{w['week']:%m-%d}" for w in weeks],
                {
                    _("Attendance"): [w["attendance"] for w in weeks],
                    _("Sessions delivered"): [w["delivery"] for w in weeks],
                    _("Roll calls on time"): [w["roll_call"] for w in weeks],
                    _("Check-ins on time"): [w["check_in"] for w in weeks],
                },
            )
            if weeks
            else ""
        )
        return render(
            request,
            "supervision/dashboard.html",
            {
                "title": _("Supervision"),
                "d": data,
                "sorts": selectors.SORTS,
                "stages": School.Stage.choices,
                "wide": True,
                "chart": chart,
            },
        )


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def _export(request: HttpRequest, data: dict[str, Any]) -> StreamingHttpResponse:
    """The table of the level below as an Excel sheet (streamed), with the level's own figures as its last row."""
    from django.core.handlers.asgi import ASGIRequest

    from kehou.core.excel import xlsx_response

    headers = [
        _("Rank"),
        _("Name"),
        _("Attendance"),
        _("Pupil-sessions attended"),
        _("Pupil-sessions expected"),
        _("Sessions delivered"),
        _("Sessions planned"),
        _("Roll calls on time"),
        _("Check-ins on time"),
        _("Pupils taking part"),
        _("Pupils"),
    ]

    def line(rank: Any, name: str, f: dict[str, Any]) -> list[Any]:
        return [
            rank,
            name,
            _pct(f.get("attendance")),
            f["pupil_sessions_attended"],
            f["pupil_sessions_expected"],
            f["sessions_delivered"],
            f["sessions_planned"],
            _pct(f.get("roll_call")),
            _pct(f.get("check_in")),
            f.get("pupils_taking_part", ""),
            f.get("pupils", ""),
        ]

    rows = [line(r["rank"] or "", r["name"], r["figures"]) for r in data["rows"]]
    rows.append(line("", f"{data['name']} · " + _("in all"), data["figures"]))
    return xlsx_response(
        filename=f"dashboard-{data['level']}-{data['code']}.xlsx",
        title=data["name"][:31],
        headers=headers,
        rows=rows,
        asynchronous=isinstance(request, ASGIRequest),
    )


class OnboardingPage(LoginRequiredMixin, View):
    """接入进度: each school's steps onto the platform, the schools behind first; by district for the city."""

    dangerously_unscoped = True  # narrowed to the caller's districts in the selector (the city sees all)

    def get(self, request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
        from . import onboarding

        scope = scope_for(request.user)
        if not onboarding.may_see(scope):
            return render(request, "supervision/nothing.html", {"title": _("Onboarding progress")})
        district = request.GET.get("district", "")[:12]
        rows = onboarding.progress(scope, district=district, now=clock.now())
        if request.GET.get("format") == "xlsx":
            from django.core.handlers.asgi import ASGIRequest

            from kehou.core.excel import xlsx_response

            headers = [_("District"), _("School"), _("Steps done")] + [
                str(label) for _k, label, *_r in onboarding.STEPS
            ]
            return xlsx_response(
                filename="onboarding.xlsx",
                title=str(_("Onboarding progress")),
                headers=headers,
                rows=(
                    [r["district"]["name"], r["school"]["name"], f"{r['done']}/{r['of']}"]
                    + [f"{s['at']:%Y-%m-%d}" if s["at"] else "" for s in r["steps"]]
                    for r in rows
                ),
                asynchronous=isinstance(request, ASGIRequest),
            )
        return render(
            request,
            "supervision/onboarding.html",
            {
                "title": _("Onboarding progress"),
                "rows": rows,
                "districts": onboarding.by_district(onboarding.progress(scope, now=clock.now()))
                if scope.everything
                else [],
                "steps": [label for _k, label, *_r in onboarding.STEPS],
                "district": district,
                "wide": True,
            },
        )


class ReportsPage(LoginRequiredMixin, View):
    """通报: the reports the city issued (a district sees those that name it); the city issues one now."""

    dangerously_unscoped = True  # reads through scope.filter (ProgressReport's districts)

    def get(self, request: HttpRequest) -> HttpResponse:
        from .models import ProgressReport

        scope = scope_for(request.user)
        rows = (
            list(scope.filter(ProgressReport.objects.all())[:100]) if (scope.everything or scope.district_ids) else []
        )
        return render(
            request,
            "supervision/reports.html",
            {"title": _("Progress reports"), "reports": rows, "may_issue": scope.everything},
        )

    def post(self, request: HttpRequest) -> HttpResponse:
        from django.contrib import messages
        from django.http import HttpResponseRedirect

        from kehou.core.errors import KehouError

        from .services import reports

        try:
            report = reports.report_issue(actor=request.user, now=clock.now())
        except KehouError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Issued: %(number)s.") % {"number": report.number})
        return HttpResponseRedirect(request.path)
