"""OpenAPI descriptions of our own authentication classes, so the schema documents them (and has no warnings).

Imported from :meth:`kehou.core.apps.CoreConfig.ready`: drf-spectacular finds extensions by subclass registration.
"""

from __future__ import annotations

import inspect
from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_bearer_security_scheme_object, get_doc


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
