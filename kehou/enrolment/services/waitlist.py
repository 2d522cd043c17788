"""Holds that run out and the waitlist that moves up: reminding the guardians shortly before a hold runs out,
expiring holds (a seat being paid for waits its grace) and telling the guardians the seat is gone, promoting the
head of the waitlist into a freed seat (the guardians are told which child holds it until when)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kehou.core import audit
from kehou.core.audit_actions import AuditAction
from kehou.core.errors import Conflict
from kehou.notify.services import notify

from ..hooks import place_payments
from ..models import (
    WAITLIST_ORDER,
    CourseClass,
    Enrolment,
)
from .checks import _check_pupil_load, _guardians

S = Enrolment.Status
HOLD_REMINDER = timedelta(minutes=5)  # the guardians are reminded this long before a hold runs out


def hold_end(at: datetime | None) -> str:
    """When a hold ends, as the notifications say it: local time, the day and the minute ("8月24日 09:15")."""
    if at is None:
        return ""
    local = timezone.localtime(at)
    return _("%(month)s/%(day)s %(time)s") % {"month": local.month, "day": local.day, "time": f"{local:%H:%M}"}


def holds_remind(*, now: datetime, limit: int = 500) -> int:
    """Tell the guardians of each held seat whose hold runs out within :data:`HOLD_REMINDER` that it is about to
    (once per hold: a conditional UPDATE of ``hold_reminded_at``). Returns how many holds were reminded."""
    due = (
        Enrolment.objects.filter(
            status=S.HELD,
            hold_reminded_at__isnull=True,
            hold_expires_at__gt=now,
            hold_expires_at__lte=now + HOLD_REMINDER,
        )
        .order_by("hold_expires_at", "pk")
        .values_list("pk", "pupil_id", "pupil__name", "course_class__name", "hold_expires_at")[:limit]
    )
    reminded = 0
    for pk, pupil_id, child, name, expires in list(due):
        with transaction.atomic():
            if not Enrolment.objects.filter(pk=pk, status=S.HELD, hold_reminded_at__isnull=True).update(
                hold_reminded_at=now
            ):
                continue  # paid, cancelled or reminded meanwhile
            notify(
                user_ids=_guardians([pupil_id]),
                kind="hold_expiring",
                title=_("The seat for %(child)s in “%(name)s” is held only until %(time)s")
                % {"child": child, "name": name, "time": hold_end(expires)},
                body=_("Pay before %(time)s to keep it: then the seat goes to the next child waiting.")
                % {"time": hold_end(expires)},
                link=f"/parent/enrolments/{pk}/",
                now=now,
            )
        reminded += 1
    return reminded


def holds_expire(*, now: datetime, course_class_id: int | None = None, limit: int = 500) -> int:
    """Expire holds past their time: each frees its seat, which goes to the head of the waitlist. A hold whose
    payment is under way (an attempt open at a channel) waits ``PAYMENT_GRACE`` longer for the channel's word: a
    payment the channel says was made within the hold then still confirms the seat."""
    stale = Enrolment.objects.filter(status=S.HELD, hold_expires_at__lte=now).exclude(
        place_payments().being_paid(now=now)
    )
    if course_class_id is not None:
        stale = stale.filter(course_class_id=course_class_id)
    expired = 0
    rows = stale.order_by("hold_expires_at").values_list(
        "pk", "course_class_id", "pupil_id", "pupil__name", "course_class__name", "hold_expires_at"
    )
    for pk, class_id, pupil_id, child, name, expires in list(rows[:limit]):
        with transaction.atomic():
            if not Enrolment.objects.filter(pk=pk, status=S.HELD, hold_expires_at__lte=now).update(
                status=S.EXPIRED, status_changed_at=now, ended_reason="hold expired"
            ):
                continue  # paid or cancelled meanwhile
            CourseClass.objects.filter(pk=class_id).update(taken=F("taken") - 1)
            school_id, district_id = _where(class_id)
            audit.record(
                actor=None,
                action=AuditAction.ENROLMENT_EXPIRE,
                object_type="enrolment.enrolment",
                object_id=pk,
                before={"status": S.HELD},
                after={"status": S.EXPIRED},
                now=now,
                school_id=school_id,
                district_id=district_id,
            )
            notify(
                user_ids=_guardians([pupil_id]),
                kind="hold_expired",
                title=_("The seat held for %(child)s in “%(name)s” has gone") % {"child": child, "name": name},
                body=_("The hold ended at %(time)s without payment, and the seat was freed for others.")
                % {"time": hold_end(expires)},
                link=f"/parent/enrolments/{pk}/",
                now=now,
            )
            promote(course_class_id=class_id, now=now)
            expired += 1
    return expired


def _where(class_id: int) -> tuple[int | None, int | None]:
    row = CourseClass.objects.filter(pk=class_id).values_list("school_id", "school__district_id").first()
    return row if row is not None else (None, None)


def promote(*, course_class_id: int, now: datetime) -> int:
    """Give free seats to the head of the waitlist, one by one: each gets a hold and is notified. A waiter whose
    child meanwhile holds the most classes allowed, or another class at the same time, is passed over (and
    told). Runs inside the caller's transaction."""
    promoted = 0
    while True:
        head = (
            Enrolment.objects.select_for_update()
            .filter(course_class_id=course_class_id, status=S.WAITING)
            .order_by(*WAITLIST_ORDER)
            .select_related("course_class", "window", "pupil")
            .first()
        )
        if head is None:
            return promoted
        if not CourseClass.objects.filter(
            pk=course_class_id, taken__lt=F("capacity"), status=CourseClass.Status.ACTIVE
        ).update(taken=F("taken") + 1):
            return promoted
        try:
            _check_pupil_load(
                pupil_id=head.pupil_id,
                class_id=course_class_id,
                term_id=head.course_class.term_id,
                max_classes=head.window.max_classes,
                exclude_pk=head.pk,
            )
        except Conflict as refusal:
            CourseClass.objects.filter(pk=course_class_id).update(taken=F("taken") - 1)
            Enrolment.objects.filter(pk=head.pk).update(
                status=S.CANCELLED, status_changed_at=now, ended_reason=refusal.code
            )
            notify(
                user_ids=_guardians([head.pupil_id]),
                kind="waitlist_passed_over",
                title=_("A seat in “%(name)s” could not be given") % {"name": head.course_class.name},
                body=str(refusal.message),
                now=now,
            )
            continue
        if head.fee_fen == 0:
            values: dict[str, Any] = {"status": S.CONFIRMED, "confirmed_at": now}
        else:
            values = {"status": S.HELD, "hold_expires_at": now + timedelta(minutes=head.window.hold_minutes)}
        Enrolment.objects.filter(pk=head.pk).update(status_changed_at=now, **values)
        names = {"child": head.pupil.name, "name": head.course_class.name}
        if values["status"] == S.HELD:
            title = _("A seat in “%(name)s” is held for %(child)s") % names
            body = _("Pay before %(time)s to keep it: then the seat goes to the next child waiting.") % {
                "time": hold_end(values["hold_expires_at"])
            }
        else:
            title = _("%(child)s has a seat in “%(name)s”") % names
            body = _("Nothing to pay: the place is confirmed.")
        notify(
            user_ids=_guardians([head.pupil_id]),
            kind="waitlist_promoted",
            title=title,
            body=body,
            link=f"/parent/enrolments/{head.pk}/",
            now=now,
        )
        school_id, district_id = _where(course_class_id)
        audit.record(
            actor=None,
            action=AuditAction.ENROLMENT_PROMOTE,
            object_type="enrolment.enrolment",
            object_id=head.pk,
            before={"status": S.WAITING},
            after={"status": values["status"]},
            now=now,
            school_id=school_id,
            district_id=district_id,
        )
        promoted += 1
