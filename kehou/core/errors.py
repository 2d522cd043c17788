"""One error shape for the whole platform.

Every error a client sees is ``{"error": {"code": "...", "message": "...", "fields": {...}}}`` with a stable
``code``. Services raise :class:`KehouError` (or a subclass); DRF and Django validation errors are mapped here.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions as drf
from rest_framework.response import Response

from kehou.core.error_codes import ErrorCode


class KehouError(Exception):
    """A business error with a stable code. ``status`` is the HTTP status an API answers with."""

    code: ErrorCode = ErrorCode.ERROR
    status = 400

    def __init__(
        self,
        message: str = "",
        *,
        code: ErrorCode | None = None,
        fields: dict[str, Any] | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message or self.code)
        self.message = message or self.code
        if code:
            self.code = code
        if status:
            self.status = status
        self.fields = fields or {}

    def as_dict(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.fields)


class NotFound(KehouError):
    code = ErrorCode.NOT_FOUND
    status = 404


class Forbidden(KehouError):
    code = ErrorCode.FORBIDDEN
    status = 403


class Conflict(KehouError):
    code = ErrorCode.CONFLICT
    status = 409


class Throttled(KehouError):
    """Too many requests: 429 with ``Retry-After`` (seconds), also given as ``fields.retry_after``."""

    code = ErrorCode.THROTTLED
    status = 429

    def __init__(self, message: str = "", *, retry_after: int, code: ErrorCode | None = None) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(message, code=code, fields={"retry_after": self.retry_after})

    def response(self) -> JsonResponse:
        answer = error_response(self.code, self.message, self.status, self.fields)
        answer["Retry-After"] = str(self.retry_after)
        return answer


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": str(message), "fields": fields or {}}}


def error_response(code: ErrorCode, message: str, status: int, fields: dict[str, Any] | None = None) -> JsonResponse:
    return JsonResponse(error_body(code, message, fields), status=status, json_dumps_params={"ensure_ascii": False})


def _flatten(detail: Any) -> Any:
    """Turn DRF's nested ErrorDetail structures into plain lists of {code, message}."""
    if isinstance(detail, dict):
        return {str(k): _flatten(v) for k, v in detail.items()}
    if isinstance(detail, list):
        if all(isinstance(item, drf.ErrorDetail) for item in detail):
            return [{"code": item.code, "message": str(item)} for item in detail]
        return [_flatten(item) for item in detail]
    if isinstance(detail, drf.ErrorDetail):
        return [{"code": detail.code, "message": str(detail)}]
    return [{"code": "invalid", "message": str(detail)}]


def validation_fields(error: DjangoValidationError) -> dict[str, Any]:
    if hasattr(error, "error_dict"):
        return {
            field: [{"code": e.code or "invalid", "message": " ".join(e.messages)} for e in errors]
            for field, errors in error.error_dict.items()
        }
    return {"__all__": [{"code": e.code or "invalid", "message": " ".join(e.messages)} for e in error.error_list]}


_DRF_CODES: dict[type[Exception], ErrorCode] = {
    drf.ParseError: ErrorCode.MALFORMED_REQUEST,
    drf.UnsupportedMediaType: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    drf.NotAuthenticated: ErrorCode.NOT_AUTHENTICATED,
    drf.AuthenticationFailed: ErrorCode.AUTHENTICATION_FAILED,
    drf.PermissionDenied: ErrorCode.FORBIDDEN,
    drf.NotFound: ErrorCode.NOT_FOUND,
    drf.MethodNotAllowed: ErrorCode.METHOD_NOT_ALLOWED,
    drf.NotAcceptable: ErrorCode.NOT_ACCEPTABLE,
    drf.Throttled: ErrorCode.THROTTLED,
}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF exception handler: map every known error to the one shape."""
    if isinstance(exc, KehouError):
        answer = Response(exc.as_dict(), status=exc.status)
        if isinstance(exc, Throttled):
            answer["Retry-After"] = str(exc.retry_after)
        return answer
    if isinstance(exc, DjangoValidationError):
        return Response(
            error_body(ErrorCode.INVALID, _("The request is not valid."), validation_fields(exc)), status=400
        )
    if isinstance(exc, Http404):
        return Response(error_body(ErrorCode.NOT_FOUND, _("Not found.")), status=404)
    if isinstance(exc, DjangoPermissionDenied):
        return Response(error_body(ErrorCode.FORBIDDEN, _("You may not do this.")), status=403)
    if isinstance(exc, drf.ValidationError):
        fields = _flatten(exc.detail)
        if not isinstance(fields, dict):
            fields = {"__all__": fields}
        code = ErrorCode.INVALID
        # A single well-known code (e.g. unknown_field) is promoted so that clients can switch on it.
        codes = {
            item["code"]
            for items in fields.values()
            if isinstance(items, list)
            for item in items
            if isinstance(item, dict) and "code" in item
        }
        if codes == {ErrorCode.UNKNOWN_FIELD}:
            code = ErrorCode.UNKNOWN_FIELD
        return Response(error_body(code, _("The request is not valid."), fields), status=400)
    if isinstance(exc, drf.APIException):
        code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), ErrorCode.ERROR)
        detail = exc.detail
        # An AuthenticationFailed raised with its own code (token_expired, token_revoked, …) keeps that code.
        if (
            isinstance(exc, drf.AuthenticationFailed)
            and isinstance(detail, drf.ErrorDetail)
            and detail.code in ErrorCode._value2member_map_
        ):
            code = ErrorCode(str(detail.code))
        response = Response(error_body(code, str(detail)), status=exc.status_code)
        auth_header = getattr(exc, "auth_header", None)
        if auth_header:
            response["WWW-Authenticate"] = auth_header
        wait = getattr(exc, "wait", None) if isinstance(exc, drf.Throttled) else None
        if wait is not None:
            response["Retry-After"] = str(max(1, int(wait)))
        return response
    return None
