"""The OpenAPI schema: our authentication classes, the error answers of every operation, the served schema cached.

* ``BearerTokenScheme`` and ``CsrfSessionScheme`` describe our own authentication classes (imported from
  :meth:`kehou.core.apps.CoreConfig.ready`: drf-spectacular finds extensions by subclass registration).
* ``KehouAutoSchema`` adds to every operation the error answers it can give, in the one error shape (``Error``,
  :mod:`kehou.core.errors`), besides those the endpoint declares itself: see :meth:`KehouAutoSchema.error_answers`.
* ``CachedSchemaGenerator`` (``SPECTACULAR_SETTINGS["DEFAULT_GENERATOR_CLASS"]``) builds the schema that
  ``/api/schema/`` serves once per process for each language and version (a build takes a second or two) and
  builds it again when a setting changes (tests change settings).
"""

from __future__ import annotations

import inspect
import threading
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils import translation
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent, build_bearer_security_scheme_object, get_doc
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication

from kehou.core.error_codes import ErrorCode
from kehou.core.pagination import KehouPagination
from kehou.core.serializers import ReasonField, StrictSerializer


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """``Authorization: Bearer kh_…`` from ``POST /api/v1/auth/token`` (hashed at rest, expiring, revocable)."""

    target_class = "kehou.people.api_auth.BearerTokenAuthentication"
    name = "bearerAuth"
    match_subclasses = True

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix=self.target.keyword)


class CsrfSessionScheme(OpenApiAuthenticationExtension):
    """The portal's session cookie, for the pages' own fetch() calls (unsafe methods need the CSRF token)."""

    target_class = "kehou.people.api_auth.CsrfSessionAuthentication"
    name = "cookieAuth"
    match_subclasses = True

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}


