"""Every write about people: accounts, logins, tokens, SMS codes, roles, pupils and guardians."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from kehou.core import audit
from kehou.core.audit_actions import AuditAction
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import KehouError
from kehou.notify import sms

from .auth import find_login_user
from .models import ApiToken, Role, RoleAssignment, SmsCode, User


class LoginFailed(KehouError):
    code = ErrorCode.INVALID_CREDENTIALS
    status = 401


class AccountLocked(KehouError):
    code = ErrorCode.ACCOUNT_LOCKED
    status = 423


class SmsRateLimited(KehouError):
    code = ErrorCode.SMS_RATE_LIMITED
    status = 429


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- password login with lockout -------------------------------------------------------------------
def login_with_password(*, identifier: str, password: str, now: datetime) -> User:
    """Check a password. After KEHOU_LOGIN_MAX_FAILURES failures the account is locked for a while.

    Raises LoginFailed (same answer for unknown user and wrong password) or AccountLocked.
    """
    from django.contrib.auth import authenticate

    user = find_login_user(identifier or "")
    if user is not None and user.locked_until and user.locked_until > now:
        raise AccountLocked(
            _("Too many failed attempts. Try again later."), fields={"locked_until": user.locked_until.isoformat()}
        )
    authenticated = authenticate(username=identifier, password=password)
    if authenticated is None:
        if user is not None:
            _register_failure(user=user, now=now)
        raise LoginFailed(_("Wrong username or password."))
    with transaction.atomic():
        User.objects.filter(pk=authenticated.pk).update(failed_login_count=0, locked_until=None, last_login=now)
    return authenticated  # type: ignore[return-value]


def _register_failure(*, user: User, now: datetime) -> None:
    limit = settings.KEHOU_LOGIN_MAX_FAILURES
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(failed_login_count=F("failed_login_count") + 1)
        locked = User.objects.filter(pk=user.pk, failed_login_count__gte=limit).update(
            locked_until=now + timedelta(seconds=settings.KEHOU_LOGIN_LOCKOUT_SECONDS), failed_login_count=0
        )
        if locked:
            audit.record(
                actor=None,
                action=AuditAction.ACCOUNT_LOCKED,
                obj=user,
                now=now,
                after={"locked_for_seconds": settings.KEHOU_LOGIN_LOCKOUT_SECONDS},
            )


# --- SMS codes ------------------------------------------------------------------------------------
SMS_RESEND_SECONDS = 60
SMS_MAX_ATTEMPTS = 5


def sms_code_send(*, phone: str, now: datetime) -> None:
    """Send a 6-digit login code. The answer is the same whether or not the phone has an account."""
    from .models import phone_validator

    phone_validator(phone)
    with transaction.atomic():
        recent = SmsCode.objects.filter(phone=phone, created_at__gt=now - timedelta(seconds=SMS_RESEND_SECONDS))
        if recent.exists():
            raise SmsRateLimited(_("A code was sent less than a minute ago."))
        code = f"{secrets.randbelow(1_000_000):06d}"
        # A code row is kept for unknown phones too (its code is never sent, and no account can use it), so that a
        # second request within the minute is refused alike and the answers never tell whether an account exists.
        # The check above is a courtesy; the database decides: one code per phone per resend window, so two
        # requests at the same moment (READ COMMITTED on PostgreSQL lets both pass the check) send one code.
        try:
            with transaction.atomic():
                SmsCode.objects.create(
                    phone=phone,
                    code_hash=_sha256(f"{phone}:{code}"),
                    created_at=now,
                    expires_at=now + timedelta(seconds=settings.KEHOU_SMS_CODE_TTL_SECONDS),
                    window=int(now.timestamp()) // SMS_RESEND_SECONDS,
                )
        except IntegrityError as exc:
            raise SmsRateLimited(_("A code was sent less than a minute ago.")) from exc
        if not User.objects.filter(phone=phone, is_active=True).exists():
            return
        minutes = max(1, settings.KEHOU_SMS_CODE_TTL_SECONDS // 60)
        text = _("Your Kehou login code is %(code)s, valid for %(minutes)d minutes.") % {
            "code": code,
            "minutes": minutes,
        }
        transaction.on_commit(lambda: sms.get_backend().send(phone=phone, text=text))


def login_with_sms_code(*, phone: str, code: str, now: datetime) -> User:
    """Log in with a code sent by SMS. A wrong code counts against the code (at most five tries)."""
    with transaction.atomic():
        sms_code = (
            SmsCode.objects.select_for_update()
            .filter(phone=phone, used_at__isnull=True, expires_at__gt=now, attempts__lt=SMS_MAX_ATTEMPTS)
            .order_by("-created_at")
            .first()
        )
        user = User.objects.filter(phone=phone, is_active=True).first()
        matched = (
            sms_code is not None
            and user is not None
            and hmac.compare_digest(sms_code.code_hash, _sha256(f"{phone}:{(code or '').strip()}"))
        )
        if sms_code is not None and not matched:
            SmsCode.objects.filter(pk=sms_code.pk).update(attempts=F("attempts") + 1)
        elif sms_code is not None and user is not None:
            SmsCode.objects.filter(pk=sms_code.pk).update(used_at=now)
            User.objects.filter(pk=user.pk).update(last_login=now, failed_login_count=0, locked_until=None)
    if not matched or user is None:
        raise LoginFailed(_("The code is wrong or has expired."), code=ErrorCode.INVALID_SMS_CODE)
    return user


# --- API tokens -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class IssuedToken:
    raw: str
    token: ApiToken


def token_issue(*, user: User, now: datetime) -> IssuedToken:
    raw = "kh_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            key_hash=_sha256(raw),
            prefix=raw[3:11],
            created_at=now,
            expires_at=now + timedelta(seconds=settings.KEHOU_TOKEN_TTL_SECONDS),
        )
        audit.record(
            actor=user,
            action=AuditAction.TOKEN_ISSUED,
            obj=token,
            now=now,
            object_repr=f"{token.prefix}…",
            after={"expires_at": token.expires_at.isoformat()},
        )
    return IssuedToken(raw=raw, token=token)


def token_lookup(raw: str) -> ApiToken | None:
    return ApiToken.objects.select_related("user").filter(key_hash=_sha256(raw)).first()


TOKEN_TOUCH_SECONDS = 300


def token_touch(*, token: ApiToken, now: datetime) -> None:
    """Record when a token was last used, at most every five minutes (not a write on every request)."""
    if token.last_used_at is not None and token.last_used_at >= now - timedelta(seconds=TOKEN_TOUCH_SECONDS):
        return  # used recently: no statement at all (the UPDATE below also refuses, but costs a round trip)
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - timedelta(seconds=TOKEN_TOUCH_SECONDS))
    ).update(last_used_at=now)


def token_revoke(*, actor: User, token: ApiToken, now: datetime) -> None:
    with transaction.atomic():
        updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
        if updated:
            audit.record(
                actor=actor, action=AuditAction.TOKEN_REVOKED, obj=token, now=now, object_repr=f"{token.prefix}…"
            )


# --- accounts and roles ---------------------------------------------------------------------------
def user_create(
    *,
    actor: Any,
    username: str,
    full_name: str,
    now: datetime,
    phone: str | None = None,
    password: str | None = None,
    is_superuser: bool = False,
) -> User:
    user = User(
        username=username,
        full_name=full_name,
        phone=phone or None,
        is_superuser=is_superuser,
        is_staff=is_superuser,
        date_joined=now,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean()
    with transaction.atomic():
        user.save()
        audit.record(
            actor=actor,
            action=AuditAction.USER_CREATED,
            obj=user,
            now=now,
            after={"username": username, "full_name": full_name},
        )
    return user


def role_grant(
    *, actor: Any, user: User, role: str, now: datetime, district: Any = None, school: Any = None, operator: Any = None
) -> RoleAssignment:
    if role not in Role.values:
        raise KehouError(_("Unknown role."), code=ErrorCode.UNKNOWN_ROLE, fields={"role": role})
    assignment = RoleAssignment(
        user=user, role=role, district=district, school=school, operator=operator, granted_at=now
    )
    assignment.full_clean(validate_constraints=True)
    with transaction.atomic():
        assignment.save()
        audit.record(
            actor=actor,
            action=AuditAction.ROLE_GRANTED,
            obj=assignment,
            now=now,
            school_id=getattr(school, "pk", None),
            district_id=getattr(district, "pk", None) or getattr(school, "district_id", None),
            after={"user": user.username, "role": role},
        )
    return assignment
