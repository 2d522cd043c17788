"""Every write about people: accounts, logins, tokens, SMS codes, roles, pupils and guardians."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from kehou.core import audit, context, ratelimit
from kehou.core.audit_actions import AuditAction
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import KehouError, Throttled
from kehou.notify import sms

from .models import ApiToken, Role, RoleAssignment, SmsCode, User


class LoginFailed(KehouError):
    code = ErrorCode.INVALID_CREDENTIALS
    status = 401


class LoginThrottled(Throttled):
    """Too many logins from one client address (or overall): answered before any password is looked at."""


class SmsRateLimited(Throttled):
    code = ErrorCode.SMS_RATE_LIMITED


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def find_login_user(identifier: str) -> User | None:
    identifier = identifier.strip()
    user = User.objects.filter(username=identifier).first()
    if user is None and identifier.isdigit():
        user = User.objects.filter(phone=identifier).first()
    return user


# --- throttles in front of every login and every SMS send ------------------------------------------------------
def _login_gate(*, now: datetime) -> str | None:
    """Count one login attempt of this client address and overall; refuse past a limit (429 ``throttled``).

    An address that failed too often recently is refused too (one password sprayed over many accounts). Returns
    the address's key (None outside a web request: the management shell, the demo loader).
    """
    address = ratelimit.address_key(context.current().client_ip)
    waits = [ratelimit.hit("login:all", ratelimit.rates(settings.KEHOU_LOGIN_RATES_OVERALL), now=now)]
    if address is not None:
        waits.append(
            ratelimit.hit(f"login:{address}", ratelimit.rates(settings.KEHOU_LOGIN_RATES_PER_ADDRESS), now=now)
        )
        failures = ratelimit.rates(settings.KEHOU_LOGIN_FAILURE_RATES_PER_ADDRESS)
        waits.append(ratelimit.wait(f"login-failed:{address}", failures, now=now))
    wait = max((w for w in waits if w), default=None)
    if wait:
        raise LoginThrottled(_("Too many login attempts. Wait a little and try again."), retry_after=wait)
    return address


def _login_failed(*, address: str | None, now: datetime) -> None:
    if address is not None:
        failures = ratelimit.rates(settings.KEHOU_LOGIN_FAILURE_RATES_PER_ADDRESS)
        ratelimit.hit(f"login-failed:{address}", failures, now=now)


# --- password login with lockout -------------------------------------------------------------------------------
def login_with_password(*, identifier: str, password: str, now: datetime) -> User:
    """Check a password: the one way in for the portal, the API token, the Django admin (through the
    authentication backend) and anything else that calls ``django.contrib.auth.authenticate``.

    Throttled per client address and overall first (``LoginThrottled``). After ``KEHOU_LOGIN_MAX_FAILURES``
    failures from one client address an account is locked *for that address* for ``KEHOU_LOGIN_LOCKOUT_SECONDS``:
    a stranger elsewhere cannot lock its owner out. Wrong password, unknown user, disabled account and locked
    account all raise the same ``LoginFailed`` after the same hashing work.
    """
    address = _login_gate(now=now)
    user = find_login_user(identifier or "")
    if user is None:
        User().set_password(password)  # the same work for unknown users: no timing oracle
        correct = False
    else:
        correct = user.check_password(password) and user.is_active
    locked = user is not None and _locked(user=user, address=address, now=now)
    if locked or not correct or user is None:
        _login_failed(address=address, now=now)
        if user is not None and not locked:
            _register_failure(user=user, address=address, now=now)
        raise LoginFailed(_("Wrong username or password."))  # locked: the same answer, after the same work
    ratelimit.clear(_failure_bucket(user, address), _lockout_window(), now=now)
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(last_login=now)
    return user


def _lockout_window() -> tuple[ratelimit.Rate]:
    return (ratelimit.Rate(settings.KEHOU_LOGIN_MAX_FAILURES, settings.KEHOU_LOGIN_LOCKOUT_SECONDS),)


def _failure_bucket(user: User, address: str | None) -> str:
    return f"login-account:{user.pk}:{address or '-'}"


def _lock_key(user: User, address: str | None) -> str:
    return f"kehou:login-lock:{user.pk}:{address or '-'}"


def _locked(*, user: User, address: str | None, now: datetime) -> bool:
    until = cache.get(_lock_key(user, address))
    return until is not None and until > now.timestamp()


def _register_failure(*, user: User, address: str | None, now: datetime) -> None:
    """Count a failure of (account, client address); at the limit that pair is locked, and the audit says so."""
    (window,) = _lockout_window()
    if ratelimit.count(_failure_bucket(user, address), window, now=now) < window.count:
        return
    seconds = settings.KEHOU_LOGIN_LOCKOUT_SECONDS
    cache.set(_lock_key(user, address), now.timestamp() + seconds, timeout=seconds + 60)
    ratelimit.clear(_failure_bucket(user, address), (window,), now=now)
    with transaction.atomic():
        audit.record(
            actor=None,
            action=AuditAction.ACCOUNT_LOCKED,
            obj=user,
            now=now,
            after={"locked_for_seconds": seconds, "for_client_address": address or ""},
        )


# --- SMS codes ------------------------------------------------------------------------------------
SMS_RESEND_SECONDS = 60
SMS_MAX_ATTEMPTS = 5


def _sms_gate(*, now: datetime) -> None:
    """Count one SMS send of this client address and overall; refuse past a limit, before looking at the phone."""
    address = ratelimit.address_key(context.current().client_ip)
    waits = [ratelimit.hit("sms:all", ratelimit.rates(settings.KEHOU_SMS_SEND_RATES_OVERALL), now=now)]
    if address is not None:
        waits.append(
            ratelimit.hit(f"sms:{address}", ratelimit.rates(settings.KEHOU_SMS_SEND_RATES_PER_ADDRESS), now=now)
        )
    wait = max((w for w in waits if w), default=None)
    if wait:
        raise SmsRateLimited(_("Too many codes were asked for. Wait a little and try again."), retry_after=wait)


def sms_code_send(*, phone: str, now: datetime) -> None:
    """Send a 6-digit login code. The answer is the same whether or not the phone has an account.

    Limited per client address and overall (``KEHOU_SMS_SEND_RATES_*``) and to one code per phone a minute;
    every refusal is 429 ``sms_rate_limited`` with ``Retry-After``, whatever the phone.
    """
    from .models import phone_validator

    phone_validator(phone)
    _sms_gate(now=now)
    with transaction.atomic():
        recent = SmsCode.objects.filter(phone=phone, created_at__gt=now - timedelta(seconds=SMS_RESEND_SECONDS))
        last = recent.order_by("-created_at").first()
        if last is not None:
            left = SMS_RESEND_SECONDS - int((now - last.created_at).total_seconds())
            raise SmsRateLimited(_("A code was sent less than a minute ago."), retry_after=left)
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
            left = SMS_RESEND_SECONDS - int(now.timestamp()) % SMS_RESEND_SECONDS
            raise SmsRateLimited(_("A code was sent less than a minute ago."), retry_after=left) from exc
        if not User.objects.filter(phone=phone, is_active=True).exists():
            return
        minutes = max(1, settings.KEHOU_SMS_CODE_TTL_SECONDS // 60)
        text = _("Your Kehou login code is %(code)s, valid for %(minutes)d minutes.") % {
            "code": code,
            "minutes": minutes,
        }
        transaction.on_commit(lambda: sms.get_backend().send(phone=phone, text=text))


def login_with_sms_code(*, phone: str, code: str, now: datetime) -> User:
    """Log in with a code sent by SMS. A wrong code counts against the code (at most five tries) and against the
    client address like a wrong password. It leaves the password lockout as it is: a code proves the phone, not
    the password."""
    address = _login_gate(now=now)
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
            User.objects.filter(pk=user.pk).update(last_login=now)
    if not matched or user is None:
        _login_failed(address=address, now=now)
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