class KehouAutoSchema(AutoSchema):
    """Operation descriptions come from the endpoint itself (``extend_schema(description=…)``, or the docstring of
    the view class or method as written in the app), never from a base class of the house: the docstrings of
    ``core.api`` explain how the code works, not what an endpoint does."""

    def get_description(self) -> str:  # type: ignore[override]
        action_or_method = getattr(self.view, getattr(self.view, "action", self.method.lower()), None)
        action_doc = get_doc(action_or_method)
        own = self.view.__class__.__dict__.get("__doc__")
        if action_doc and getattr(action_or_method, "__module__", "").startswith("kehou.core."):
            action_doc = ""
        return action_doc or (inspect.cleandoc(own) if own else "")

    def _map_serializer(self, serializer: Any, direction: Any, bypass_extensions: bool = False) -> dict[str, Any]:
        """A strict body (``StrictSerializer``) says that it refuses fields it does not know (``unknown_field``)."""
        schema: dict[str, Any] = super()._map_serializer(serializer, direction, bypass_extensions)
        if direction != "request" or schema.get("type") != "object":
            return schema
        if isinstance(serializer, StrictSerializer):
            schema["additionalProperties"] = False
        for name, field in getattr(serializer, "fields", {}).items():
            if isinstance(field, ReasonField) and name in schema.get("properties", {}):
                # a visible character: not only whitespace, as Python's str.strip() counts it
                schema["properties"][name]["pattern"] = r"[^\s\x1c-\x1f\x85]"
                schema["required"] = sorted({*schema.get("required", []), name})
        return schema

    def _map_serializer_field(self, field: Any, direction: Any, bypass_extensions: bool = False) -> dict[str, Any]:
        """A time of day (a class's slot, a session) is the school's wall-clock time in Asia/Shanghai, answered as
        ``HH:MM:SS``. OpenAPI's ``format: time`` is RFC 3339's, which must carry an offset: not ours."""
        schema: dict[str, Any] = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction == "response" and isinstance(field, serializers.TimeField) and schema.get("format") == "time":
            del schema["format"]
            schema["pattern"] = r"^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?$"
            schema.setdefault("description", f"local time of day ({settings.TIME_ZONE}), HH:MM:SS")
        return schema

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        if "security" in operation:  # SPECTACULAR_SETTINGS["SECURITY"] repeats what the view's classes say
            unique: list[dict[str, Any]] = []
            for requirement in operation["security"]:
                if requirement not in unique:
                    unique.append(requirement)
            operation["security"] = unique
        if self.method == "GET":
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query":
                    _lenient_filter(parameter)
        self._add_error_answers(operation)
        return operation

    # --- the error answers ------------------------------------------------------------------------------------
    def error_answers(self, operation: dict[str, Any]) -> dict[str, str]:
        """The error statuses this operation can answer whatever its endpoint declares, and why.

        * 400: every operation (a parameter with a NUL character, an oversize form; with a body: ``invalid``,
          ``unknown_field``, ``malformed_request`` and the services' codes).
        * 401: every operation that authenticates (no credentials; an unknown, expired, revoked or malformed token).
        * 403: every unsafe method that takes the session cookie (a session without its CSRF token).
        * 404: an operation with a path parameter (missing, or outside the caller's scope: the same answer) and a
          paginated list (a ``page`` out of range).
        * 413, 415: every operation with a body (over ``DATA_UPLOAD_MAX_MEMORY_SIZE``; a content type it does not
          read).
        """
        view = self.view
        parameters = operation.get("parameters", [])
        authenticators = list(getattr(view, "authentication_classes", []) or [])
        body = operation.get("requestBody", {}).get("content", {})
        unsafe = self.method in ("POST", "PUT", "PATCH", "DELETE")
        answers = {"400": _ANSWERS["400_body"] if body else _ANSWERS["400"]}
        if authenticators:
            answers["401"] = _ANSWERS["401"]
        if unsafe and any(issubclass(a, SessionAuthentication) for a in authenticators):
            answers["403"] = _ANSWERS["403"]
        if any(p.get("in") == "path" for p in parameters):
            answers["404"] = _ANSWERS["404"]
        elif any(p.get("in") == "query" and p.get("name") == "page" for p in parameters):
            answers["404"] = _ANSWERS["404_page"]
        if body:
            answers["413"] = _ANSWERS["413"]
            if "*/*" not in body:
                answers["415"] = _ANSWERS["415"]
        return answers

    def _add_error_answers(self, operation: dict[str, Any]) -> None:
        responses = operation.setdefault("responses", {})
        for status, description in self.error_answers(operation).items():
            responses.setdefault(status, {"description": description})
        for name, component_schema in (("ErrorCode", ERROR_CODE_SCHEMA), ("Error", ERROR_SCHEMA)):
            component = ResolvedComponent(
                name=name, type=ResolvedComponent.SCHEMA, object=f"kehou.core.errors.{name}", schema=component_schema
            )
            self.registry.register_on_missing(component)
        error = {"$ref": "#/components/schemas/Error"}
        for status, response in responses.items():
            if status[0] in "45" and "content" not in response:  # declared without a body: the one error shape
                response["content"] = {"application/json": {"schema": error}}
            if status == "429":
                response.setdefault("headers", {})["Retry-After"] = {
                    "schema": {"type": "integer", "minimum": 1},
                    "required": True,
                    "description": "seconds to wait (also `fields.retry_after`)",
                }
        operation["responses"] = dict(sorted(responses.items()))


MAX_ID = 2**63 - 1


