"""Authentication: phone-or-username + password (with lockout), phone + SMS code."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from kehou.core import clock

from .models import User
from .services import LoginFailed, login_with_password


class PhoneOrUsernameBackend(ModelBackend):
    """Looks a person up by username or by phone, through ``people.services.login_with_password``: so every form
    that calls ``django.contrib.auth.authenticate`` (the Django admin's login among them) is throttled, counts
    failures and honours the lockout like the portal and the API. A throttled attempt raises ``LoginThrottled``
    (the caller answers 429); a wrong, unknown, disabled or locked one is ``None``."""

    def authenticate(  # type: ignore[override]
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        if not username or not password:
            return None
        try:
            return login_with_password(identifier=username, password=password, now=clock.now())
        except LoginFailed:
            return None
