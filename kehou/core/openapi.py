"""OpenAPI descriptions of our own authentication classes, so the schema documents them (and has no warnings).

Imported from :meth:`kehou.core.apps.CoreConfig.ready`: drf-spectacular finds extensions by subclass registration.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object


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