def _lenient_filter(parameter: dict[str, Any]) -> None:
    """A list's filters take what they can read and ignore the rest (``core.api.query_int``, ``query_choice``):
    ``school=abc`` or ``status=nonsense`` is no filter, not an error. The schema says so (the value the filter
    reads, or any other text), so that no client, and no fuzzer, takes an ignored value for a refused one. What
    is refused stays refused: an id beyond 64 bits (400), a page that is not one (404), a date that is not one."""
    schema = parameter.get("schema", {})
    name = parameter.get("name")
    if name == "page" and schema.get("type") == "integer":
        # Django's paginator: a whole number from 1, or "last"; empty is the first page; anything else 404.
        parameter["schema"] = {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "string", "enum": ["", "last"]}]}
    elif name == "page_size" and schema.get("type") == "integer":
        largest, default = KehouPagination.max_page_size, KehouPagination.page_size
        parameter["schema"] = {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "string"}]}
        parameter["description"] = (
            f"{parameter.get('description', '').rstrip('.。')} (at most {largest}: more is {largest}; anything but "
            f"a positive whole number: {default})"
        )
    elif schema.get("type") == "string" and schema.get("format") == "date":
        parameter["schema"] = {"anyOf": [schema, {"type": "string", "enum": [""]}]}  # empty: no filter
    elif schema.get("type") == "integer" or (schema.get("type") == "string" and "enum" in schema):
        description = parameter.get("description", "")
        description += ". " if description else ""
        if schema.get("type") == "integer":
            schema = {**schema, "maximum": MAX_ID}
            description += "Any other value: no filter (a number beyond 2^63-1: 400)."
        else:
            description += "Any other value: no filter."
        parameter["schema"] = {"anyOf": [schema, {"type": "string"}]}
        parameter["description"] = description


# The one error shape (kehou.core.errors.error_body), as two components of the schema.
ERROR_CODE_SCHEMA = {
    "type": "string",
    "enum": [code.value for code in ErrorCode],
    "description": "Stable: clients branch on it (the error-code table in docs/api.md).",
}
ERROR_SCHEMA = {
    "type": "object",
    "description": 'Every error the API answers: `{"error": {"code", "message", "fields"}}`.',
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"$ref": "#/components/schemas/ErrorCode"},
                "message": {"type": "string", "description": "for people, in the caller's language"},
                "fields": {
                    "type": "object",
                    "additionalProperties": {},
                    "description": "details: for an invalid body `{field: [{code, message}]}`, else named by the code",
                },
            },
            "required": ["code", "message", "fields"],
        }
    },
    "required": ["error"],
}


_ANSWERS = {
    "400": "`invalid`: a parameter is not valid (`fields` names it)",
    "400_body": (
        "`invalid`, `unknown_field`, `malformed_request` or the endpoint's own code (`fields` says which value)"
    ),
    "401": (
        "`not_authenticated` (no credentials), `token_invalid`, `token_expired`, `token_revoked`, "
        "`token_malformed`, `account_disabled`"
    ),
    "403": "`forbidden`: not for this role, or a session without its CSRF token",
    "404": "`not_found`: missing, or outside the caller's scope (the same answer)",
    "404_page": "`not_found`: the page is out of range (`page` beyond the last, or not a positive number)",
    "413": "`body_too_large`",
    "415": "`unsupported_media_type`",
}


# --- the served schema, built once ---------------------------------------------------------------------------
_built: dict[tuple[Any, ...], dict[str, Any]] = {}
_building = threading.Lock()


class CachedSchemaGenerator(SchemaGenerator):
    """The public schema, built once per process for each language, version and URLconf.

    The schema does not depend on who asks (no view's serializer or parameters depend on the caller), so it is
    built without the request. A schema limited to what the caller may see (``SERVE_PUBLIC = False``) is built
    every time."""

    def get_schema(self, request: Any = None, public: bool = False) -> dict[str, Any]:
        if not public:
            return super().get_schema(request=request, public=public)  # type: ignore[no-any-return]
        key = (
            translation.get_language(),
            self.api_version,
            str(self.urlconf),
            id(self.patterns) if self.patterns else None,
        )
        with _building:
            if key not in _built:
                _built[key] = super().get_schema(request=None, public=True)
            return _built[key]


@receiver(setting_changed)
def _forget_built_schemas(**kwargs: Any) -> None:
    with _building:
        _built.clear()
