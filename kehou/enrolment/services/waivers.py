"""Fee waivers for pupils from families in hardship: marked by the school, approved by a second person."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kehou.core import audit, permissions
from kehou.core.audit_actions import AuditAction
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import Conflict, Forbidden, KehouError
from kehou.orgs.models import Term
from kehou.people.models import Pupil

from ..models import HardshipWaiver
from .common import require_school_admin


def waiver_request(*, actor: Any, pupil: Pupil, term: Term, reason: str, now: datetime) -> HardshipWaiver:
    require_school_admin(actor, pupil.school)
    if not reason.strip():
        raise KehouError(_("Give a reason."), code=ErrorCode.REASON_REQUIRED, fields={"reason": ""})
    try:
        with transaction.atomic():
            waiver = HardshipWaiver.objects.create(
                pupil=pupil, term=term, reason=reason.strip()[:200], requested_by=actor, requested_at=now
            )
            audit.record(
                actor=actor,
                action=AuditAction.WAIVER_REQUEST,
                obj=waiver,
                after={"pupil": pupil.pk, "term": term.pk},
                now=now,
                school_id=pupil.school_id,
                district_id=pupil.school.district_id,
            )
    except IntegrityError:
        raise Conflict(
            _("The pupil already has a waiver for this term."), code=ErrorCode.WAIVER_EXISTS, fields={"pupil": pupil.pk}
        ) from None
    return waiver


def waiver_decide(
    *, actor: Any, waiver: HardshipWaiver, approve: bool, now: datetime, reason: str = ""
) -> HardshipWaiver:
    """Approval needs a second person: another administrator of the school, or the district bureau. A
    rejection's reason (the pages ask for one) is kept in the audit log."""
    reason = reason.strip()[:200]
    school = waiver.pupil.school
    permissions.require_school_or_district(
        actor,
        school_id=school.pk,
        district_id=school.district_id,
        message=_("Only the school or its district bureau may decide."),
        code=ErrorCode.NOT_SCHOOL_ADMIN,
    )
    if waiver.requested_by_id == actor.pk:
        raise Forbidden(_("The person who marked the pupil cannot also approve."), code=ErrorCode.FOUR_EYES)
    to = HardshipWaiver.Status.APPROVED if approve else HardshipWaiver.Status.REJECTED
    with transaction.atomic():
        updated = HardshipWaiver.objects.filter(pk=waiver.pk, status=HardshipWaiver.Status.PENDING).update(
            status=to, decided_by=actor, decided_at=now
        )
        if not updated:
            raise Conflict(_("The waiver has already been decided."), code=ErrorCode.WAIVER_DECIDED)
        audit.record(
            actor=actor,
            action=AuditAction(f"waiver.{to}"),
            obj=waiver,
            before={"status": "pending"},
            after={"status": to, "reason": reason} if reason else {"status": to},
            now=now,
            school_id=school.pk,
            district_id=school.district_id,
        )
    waiver.refresh_from_db()
    return waiver


def waiver_revoke(*, actor: Any, waiver: HardshipWaiver, now: datetime) -> HardshipWaiver:
    """Ends an approved waiver for future selections (seats already taken keep their fee)."""
    require_school_admin(actor, waiver.pupil.school)
    with transaction.atomic():
        updated = HardshipWaiver.objects.filter(pk=waiver.pk, status=HardshipWaiver.Status.APPROVED).update(
            status=HardshipWaiver.Status.REVOKED
        )
        if not updated:
            raise Conflict(_("Only an approved waiver can be revoked."), code=ErrorCode.WAIVER_NOT_APPROVED)
        audit.record(
            actor=actor,
            action=AuditAction.WAIVER_REVOKE,
            obj=waiver,
            before={"status": "approved"},
            after={"status": "revoked"},
            now=now,
            school_id=waiver.pupil.school_id,
            district_id=waiver.pupil.school.district_id,
        )
    waiver.refresh_from_db()
    return waiver
