from __future__ import annotations

from typing import Any

from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kehou.core import clock
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import KehouError, Throttled, error_response
from kehou.core.pages import ScopedPage
from kehou.core.scope import scope_for
from kehou.people import services as people_services

from . import selectors
from .forms import PasswordLoginForm, SmsLoginForm
from .todo import todo_list


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("portal:home")


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    form = PasswordLoginForm(request.POST or None)
    sms_form = SmsLoginForm(prefix="sms")
    error = ""
    status = 400 if request.method == "POST" else 200
    retry_after: int | None = None
    if request.method == "POST" and form.is_valid():
        try:
            user = people_services.login_with_password(
                identifier=form.cleaned_data["username"], password=form.cleaned_data["password"], now=clock.now()
            )
        except Throttled as exc:
            error, status, retry_after = exc.message, exc.status, exc.retry_after
        except KehouError as exc:
            error = exc.message
        else:
            login(request, user, backend="kehou.people.auth.PhoneOrUsernameBackend")  # rotates the session key
            return HttpResponseRedirect(_safe_next(request))
    response = render(
        request,
        "portal/login.html",
        {"form": form, "sms_form": sms_form, "error": error, "next": _safe_next(request)},
        status=status,
    )
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


@require_POST
def sms_send_view(request: HttpRequest) -> HttpResponse:
    form = SmsLoginForm(request.POST, prefix="sms")
    if not form.is_valid():
        return error_response(ErrorCode.INVALID_PHONE, _("Enter a mainland mobile number of 11 digits."), 400)
    try:
        people_services.sms_code_send(phone=form.cleaned_data["phone"], now=clock.now())
    except Throttled as exc:
        return exc.response()
    except KehouError as exc:
        return error_response(exc.code, exc.message, exc.status)
    return JsonResponse({"sent": True})


@require_POST
def sms_login_view(request: HttpRequest) -> HttpResponse:
    form = SmsLoginForm(request.POST, prefix="sms")
    error = _("Enter the phone number and the 6-digit code.")
    status, retry_after = 400, None
    if form.is_valid() and form.cleaned_data.get("code"):
        try:
            user = people_services.login_with_sms_code(
                phone=form.cleaned_data["phone"], code=form.cleaned_data["code"], now=clock.now()
            )
        except Throttled as exc:
            error, status, retry_after = exc.message, exc.status, exc.retry_after
        except KehouError as exc:
            error = exc.message
        else:
            login(request, user, backend="kehou.people.auth.PhoneOrUsernameBackend")
            return HttpResponseRedirect(_safe_next(request))
    response = render(
        request,
        "portal/login.html",
        {"form": PasswordLoginForm(), "sms_form": form, "error": error, "tab": "sms", "next": _safe_next(request)},
        status=status,
    )
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)  # flushes the server-side session
    return redirect("portal:login")


def _home(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    sections = selectors.home_sections(user=request.user, scope=scope)
    todo = todo_list(user=request.user, scope=scope, sections=sections, now=clock.now())
    ctx: dict[str, Any] = {
        "title": _("Home"),
        "sections": sections,
        "todo": todo,
    }
    return render(request, "portal/home.html", ctx)


class HomePage(ScopedPage):
    """Each role's home: a page like any other, so login is required and reads go through the scope (rule 1)."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return _home(request)


home_view = HomePage.as_view()


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return error_response(ErrorCode.NOT_FOUND, _("Not found."), 404)
    return render(request, "core/error.html", {"title": _("Not found"), "code": 404}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return error_response(ErrorCode.SERVER_ERROR, _("Something went wrong on our side."), 500)
    return render(request, "core/error.html", {"title": _("Server error"), "code": 500}, status=500)
