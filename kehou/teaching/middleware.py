"""A classroom screen's session (logged in by scanning) reaches teaching only: the teaching pages and API, the QR
the event stream, static files, the language switch and logging out. Anything else (rosters, pay,
money, administration) is refused: 403 ``teaching_only`` for the API, back to the teaching home for pages."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext as _

from kehou.core.error_codes import ErrorCode
from kehou.core.errors import error_response

SESSION_FLAG = "kehou_teaching_only"
SCREEN_NAME_KEY = "kehou_screen_name"  # the screen's name, for its presentations
ALLOWED = ("/teach/", "/api/v1/teaching/", "/api/v1/events/", "/static/", "/logout/", "/i18n/")


class TeachingOnlyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is not None and session.get(SESSION_FLAG) and not request.path.startswith(ALLOWED):
            if request.path.startswith("/api/"):
                return error_response(
                    ErrorCode.TEACHING_ONLY, _("A classroom screen's session is for teaching only."), 403
                )
            return HttpResponseRedirect("/teach/")
        return self.get_response(request)
