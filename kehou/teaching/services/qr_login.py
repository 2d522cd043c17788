"""Log a classroom screen in by scanning (扫码登录).

The screen holds two secrets the server keeps only as hashes: the QR code's one-time ``token`` (shown to the room
in the code; whoever scans it must be a signed-in teacher, and the first scanner owns it) and the screen's
``secret`` (never shown, sent with every poll; without it a leaked login id is useless). Every step is a conditional
UPDATE on the status, so a code is scanned, decided and used once, whatever races it; every step is audited; starts,
polls with a wrong secret and scans are rate-limited."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from kehou.core import audit, ratelimit
from kehou.core.audit_actions import AuditAction
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import Conflict, Forbidden, KehouError, NotFound, Throttled

from ..models import ScreenLogin

LIVE = (ScreenLogin.Status.WAITING, ScreenLogin.Status.SCANNED, ScreenLogin.Status.APPROVED)


def _conf(name: str) -> Any:
    return settings.KEHOU_TEACHING[name]


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _limit(bucket: str, setting: str, *, now: datetime) -> None:
    wait = ratelimit.hit(bucket, ratelimit.rates(_conf(setting)), now=now)
    if wait is not None:
        raise Throttled(
            _("Too many attempts. Try again in %(s)s seconds.") % {"s": wait},
            retry_after=wait,
            code=ErrorCode.QR_LOGIN_THROTTLED,
        )


def qr_login_start(
    *, screen_name: str = "", ip: str | None, user_agent: str = "", now: datetime
) -> tuple[ScreenLogin, str, str]:
    """A new login for a screen: (the login, the QR token, the screen's secret). No credentials: anyone may start
    one, at most so many per address and overall."""
    _limit(f"qr-start:{ratelimit.address_key(ip) or '-'}", "START_RATE", now=now)
    _limit("qr-start:all", "START_RATE_ALL", now=now)
    screen_name = " ".join((screen_name or "").split())[:60]
    token, secret = secrets.token_urlsafe(24), secrets.token_urlsafe(32)
    login = ScreenLogin.objects.create(
        public_id=secrets.token_hex(12),
        token_hash=_hash(token),
        secret_hash=_hash(secret),
        match_number=f"{secrets.randbelow(90) + 10}",
        screen_name=screen_name,
        screen_ip=(ip or "")[:64],
        user_agent=(user_agent or "")[:200],
        created_at=now,
        expires_at=now + timedelta(seconds=int(_conf("QR_SECONDS"))),
    )
    return login, token, secret


def _expire_if_due(login: ScreenLogin, *, now: datetime) -> ScreenLogin:
    if login.status in LIVE and login.expires_at <= now:
        ScreenLogin.objects.filter(pk=login.pk, status=login.status).update(status=ScreenLogin.Status.EXPIRED)
        login.refresh_from_db()
    return login


def screen_login(*, public_id: str, secret: str, ip: str | None, now: datetime) -> ScreenLogin:
    """The screen's view of its login, by id and secret. A wrong secret is the same 404 as a missing login, is
    counted (after WRONG_SECRETS_MAX the login expires) and is rate-limited per address."""
    login = ScreenLogin.objects.filter(public_id=(public_id or "")[:32]).first()
    if login is None or not secret or not secrets.compare_digest(login.secret_hash, _hash(secret)):
        _limit(f"qr-secret:{ratelimit.address_key(ip) or '-'}", "WRONG_SECRET_RATE", now=now)
        if login is not None:
            with transaction.atomic():
                ScreenLogin.objects.filter(pk=login.pk).update(wrong_secrets=F("wrong_secrets") + 1)
                count = ScreenLogin.objects.filter(pk=login.pk).values_list("wrong_secrets", flat=True).get()
                if count >= int(_conf("WRONG_SECRETS_MAX")):
                    ScreenLogin.objects.filter(pk=login.pk, status__in=LIVE).update(status=ScreenLogin.Status.EXPIRED)
                audit.record(
                    actor=None,
                    action=AuditAction.QR_LOGIN_WRONG_SECRET,
                    obj=login,
                    object_repr=login.screen_name or login.public_id,
                    after={"ip": ip or "", "wrong_secrets": count},
                    now=now,
                )
        raise NotFound(_("Not found."))
    return _expire_if_due(login, now=now)


def _teacher(actor: Any) -> None:
    if not getattr(actor, "is_authenticated", False) or getattr(actor, "teacher_profile", None) is None:
        raise Forbidden(_("Only a teacher logs a classroom screen in."), code=ErrorCode.NOT_TEACHER)


def qr_scan(*, actor: Any, token: str, now: datetime) -> ScreenLogin:
    """The teacher's phone read the code: the login is theirs to confirm (a code another teacher scanned first is
    refused). Scanning one's own scanned code again shows it again."""
    _teacher(actor)
    _limit(f"qr-scan:{actor.pk}", "SCAN_RATE", now=now)
    login = ScreenLogin.objects.filter(token_hash=_hash((token or "")[:64])).first()
    if login is None:
        raise KehouError(_("This code is not one of ours."), code=ErrorCode.QR_LOGIN_INVALID)
    login = _expire_if_due(login, now=now)
    if login.status == ScreenLogin.Status.EXPIRED:
        raise Conflict(_("This code has expired: the screen shows a new one."), code=ErrorCode.QR_LOGIN_EXPIRED)
    if login.scanned_by_id not in (None, actor.pk):
        raise Conflict(_("Another teacher scanned this code first."), code=ErrorCode.QR_LOGIN_TAKEN)
    if login.status in (ScreenLogin.Status.USED, ScreenLogin.Status.REJECTED):
        raise Conflict(_("This code was used already."), code=ErrorCode.QR_LOGIN_USED)
    if login.status == ScreenLogin.Status.WAITING:
        with transaction.atomic():
            taken = ScreenLogin.objects.filter(pk=login.pk, status=ScreenLogin.Status.WAITING).update(
                status=ScreenLogin.Status.SCANNED, scanned_by=actor, scanned_at=now
            )
            if not taken:
                raise Conflict(_("Another teacher scanned this code first."), code=ErrorCode.QR_LOGIN_TAKEN)
            login.refresh_from_db()
            audit.record(
                actor=actor,
                action=AuditAction.QR_LOGIN_SCAN,
                obj=login,
                object_repr=login.screen_name or login.public_id,
                after={"screen_ip": login.screen_ip},
                now=now,
            )
    return login


