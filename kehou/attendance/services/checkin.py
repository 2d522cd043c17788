"""Check-in by the phone's location (签到), make-ups (补卡) and the purge of raw coordinates."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kehou.core import audit, permissions
from kehou.core.audit_actions import AuditAction
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import Conflict, KehouError
from kehou.enrolment.models import ClassSession
from kehou.notify import events
from kehou.people.models import TeacherProfile

from .. import geo
from ..models import CheckIn
from .common import broadcast_live, require_active, require_runner, rules, session_bounds


def _number(value: Any, *, field: str, code: ErrorCode, message: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise KehouError(message, code=code, fields={field: str(value)[:40]}) from None
    if not math.isfinite(number) or isinstance(value, bool):
        raise KehouError(message, code=code, fields={field: str(value)[:40]})
    return number


def parse_fix(lat: Any, lng: Any, accuracy_m: Any, crs: Any) -> tuple[float, float, float, geo.Crs]:
    """The fix as numbers in range, its accuracy above 0 and believable, and a known coordinate system."""
    bad = _("A latitude is between −90 and 90 and a longitude between −180 and 180.")
    la = _number(lat, field="lat", code=ErrorCode.COORDINATES_INVALID, message=bad)
    ln = _number(lng, field="lng", code=ErrorCode.COORDINATES_INVALID, message=bad)
    if not -90 <= la <= 90:
        raise KehouError(bad, code=ErrorCode.COORDINATES_INVALID, fields={"lat": str(lat)[:40]})
    if not -180 <= ln <= 180:
        raise KehouError(bad, code=ErrorCode.COORDINATES_INVALID, fields={"lng": str(lng)[:40]})
    limit = rules()["MAX_ACCURACY_M"]
    acc_message = _("The accuracy is a number of metres above 0 and at most %(limit)d.") % {"limit": limit}
    acc = _number(accuracy_m, field="accuracy_m", code=ErrorCode.ACCURACY_INVALID, message=acc_message)
    if not 0 < acc <= limit:
        raise KehouError(acc_message, code=ErrorCode.ACCURACY_INVALID, fields={"accuracy_m": str(accuracy_m)[:40]})
    try:
        system = geo.Crs(str(crs).strip().lower())
    except ValueError:
        raise KehouError(
            _("The coordinate system is wgs84 (phones) or gcj02 (Chinese maps)."),
            code=ErrorCode.CRS_UNKNOWN,
            fields={"crs": str(crs)[:20]},
        ) from None
    return la, ln, acc, system


def check_in(
    *, actor: Any, session: ClassSession, lat: Any, lng: Any, accuracy_m: Any, crs: Any, now: datetime
) -> CheckIn:
    """One fix at check-in, judged by its accuracy circle; on time, late, or (after the session) refused."""
    la, ln, acc, system = parse_fix(lat, lng, accuracy_m, crs)
    teacher = require_runner(actor, session)
    require_active(session)
    start, end = session_bounds(session)
    r = rules()
    if now < start - timedelta(minutes=r["OPENS_BEFORE_MINUTES"]):
        raise Conflict(
            _("Check-in opens %(minutes)d minutes before the session starts.") % {"minutes": r["OPENS_BEFORE_MINUTES"]},
            code=ErrorCode.CHECK_IN_TOO_EARLY,
        )
    if now >= end:
        raise Conflict(
            _("The session has ended: ask the school for a make-up check-in."), code=ErrorCode.CHECK_IN_CLOSED
        )
    timing = (
        CheckIn.Timing.ON_TIME if now <= start + timedelta(minutes=r["ON_TIME_AFTER_MINUTES"]) else CheckIn.Timing.LATE
    )
    school = session.course_class.school
    wlat, wlng = geo.to_wgs84(la, ln, system)
    slat, slng = geo.to_wgs84(float(school.latitude), float(school.longitude), school.coordinate_system)
    distance = geo.distance_m(wlat, wlng, slat, slng)
    outcome = geo.judge(distance, acc, school.checkin_radius_m)
    try:
        with transaction.atomic():
            row = CheckIn.objects.create(
                session=session,
                teacher=teacher,
                at=now,
                latitude=Decimal(f"{wlat:.6f}"),
                longitude=Decimal(f"{wlng:.6f}"),
                crs=system.value,
                accuracy_m=round(acc, 1),
                distance_m=round(distance),
                radius_m=school.checkin_radius_m,
                outcome=outcome,
                timing=timing,
            )
            audit.record(
                actor=actor,
                action=AuditAction.CHECK_IN,
                obj=row,
                object_repr=f"{session.course_class.name} {session.date} #{session.number}",
                after={"outcome": outcome, "timing": timing, "distance_m": row.distance_m},
                now=now,
                school_id=school.pk,
                district_id=school.district_id,
            )
            data = {"kind": "check_in", "session": session.pk, "outcome": outcome, "timing": timing}
            data["at"] = now.isoformat()
            events.broadcast(f"session:{session.pk}", data)
            broadcast_live(school_id=school.pk, data=data)
    except IntegrityError:
        raise Conflict(_("This session is already checked in."), code=ErrorCode.ALREADY_CHECKED_IN) from None
    return row


def record_missed(*, session: ClassSession, now: datetime) -> CheckIn | None:
    """A session that ended without a check-in gets a ``missed`` row (flagged; a make-up may clear it)."""
    from .common import runner_id

    try:
        with transaction.atomic():
            return CheckIn.objects.create(
                session=session,
                teacher_id=runner_id(session),
                outcome=CheckIn.Outcome.MISSED,
                timing=CheckIn.Timing.MISSED,
            )
    except IntegrityError:
        return None


def makeup_request(*, actor: Any, session: ClassSession, reason: str, now: datetime) -> CheckIn:
    """A make-up for a flagged or missed check-in, with a reason; at most ``MAKEUPS_PER_MONTH`` a month each."""
    teacher = require_runner(actor, session)
    reason = (reason or "").strip()
    if not reason:
        raise KehouError(_("Give a reason."), code=ErrorCode.REASON_REQUIRED, fields={"reason": ""})
    _start, end = session_bounds(session)
    with transaction.atomic():
        # One teacher's make-ups are counted one at a time: two requests at once cannot both take the last one.
        TeacherProfile.objects.select_for_update().filter(pk=teacher.pk).first()
        row = CheckIn.objects.select_for_update().filter(session=session).first()
        if row is None:
            if now < end:
                raise Conflict(
                    _("Check in first; a make-up is for a check-in that was flagged or missed."),
                    code=ErrorCode.MAKEUP_NOT_NEEDED,
                )
            row = CheckIn.objects.create(
                session=session, teacher=teacher, outcome=CheckIn.Outcome.MISSED, timing=CheckIn.Timing.MISSED
            )
        if row.makeup or not row.flagged:
            raise Conflict(_("No make-up is needed (or one was already asked)."), code=ErrorCode.MAKEUP_NOT_NEEDED)
        local = timezone.localtime(now)
        month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        used = CheckIn.objects.filter(teacher=teacher, makeup_requested_at__gte=month_start).exclude(makeup="").count()
        quota = rules()["MAKEUPS_PER_MONTH"]
        if used >= quota:
            raise Conflict(
                _("You have used all %(quota)d make-ups of this month.") % {"quota": quota},
                code=ErrorCode.MAKEUP_QUOTA_EXCEEDED,
            )
        row.makeup = CheckIn.Makeup.PENDING
        row.makeup_reason = reason[:200]
        row.makeup_requested_at = now
        row.save(update_fields=["makeup", "makeup_reason", "makeup_requested_at"])
        school = session.course_class.school
        audit.record(
            actor=actor,
            action=AuditAction.CHECK_IN_MAKEUP_REQUEST,
            obj=row,
            object_repr=f"{session.course_class.name} {session.date} #{session.number}",
            after={"reason": row.makeup_reason},
            now=now,
            school_id=school.pk,
            district_id=school.district_id,
        )
    return row


def makeup_decide(*, actor: Any, check_in: CheckIn, approve: bool, note: str = "", now: datetime) -> CheckIn:
    """The school approves or rejects a make-up (a rejection says why)."""
    session = check_in.session
    school = session.course_class.school
    permissions.require_school_admin(
        actor,
        school_id=school.pk,
        district_id=school.district_id,
        message=_("Only the school's administrators decide make-ups."),
    )
    note = (note or "").strip()[:200]
    if not approve and not note:
        raise KehouError(_("Give a reason."), code=ErrorCode.REASON_REQUIRED, fields={"note": ""})
    to = CheckIn.Makeup.APPROVED if approve else CheckIn.Makeup.REJECTED
    with transaction.atomic():
        done = CheckIn.objects.filter(pk=check_in.pk, makeup=CheckIn.Makeup.PENDING).update(
            makeup=to, makeup_decided_by=actor, makeup_decided_at=now, makeup_note=note
        )
        if not done:
            raise Conflict(_("This make-up has already been decided."), code=ErrorCode.MAKEUP_DECIDED)
        audit.record(
            actor=actor,
            action=AuditAction.CHECK_IN_MAKEUP_APPROVED if approve else AuditAction.CHECK_IN_MAKEUP_REJECTED,
            obj=check_in,
            object_repr=f"{session.course_class.name} {session.date} #{session.number}",
            before={"makeup": "pending"},
            after={"makeup": to, "note": note} if note else {"makeup": to},
            now=now,
            school_id=school.pk,
            district_id=school.district_id,
        )
    check_in.refresh_from_db()
    return check_in


def coordinates_purge(*, now: datetime) -> int:
    """Raw coordinates older than the retention period are emptied; the outcome and the distance stay."""
    before = now - timedelta(days=rules()["COORDINATE_RETENTION_DAYS"])
    return CheckIn.objects.filter(Q(latitude__isnull=False) | Q(longitude__isnull=False), at__lt=before).update(
        latitude=None, longitude=None, purged_at=now
    )
