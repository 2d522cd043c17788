"""Selection windows: set by a school per grade, or staggered across a district's schools by the bureau."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from kehou.core import audit
from kehou.core.audit_actions import AuditAction
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import Conflict, KehouError
from kehou.orgs.models import Region, School, Term

from ..models import SelectionWindow
from .common import require_district_admin, require_school_admin

MAX_WINDOW = timedelta(days=30)


def _check(
    *,
    school: School,
    term: Term,
    grade: int,
    opens_at: datetime,
    closes_at: datetime,
    mode: str,
    max_classes: int,
    hold_minutes: int,
    now: datetime,
    exclude_pk: int | None = None,
) -> None:
    if grade not in school.grade_range:
        raise KehouError(_("The school has no such grade."), code=ErrorCode.GRADE_OUT_OF_RANGE, fields={"grade": grade})
    if closes_at <= opens_at:
        raise KehouError(
            _("A window must close after it opens."), code=ErrorCode.WINDOW_DATES, fields={"closes_at": ""}
        )
    if closes_at - opens_at > MAX_WINDOW:
        raise KehouError(_("A window lasts at most 30 days."), code=ErrorCode.WINDOW_TOO_LONG)
    if closes_at <= now:
        raise KehouError(_("The window would close in the past."), code=ErrorCode.WINDOW_IN_PAST)
    if mode not in SelectionWindow.Mode.values:
        raise KehouError(_("Unknown mode."), code=ErrorCode.INVALID_MODE, fields={"mode": mode})
    if not 1 <= max_classes <= 10:
        raise KehouError(_("A child may hold between 1 and 10 classes."), code=ErrorCode.INVALID_MAX_CLASSES)
    if not 1 <= hold_minutes <= 120:
        raise KehouError(_("A hold lasts between 1 and 120 minutes."), code=ErrorCode.INVALID_HOLD_MINUTES)
    overlapping = (
        SelectionWindow.objects.filter(school=school, term=term, grade=grade)
        .exclude(status=SelectionWindow.Status.CANCELLED)
        .filter(opens_at__lt=closes_at, closes_at__gt=opens_at)
    )
    if exclude_pk:
        overlapping = overlapping.exclude(pk=exclude_pk)
    if overlapping.exists():
        raise Conflict(
            _("Another window of this grade overlaps these times."),
            code=ErrorCode.WINDOW_OVERLAP,
            fields={"grade": grade},
        )


def window_create(
    *,
    actor: Any,
    school: School,
    term: Term,
    grade: int,
    opens_at: datetime,
    closes_at: datetime,
    now: datetime,
    mode: str = SelectionWindow.Mode.FIRST_COME,
    max_classes: int = 2,
    hold_minutes: int = 15,
    publish: bool = False,
) -> SelectionWindow:
    require_school_admin(actor, school)
    _check(
        school=school,
        term=term,
        grade=grade,
        opens_at=opens_at,
        closes_at=closes_at,
        mode=mode,
        max_classes=max_classes,
        hold_minutes=hold_minutes,
        now=now,
    )
    with transaction.atomic():
        window = SelectionWindow(
            school=school,
            term=term,
            grade=grade,
            opens_at=opens_at,
            closes_at=closes_at,
            mode=mode,
            max_classes=max_classes,
            hold_minutes=hold_minutes,
            status=SelectionWindow.Status.PUBLISHED if publish else SelectionWindow.Status.DRAFT,
            created_at=now,
            created_by=actor,
        )
        window.full_clean()
        window.save()
        audit.record(
            actor=actor,
            action=AuditAction.WINDOW_CREATE,
            obj=window,
            after=audit.snapshot(window),
            now=now,
            school_id=school.pk,
            district_id=school.district_id,
        )
    return window


def window_update(
    *,
    actor: Any,
    window: SelectionWindow,
    now: datetime,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    mode: str | None = None,
    max_classes: int | None = None,
    hold_minutes: int | None = None,
) -> SelectionWindow:
    """Times and rules may change until the window opens; after that only a later close (an extension)."""
    require_school_admin(actor, window.school)
    if window.status == SelectionWindow.Status.CANCELLED:
        raise Conflict(_("The window is cancelled."), code=ErrorCode.WINDOW_CANCELLED)
    started = window.opens_at <= now and window.status == SelectionWindow.Status.PUBLISHED
    if started and (
        (opens_at and opens_at != window.opens_at)
        or (mode and mode != window.mode)
        or (max_classes and max_classes != window.max_classes)
        or (hold_minutes and hold_minutes != window.hold_minutes)
        or (closes_at and closes_at < window.closes_at)
    ):
        raise Conflict(_("An open window can only be extended."), code=ErrorCode.WINDOW_STARTED)
    if window.drawn_at is not None:
        raise Conflict(_("The lottery has been drawn."), code=ErrorCode.LOTTERY_DRAWN)
    before = audit.snapshot(window)
    values: dict[str, Any] = {
        "opens_at": opens_at or window.opens_at,
        "closes_at": closes_at or window.closes_at,
        "mode": mode or window.mode,
        "max_classes": max_classes or window.max_classes,
        "hold_minutes": hold_minutes or window.hold_minutes,
    }
    _check(school=window.school, term=window.term, grade=window.grade, now=now, exclude_pk=window.pk, **values)
    with transaction.atomic():
        for key, value in values.items():
            setattr(window, key, value)
        window.full_clean()
        window.save(update_fields=list(values))
        audit.record(
            actor=actor,
            action=AuditAction.WINDOW_UPDATE,
            obj=window,
            before=before,
            after=audit.snapshot(window),
            now=now,
            school_id=window.school_id,
            district_id=window.school.district_id,
        )
    return window


def _set_status(*, actor: Any, window: SelectionWindow, to: str, allowed_from: set[str], now: datetime) -> None:
    with transaction.atomic():
        updated = SelectionWindow.objects.filter(pk=window.pk, status__in=allowed_from).update(status=to)
        if not updated:
            raise Conflict(_("The window cannot change to this status now."), code=ErrorCode.WINDOW_STATUS)
        before = window.status
        window.status = to
        audit.record(
            actor=actor,
            action=AuditAction(f"window.{to}"),
            obj=window,
            before={"status": before},
            after={"status": to},
            now=now,
            school_id=window.school_id,
            district_id=window.school.district_id,
        )


def window_publish(*, actor: Any, window: SelectionWindow, now: datetime) -> SelectionWindow:
    require_school_admin(actor, window.school)
    if window.closes_at <= now:
        raise KehouError(_("The window would close in the past."), code=ErrorCode.WINDOW_IN_PAST)
    _set_status(actor=actor, window=window, to="published", allowed_from={"draft"}, now=now)
    return window


def window_cancel(*, actor: Any, window: SelectionWindow, now: datetime) -> SelectionWindow:
    """A window can be called off until it opens (or, once open, while nobody has selected in it)."""
    require_school_admin(actor, window.school)
    if window.opens_at <= now and window.enrolments.exists():
        raise Conflict(_("Parents have already selected in this window."), code=ErrorCode.WINDOW_HAS_SELECTIONS)
    _set_status(actor=actor, window=window, to="cancelled", allowed_from={"draft", "published"}, now=now)
    return window


@dataclass(frozen=True)
class StaggerResult:
    created: int
    skipped: int
    schools: int
    last_opens_at: datetime


def windows_stagger(
    *,
    actor: Any,
    district: Region,
    term: Term,
    first_opens_at: datetime,
    step_minutes: int,
    length_minutes: int,
    now: datetime,
    mode: str = SelectionWindow.Mode.FIRST_COME,
    max_classes: int = 2,
    hold_minutes: int = 15,
) -> StaggerResult:
    """Publish a window for every grade of every joined school of a district, each school opening
    ``step_minutes`` after the one before (schools in code order), so that a district does not open at once.
    A grade that already has a window overlapping its new times is left as it is (counted as skipped)."""
    require_district_admin(actor, district)
    if not 0 <= step_minutes <= 24 * 60:
        raise KehouError(_("The step is between 0 and 1440 minutes."), code=ErrorCode.INVALID_STEP)
    if not 10 <= length_minutes <= 30 * 24 * 60:
        raise KehouError(_("A window lasts between 10 minutes and 30 days."), code=ErrorCode.INVALID_LENGTH)
    if first_opens_at + timedelta(minutes=length_minutes) <= now:
        raise KehouError(_("The window would close in the past."), code=ErrorCode.WINDOW_IN_PAST)
    schools = list(School.objects.filter(district=district, joined_at__isnull=False).order_by("code"))
    created = skipped = 0
    opens_at = first_opens_at
    with transaction.atomic():
        for i, school in enumerate(schools):
            opens_at = first_opens_at + timedelta(minutes=step_minutes * i)
            closes_at = opens_at + timedelta(minutes=length_minutes)
            for grade in school.grade_range:
                clash = (
                    SelectionWindow.objects.filter(school=school, term=term, grade=grade)
                    .exclude(status=SelectionWindow.Status.CANCELLED)
                    .filter(opens_at__lt=closes_at, closes_at__gt=opens_at)
                    .exists()
                )
                if clash:
                    skipped += 1
                    continue
                SelectionWindow.objects.create(
                    school=school,
                    term=term,
                    grade=grade,
                    opens_at=opens_at,
                    closes_at=closes_at,
                    mode=mode,
                    max_classes=max_classes,
                    hold_minutes=hold_minutes,
                    status=SelectionWindow.Status.PUBLISHED,
                    created_at=now,
                    created_by=actor,
                )
                created += 1
        audit.record(
            actor=actor,
            action=AuditAction.WINDOW_STAGGER,
            obj=district,
            after={
                "term": term.pk,
                "first_opens_at": first_opens_at.isoformat(),
                "step_minutes": step_minutes,
                "length_minutes": length_minutes,
                "mode": mode,
                "created": created,
                "skipped": skipped,
            },
            now=now,
            district_id=district.pk,
        )
    return StaggerResult(created=created, skipped=skipped, schools=len(schools), last_opens_at=opens_at)