def _decide(*, actor: Any, login: ScreenLogin, approve: bool, now: datetime) -> ScreenLogin:
    _teacher(actor)
    if login.scanned_by_id != actor.pk:
        raise NotFound(_("Not found."))
    login = _expire_if_due(login, now=now)
    if login.status == ScreenLogin.Status.EXPIRED:
        raise Conflict(_("This code has expired: the screen shows a new one."), code=ErrorCode.QR_LOGIN_EXPIRED)
    target = ScreenLogin.Status.APPROVED if approve else ScreenLogin.Status.REJECTED
    with transaction.atomic():
        extra = {"expires_at": max(login.expires_at, now + timedelta(seconds=30))} if approve else {}
        if not ScreenLogin.objects.filter(pk=login.pk, status=ScreenLogin.Status.SCANNED).update(
            status=target, decided_at=now, **extra
        ):
            raise Conflict(_("This login was decided already."), code=ErrorCode.QR_LOGIN_USED)
        login.refresh_from_db()
        audit.record(
            actor=actor,
            action=AuditAction.QR_LOGIN_APPROVE if approve else AuditAction.QR_LOGIN_REJECT,
            obj=login,
            object_repr=login.screen_name or login.public_id,
            after={"screen_ip": login.screen_ip},
            now=now,
        )
    return login


def qr_confirm(*, actor: Any, login: ScreenLogin, now: datetime) -> ScreenLogin:
    return _decide(actor=actor, login=login, approve=True, now=now)


def qr_reject(*, actor: Any, login: ScreenLogin, now: datetime) -> ScreenLogin:
    return _decide(actor=actor, login=login, approve=False, now=now)


def qr_exchange(*, public_id: str, secret: str, ip: str | None, now: datetime) -> Any:
    """The screen, holding its secret, turns an approved login into its session, once: the teacher's account."""
    login = screen_login(public_id=public_id, secret=secret, ip=ip, now=now)
    with transaction.atomic():
        if not ScreenLogin.objects.filter(pk=login.pk, status=ScreenLogin.Status.APPROVED, expires_at__gt=now).update(
            status=ScreenLogin.Status.USED, used_at=now
        ):
            raise Conflict(_("This login is not approved, or was used."), code=ErrorCode.QR_LOGIN_USED)
        login.refresh_from_db()
        audit.record(
            actor=login.scanned_by,
            action=AuditAction.QR_LOGIN_USE,
            obj=login,
            object_repr=login.screen_name or login.public_id,
            after={"screen_ip": ip or ""},
            now=now,
        )
    return login.scanned_by
