"""Bearer tokens for API clients (stored hashed, expiring, revocable) and session auth for pages."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from kehou.core import clock
from kehou.core.error_codes import ErrorCode


class TokenError(exceptions.AuthenticationFailed):
    def __init__(self, message: str, code: ErrorCode) -> None:
        super().__init__(detail=message, code=code)


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        from .services import token_lookup, token_touch

        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        parts = header.split()
        if not parts or parts[0].lower() != self.keyword.lower():
            return None
        if len(parts) != 2:
            raise TokenError(_("Malformed Authorization header."), ErrorCode.TOKEN_MALFORMED)
        token = token_lookup(parts[1])
        now = clock.now()
        if token is None:
            raise TokenError(_("The token is not valid."), ErrorCode.TOKEN_INVALID)
        if token.revoked_at is not None:
            raise TokenError(_("The token has been revoked."), ErrorCode.TOKEN_REVOKED)
        if token.expires_at <= now:
            raise TokenError(_("The token has expired."), ErrorCode.TOKEN_EXPIRED)
        if not token.user.is_active:
            raise TokenError(_("The account is disabled."), ErrorCode.ACCOUNT_DISABLED)
        token_touch(token=token, now=now)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="kehou"'


class CsrfSessionAuthentication(authentication.SessionAuthentication):
    """Session auth for the pages' own fetch() calls; CSRF enforced as usual."""

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="kehou"'
