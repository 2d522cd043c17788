from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

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


class ApiErrorMiddleware:
    """Turn errors raised outside DRF's handler (oversize bodies, unknown API URLs) into the one error shape."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith("/api/") and response.status_code == 404 and not _is_json(response):
            return error_response("not_found", _("Not found."), 404)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, RequestDataTooBig):
            return error_response("body_too_large", _("The request body is too large."), 413)
        if isinstance(exception, SuspiciousOperation) and request.path.startswith("/api/"):
            return error_response("bad_request", _("The request is not valid."), 400)
        return None


def _is_json(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").startswith("application/json")
