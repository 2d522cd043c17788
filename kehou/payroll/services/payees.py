"""A teacher binds the WeChat account their pay is transferred to: the openid comes from WeChat's web authorisation
(:mod:`kehou.payroll.channels.wechat_oauth`), never typed in, and the real name the channel checks is the teacher's
own. Rebinding is refused while a payout of theirs is on its way (a payout re-sent under its bill number must name
the same payee)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from kehou.core import audit
from kehou.core.audit_actions import AuditAction
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import Conflict, Forbidden, KehouError
from kehou.notify.services import notify

from ..channels.wechat_oauth import OAuthFailed, provider
from ..models import Payee, Payout

# As on an ID card: Chinese characters (with the middle dot of minority names), or Latin letters and spaces.
REAL_NAME = re.compile(r"^(?:[\u4e00-\u9fff·]{2,20}|[A-Za-z][A-Za-z .'-]{1,39})$")


def teacher_of(actor: Any) -> Any:
    profile = getattr(actor, "teacher_profile", None) if getattr(actor, "is_authenticated", False) else None
    if profile is None:
        raise Forbidden(_("Only a teacher binds a payout account."), code=ErrorCode.PAYEE_INVALID)
    return profile


def check_real_name(real_name: str) -> str:
    real_name = (real_name or "").strip()
    if not REAL_NAME.match(real_name):
        raise KehouError(
            _("Enter your real name as on your ID card (2–20 Chinese characters)."),
            code=ErrorCode.PAYEE_INVALID,
            fields={"real_name": 0},
        )
    return real_name


def payee_bind(*, actor: Any, code: str, real_name: str, now: datetime) -> Payee:
    """Exchange the authorisation ``code`` for the teacher's openid and keep it with their real name."""
    teacher = teacher_of(actor)
    real_name = check_real_name(real_name)
    try:
        openid = provider().exchange(code)
    except OAuthFailed as exc:
        raise KehouError(
            _("WeChat did not confirm the account (the authorisation expired or was used). Try again."),
            code=ErrorCode.PAYEE_INVALID,
            fields={"oauth": exc.code},
        ) from None
    with transaction.atomic():
        busy = Payout.objects.filter(teacher=teacher, status__in=(Payout.Status.PENDING, Payout.Status.SENT)).exists()
        existing = Payee.objects.select_for_update().filter(teacher=teacher).first()
        if existing is not None and busy and (existing.openid, existing.real_name) != (openid, real_name):
            raise Conflict(
                _("A payout to your current account is on its way; change the account after it arrives."),
                code=ErrorCode.PAYEE_BUSY,
            )
        before = {"openid": existing.openid[:6] + "…", "real_name": existing.real_name} if existing else None
        payee, _created = Payee.objects.update_or_create(
            teacher=teacher, defaults={"openid": openid, "real_name": real_name, "bound_at": now}
        )
        audit.record(
            actor=actor,
            action=AuditAction.PAYEE_BIND,
            obj=payee,
            object_repr=actor.get_full_name() or actor.username,
            before=before,
            after={"openid": openid[:6] + "…", "real_name": real_name},
            now=now,
        )
        notify(
            user_ids=[actor.pk],
            kind="payee",
            title=_("Your class-hour pay will be sent to the WeChat account you just bound."),
            link="/pay/account/",
            now=now,
        )
    return payee
