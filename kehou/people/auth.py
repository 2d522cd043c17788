"""Authentication: phone-or-username + password (with lockout), phone + SMS code."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from .models import User


class PhoneOrUsernameBackend(ModelBackend):
    """Looks a person up by username or by phone. Lockout and the SMS path live in people.services."""

    def authenticate(  # type: ignore[override]
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        if not username or not password:
            return None
        user = find_login_user(username)
        if user is None:
            User().set_password(password)  # same work for unknown users: no timing oracle
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


def find_login_user(identifier: str) -> User | None:
    identifier = identifier.strip()
    user = User.objects.filter(username=identifier).first()
    if user is None and identifier.isdigit():
        user = User.objects.filter(phone=identifier).first()
    return user
