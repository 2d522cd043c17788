from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from kehou.core.error_codes import ErrorCode

from . import context
from .errors import error_response

log = logging.getLogger(__name__)


def client_ip(request: HttpRequest) -> str | None:
    # Behind a trusted proxy the deployment sets REMOTE_ADDR correctly (see docs/deploy.md); we never trust
    # a client-supplied X-Forwarded-For here.
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = context.activate(context.RequestContext(client_ip=client_ip(request), request_id=uuid.uuid4().hex[:16]))
        try:
            return self.get_response(request)
        finally:
            context.reset(token)


# Scripts only from here, and inline only with the request's nonce (base.html's one line). Styles allow
# 'unsafe-inline': several apps' templates carry <style> blocks and style="" attributes (and Swagger UI sets
# styles of its own); a style cannot run code, and moving them into kehou.css is left for a later issue.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; media-src 'self' blob:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; frame-ancestors 'none'"
)
# Devices and features the platform does not use are denied to every page and frame; geolocation stays with the
# site itself (the teachers' check-in).
PERMISSIONS_POLICY = ", ".join(
    [
        "accelerometer=()",
        "autoplay=()",
        "bluetooth=()",
        "camera=()",
        "display-capture=()",
        "geolocation=(self)",
        "gyroscope=()",
        "hid=()",
        "magnetometer=()",
        "microphone=()",
        "midi=()",
        "payment=()",
        "publickey-credentials-get=()",
        "screen-wake-lock=(self)",
        "serial=()",
        "usb=()",
        "xr-spatial-tracking=()",
    ]
)


class SecurityHeadersMiddleware:
    """Content-Security-Policy with a fresh nonce per request (``request.csp_nonce``, for the templates'
    ``<script nonce="{{ request.csp_nonce }}">``), Permissions-Policy, and ``Cache-Control: no-store`` on every
    API answer and every answer to a signed-in person (their pages carry personal data)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        nonce = secrets.token_urlsafe(18)
        request.csp_nonce = nonce  # type: ignore[attr-defined]
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY.format(nonce=nonce))
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        user = getattr(request, "user", None)
        # (A response that is no one's personal data and never changes, such as a courseware page drawn from its
        # content's hash, says so with ``kehou_shared_cache`` and keeps its own Cache-Control.)
        private = request.path.startswith("/api/") or (user is not None and user.is_authenticated)
        if private and not getattr(response, "kehou_shared_cache", False):
            add_never_cache_headers(response)
        return response


class ApiErrorMiddleware:
    """Turn errors raised outside DRF's handler (oversize bodies, unknown API URLs) into the one error shape."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        is_api = request.path.startswith("/api/")
        # Django checks the limit when it reads request.body itself, but DRF's parsers read the stream: refuse an
        # oversize non-multipart body before anything reads it (uploads are multipart and limited by their view).
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if is_api and limit is not None and _declared_length(request) > limit and not _is_multipart(request):
            return error_response(ErrorCode.BODY_TOO_LARGE, _("The request body is too large."), 413)
        if bad := _null_parameters(request):
            # PostgreSQL cannot store or compare text with NUL characters: refuse them up front, not with a 500.
            if not is_api:
                return HttpResponseBadRequest(_("The request is not valid."))
            fields = {
                name: [{"code": "null_characters_not_allowed", "message": _("Null characters are not allowed.")}]
                for name in bad
            }
            return error_response(ErrorCode.INVALID, _("The request is not valid."), 400, fields)
        response = self.get_response(request)
        if is_api and response.status_code == 404 and not _is_json(response):
            return error_response(ErrorCode.NOT_FOUND, _("Not found."), 404)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, RequestDataTooBig):
            return error_response(ErrorCode.BODY_TOO_LARGE, _("The request body is too large."), 413)
        if isinstance(exception, SuspiciousOperation) and request.path.startswith("/api/"):
            return error_response(ErrorCode.BAD_REQUEST, _("The request is not valid."), 400)
        return None


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _is_multipart(request: HttpRequest) -> bool:
    return request.META.get("CONTENT_TYPE", "").lower().startswith("multipart/")


def _null_parameters(request: HttpRequest) -> list[str]:
    """Query parameters, and the fields of a url-encoded form, that hold a NUL character (PostgreSQL cannot store
    one: it would be a 500 deep in a service instead of a clear 400 here)."""
    try:
        params = list(request.GET.lists())
        if request.method == "POST" and request.META.get("CONTENT_TYPE", "").lower().startswith(
            "application/x-www-form-urlencoded"
        ):
            params += list(request.POST.lists())
    except SuspiciousOperation:  # e.g. too many fields: left to the view's error handling
        return []
    return sorted({name for name, values in params if "\x00" in name or any("\x00" in v for v in values)})


def _is_json(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").startswith("application/json")
