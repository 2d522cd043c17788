"""The one base class through which every API list, detail and export reads scoped rows.

``get_queryset`` is final: a subclass that defines it fails at import time. Subclasses say *what* to read with
``select(scope)`` (normally one selector call); the base always narrows the result to the caller's scope, so
a forgotten filter cannot leak another school's rows, and a row outside the scope answers the same 404 as a
missing one. ``dangerously_unscoped = True`` marks the rare view that reads no scoped rows at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, ClassVar

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse
from rest_framework import generics, mixins, viewsets
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from kehou.core import clock
from kehou.core.error_codes import ErrorCode

from .scope import Scope, scope_for


class ScopeGuard:
    """Mixin that owns get_queryset. Shared by API views and pages."""

    dangerously_unscoped: ClassVar[bool] = False
    request: Any

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__:
            raise TypeError(
                f"{cls.__qualname__} overrides get_queryset; define select(scope) instead (DESIGN.md rule 1)"
            )

    @property
    def scope(self) -> Scope:
        return scope_for(self.request.user)

    def select(self, scope: Scope) -> QuerySet[Any]:
        raise NotImplementedError(f"{type(self).__qualname__} must define select(scope)")

    def get_queryset(self) -> QuerySet[Any]:
        scope = self.scope
        return scope.filter(self.select(scope))


class ScopedReadOnlyViewSet(ScopeGuard, viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    lookup_value_regex = r"[0-9]+"  # ASCII digits only (\d would also take "１" and other Unicode digits)


class ScopedListAPIView(ScopeGuard, generics.ListAPIView):  # type: ignore[type-arg]
    pass


class ScopedObjectView(ScopeGuard, generics.GenericAPIView):  # type: ignore[type-arg]
    """One scoped row, by ``pk``, for an action: outside the scope or missing, the same 404 (fetch it with
    ``get_object()`` before reading the body)."""

    lookup_value_regex = r"[0-9]+"

    def parsed(self, serializer_class: type[Any]) -> dict[str, Any]:
        return parsed(self.request, serializer_class)


class ActionView(ScopedObjectView):
    """``POST /<resource>/{id}/<verb>``: one action on one scoped row, in one shape for every app.

    The row is fetched through the scope first (outside it or missing: the same 404, before the body is read),
    the body is validated by ``body`` (a strict serializer: unknown fields are refused), then ``act`` makes the one
    service call and ``answer`` says what the client gets back. A subclass names ``select(scope)``, ``body``,
    ``act`` and usually ``answer``; its OpenAPI text goes in ``@extend_schema_view(post=extend_schema(...))``.
    ``body`` is also what ``OPTIONS`` describes."""

    http_method_names: ClassVar[list[str]] = ["post", "options"]  # type: ignore[misc]
    body: ClassVar[type[Any] | None] = None  # None: the action takes no body (whatever is sent is not read)

    def get_serializer_class(self) -> type[Any]:
        from .serializers import EmptySerializer

        return self.body or EmptySerializer

    def act(self, obj: Any, values: dict[str, Any], *, actor: Any, now: datetime) -> Any:
        raise NotImplementedError

    def answer(self, obj: Any, result: Any) -> Response:
        """What the client gets: by default what ``act`` returned (a ``Response``, or data to send as one)."""
        return result if isinstance(result, Response) else Response(result)

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        obj = self.get_object()
        values = self.parsed(self.body) if self.body is not None else {}
        result = self.act(obj, values, actor=request.user, now=clock.now())
        return self.answer(obj, result)


def parsed(request: Request, serializer_class: type[Any]) -> dict[str, Any]:
    """The validated body (a StrictSerializer refuses unknown fields); 400 with the field errors otherwise."""
    data = serializer_class(data=request.data)
    data.is_valid(raise_exception=True)
    return dict(data.validated_data)


def request_key(request: Request, in_body: str) -> str:
    """The client's idempotency key: the ``Idempotency-Key`` header or ``request_key`` in the body (the same if
    both); ``request_key_required`` without either."""
    from kehou.core.errors import KehouError

    header = request.headers.get("Idempotency-Key", "").strip()
    in_body = (in_body or "").strip()
    if header and in_body and header != in_body:
        raise KehouError(
            _("The Idempotency-Key header and request_key differ."),
            code=ErrorCode.REQUEST_KEY_MISMATCH,
            fields={"request_key": in_body},
        )
    key = header or in_body
    if not key:
        raise KehouError(
            _("Send an Idempotency-Key header."), code=ErrorCode.REQUEST_KEY_REQUIRED, fields={"request_key": ""}
        )
    return key


ERRORS = OpenApiResponse(description="`{error: {code, message, fields}}`")
NOT_FOUND = OpenApiResponse(description="`not_found`: missing, or outside the caller's scope")


MAX_ID = 2**63 - 1


def parse_id(text: str) -> int | None:
    """A non-negative integer from user text: ASCII digits only ("²" and "１" are digits to str.isdigit but not
    ids), within 64 bits (SQLite overflows beyond); None otherwise."""
    value = text.strip()
    if not (value.isascii() and value.isdigit()) or len(value) > 19 or int(value) > MAX_ID:
        return None  # (more than 19 digits is past 64 bits, and past 4,300 int() itself refuses)
    return int(value)


def query_int(request: Request, name: str) -> int | None:
    """An integer filter from the query string: None (no filter) unless ASCII digits; 400 if beyond 64 bits."""
    value = request.query_params.get(name, "").strip()
    if not (value.isascii() and value.isdigit()):
        return None
    number = int(value) if len(value) <= 19 else MAX_ID + 1
    if number > MAX_ID:
        raise ValidationError({name: [ErrorDetail(_("The number is too large."), code="max_value")]})
    return number


def query_bool(request: Request, name: str) -> bool | None:
    """A true/false filter from the query string: None when absent; ``true``/``1`` or ``false``/``0``; 400 else."""
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise ValidationError({name: [ErrorDetail(_("Say true or false."), code="invalid")]})


__all__ = [
    "ERRORS",
    "NOT_FOUND",
    "ScopeGuard",
    "ScopedListAPIView",
    "ScopedObjectView",
    "ScopedReadOnlyViewSet",
    "mixins",
    "parse_id",
    "parsed",
    "query_bool",
    "query_int",
    "request_key",
]


class FileNegotiation(BaseContentNegotiation):
    """The download answers a file itself; anything DRF renders (errors) is JSON whatever the Accept header."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        return next(iter(parsers), None)

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type
