"""Course classes and basic care: creation from the school library, sessions from the term calendar, changes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from kehou.catalog.models import LibraryEntry
from kehou.catalog.selectors import usable_q
from kehou.catalog.services.submissions import check_fee
from kehou.core import audit
from kehou.core.audit_actions import AuditAction
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import Conflict, KehouError, NotFound
from kehou.orgs.models import Region, School, Term
from kehou.orgs.selectors import teaching_days
from kehou.people.models import TeacherProfile

from ..hooks import place_payments
from ..models import LIVE_STATUSES, CareFeeStandard, ClassSession, ClassSlot, CourseClass, Enrolment
from .common import require_district_admin, require_school_admin


@dataclass(frozen=True)
class Slot:
    weekday: int  # 0 = Monday … 4 = Friday
    starts_at: time
    ends_at: time

    def minutes(self) -> int:
        return (self.ends_at.hour * 60 + self.ends_at.minute) - (self.starts_at.hour * 60 + self.starts_at.minute)


MIN_SLOT_MINUTES = 20
MAX_SLOT_MINUTES = 240
MAX_SLOTS = 5


def check_slots(slots: Sequence[Slot]) -> list[Slot]:
    if not slots:
        raise KehouError(
            _("A class needs at least one weekly time slot."), code=ErrorCode.NO_SLOTS, fields={"slots": []}
        )
    if len(slots) > MAX_SLOTS:
        raise KehouError(
            _("A class has at most %(n)s weekly time slots.") % {"n": MAX_SLOTS}, code=ErrorCode.TOO_MANY_SLOTS
        )
    ordered = sorted(slots, key=lambda s: (s.weekday, s.starts_at))
    for i, s in enumerate(ordered):
        if not 0 <= s.weekday <= 4:
            raise KehouError(_("Classes are held Monday to Friday."), code=ErrorCode.SLOT_WEEKDAY, fields={"slot": i})
        if not MIN_SLOT_MINUTES <= s.minutes() <= MAX_SLOT_MINUTES:
            raise KehouError(
                _("A time slot lasts between %(low)s and %(high)s minutes.")
                % {"low": MIN_SLOT_MINUTES, "high": MAX_SLOT_MINUTES},
                code=ErrorCode.SLOT_LENGTH,
                fields={"slot": i},
            )
        if i and ordered[i - 1].weekday == s.weekday and ordered[i - 1].ends_at > s.starts_at:
            raise KehouError(_("Two time slots of the class overlap."), code=ErrorCode.SLOT_OVERLAP, fields={"slot": i})
    return ordered


def session_dates(*, term: Term, school: School, slots: Sequence[Slot], first_date: date | None) -> list[tuple]:
    """(date, starts_at, ends_at) of every session: each teaching day of the term (holidays skipped, make-up
    days following their weekday's timetable) that has a slot, from ``first_date`` on."""
    by_weekday: dict[int, list[Slot]] = {}
    for s in slots:
        by_weekday.setdefault(s.weekday, []).append(s)
    result = []
    for day, weekday in teaching_days(term=term, school=school):
        if first_date and day < first_date:
            continue
        for s in by_weekday.get(weekday, []):
            result.append((day, s.starts_at, s.ends_at))
    return result


def care_standard_for(region: Region) -> CareFeeStandard | None:
    standard = CareFeeStandard.objects.filter(region=region).first()
    if standard is None and not region.is_city:
        standard = CareFeeStandard.objects.filter(region__kind=Region.Kind.CITY).first()
    return standard


def fee_for(pricing: str, unit_price_fen: int, dates: Sequence[tuple]) -> int:
    """The whole course fee: price × class hours, × days, or × calendar months with sessions."""
    if pricing == CourseClass.Pricing.PER_HOUR:
        return unit_price_fen * len(dates)
    if pricing == CourseClass.Pricing.PER_DAY:
        return unit_price_fen * len({d for d, _s, _e in dates})
    return unit_price_fen * len({(d.year, d.month) for d, _s, _e in dates})


def _check_teacher(
    teacher: TeacherProfile, school: School, entry: LibraryEntry | None, term: Term, slots: Sequence[Slot]
) -> None:
    if not teacher.schools.filter(pk=school.pk).exists():
        raise KehouError(
            _("The teacher does not teach at this school."),
            code=ErrorCode.TEACHER_NOT_AT_SCHOOL,
            fields={"teacher": teacher.pk},
        )
    if teacher.kind == TeacherProfile.Kind.OUTSIDE:
        admitted = (
            LibraryEntry.objects.filter(level="school", school=school, item__kind="teacher", item__teacher=teacher)
            .filter(usable_q())
            .exists()
        )
        if not admitted:
            raise KehouError(
                _("An outside teacher must be in the school's teacher library."),
                code=ErrorCode.TEACHER_NOT_IN_LIBRARY,
                fields={"teacher": teacher.pk},
            )
    clash = Q(pk__in=[])
    for s in slots:
        clash |= Q(weekday=s.weekday, starts_at__lt=s.ends_at, ends_at__gt=s.starts_at)
    busy = (
        ClassSlot.objects.filter(clash)
        .filter(course_class__teacher=teacher, course_class__term=term, course_class__status="active")
        .select_related("course_class")
        .first()
    )
    if busy is not None:
        raise Conflict(
            _("The teacher already teaches “%(name)s” at that time.") % {"name": busy.course_class.name},
            code=ErrorCode.TEACHER_CLASH,
            fields={"class": busy.course_class_id},
        )


def class_create(
    *,
    actor: Any,
    school: School,
    term: Term,
    teacher: TeacherProfile,
    room: str,
    capacity: int,
    grade_min: int,
    grade_max: int,
    unit_price_fen: int,
    slots: Sequence[Slot],
    now: datetime,
    entry: LibraryEntry | None = None,
    kind: str = CourseClass.Kind.COURSE,
    pricing: str | None = None,
    name: str = "",
    introduction: str = "",
    materials_name: str = "",
    materials_fee_fen: int = 0,
    first_date: date | None = None,
) -> CourseClass:
    require_school_admin(actor, school)
    ordered = check_slots(slots)
    if grade_min > grade_max or grade_min not in school.grade_range or grade_max not in school.grade_range:
        raise KehouError(
            _("The grades must lie within the school's grades."),
            code=ErrorCode.GRADES_OUT_OF_RANGE,
            fields={"grade_min": grade_min, "grade_max": grade_max},
        )
    if kind == CourseClass.Kind.COURSE:
        pricing = CourseClass.Pricing.PER_HOUR
        if entry is None or entry.level != "school" or entry.school_id != school.pk:
            raise NotFound(_("The course is not in this school's library."), code=ErrorCode.ENTRY_NOT_FOUND)
        if entry.item.kind != "course":
            raise KehouError(_("Choose a course, not a teacher entry."), code=ErrorCode.ENTRY_NOT_COURSE)
        if not LibraryEntry.objects.filter(pk=entry.pk).filter(usable_q()).exists():
            raise Conflict(_("This library entry is suspended or withdrawn."), code=ErrorCode.ENTRY_NOT_USABLE)
        check_fee(school.district, entry.item.category, unit_price_fen)
        name = name.strip() or entry.item.name
    elif kind == CourseClass.Kind.CARE:
        entry = None
        if pricing not in (CourseClass.Pricing.PER_DAY, CourseClass.Pricing.PER_MONTH):
            raise KehouError(_("Care is priced per day or per month."), code=ErrorCode.CARE_PRICING)
        standard = care_standard_for(school.district)
        if standard is None:
            raise KehouError(_("No fee standard is set for basic care."), code=ErrorCode.NO_CARE_STANDARD)
        ceiling = standard.max_per_day_fen if pricing == CourseClass.Pricing.PER_DAY else standard.max_per_month_fen
        if unit_price_fen > ceiling:
            raise KehouError(
                _("The price is above the care fee standard (%(max)s fen).") % {"max": ceiling},
                code=ErrorCode.FEE_OUT_OF_STANDARD,
                fields={"unit_price_fen": unit_price_fen, "max_fee_fen": ceiling},
            )
        name = name.strip() or _("Basic after-school care")
    else:
        raise KehouError(_("Unknown kind of class."), code=ErrorCode.INVALID_KIND, fields={"kind": kind})
    if materials_fee_fen and not materials_name.strip():
        raise KehouError(_("Name the materials the fee is for."), code=ErrorCode.MATERIALS_UNNAMED)
    if first_date is not None and not term.starts_on <= first_date <= term.ends_on:
        raise KehouError(_("The first day must lie within the term."), code=ErrorCode.FIRST_DATE_OUT_OF_TERM)
    _check_teacher(teacher, school, entry, term, ordered)
    dates = session_dates(term=term, school=school, slots=ordered, first_date=first_date)
    if not dates:
        raise KehouError(_("No teaching day of the term falls on these slots."), code=ErrorCode.NO_SESSIONS)
    with transaction.atomic():
        course_class = CourseClass(
            school=school,
            term=term,
            kind=kind,
            entry=entry,
            name=name[:80],
            introduction=introduction,
            teacher=teacher,
            room=room.strip(),
            capacity=capacity,
            grade_min=grade_min,
            grade_max=grade_max,
            pricing=pricing,
            unit_price_fen=unit_price_fen,
            session_count=len(dates),
            fee_fen=fee_for(pricing, unit_price_fen, dates),
            materials_name=materials_name.strip(),
            materials_fee_fen=materials_fee_fen,
            created_at=now,
            created_by=actor,
        )
        course_class.full_clean()
        course_class.save()
        ClassSlot.objects.bulk_create(
            ClassSlot(course_class=course_class, weekday=s.weekday, starts_at=s.starts_at, ends_at=s.ends_at)
            for s in ordered
        )
        ClassSession.objects.bulk_create(
            ClassSession(course_class=course_class, number=i, date=d, starts_at=start, ends_at=end)
            for i, (d, start, end) in enumerate(dates, start=1)
        )
        audit.record(
            actor=actor,
            action=AuditAction.CLASS_CREATE,
            obj=course_class,
            after=audit.snapshot(course_class),
            now=now,
            school_id=school.pk,
            district_id=school.district_id,
        )
    return course_class


def class_update(
    *,
    actor: Any,
    course_class: CourseClass,
    now: datetime,
    capacity: int | None = None,
    room: str | None = None,
    introduction: str | None = None,
) -> CourseClass:
    """Change what may change once parents can see the class. Capacity never drops below the seats taken (the
    check is in the UPDATE itself); a larger capacity gives the new seats to the waitlist."""
    from .waitlist import promote

    require_school_admin(actor, course_class.school)
    if course_class.status != CourseClass.Status.ACTIVE:
        raise Conflict(_("The class is cancelled."), code=ErrorCode.CLASS_CANCELLED)
    before = audit.snapshot(course_class, ["capacity", "room", "introduction"])
    with transaction.atomic():
        changes: dict[str, Any] = {}
        if room is not None:
            changes["room"] = room.strip()[:40]
        if introduction is not None:
            changes["introduction"] = introduction[:2000]
        if capacity is not None:
            if not 1 <= capacity <= 500:
                raise KehouError(_("The capacity must be between 1 and 500."), code=ErrorCode.INVALID_CAPACITY)
            changes["capacity"] = capacity
            updated = CourseClass.objects.filter(pk=course_class.pk, taken__lte=capacity).update(**changes)
            if not updated:
                course_class.refresh_from_db()
                raise Conflict(
                    _("%(n)s seats are already taken; the capacity cannot be lower.") % {"n": course_class.taken},
                    code=ErrorCode.CAPACITY_BELOW_TAKEN,
                    fields={"taken": course_class.taken},
                )
        elif changes:
            CourseClass.objects.filter(pk=course_class.pk).update(**changes)
        course_class.refresh_from_db()
        audit.record(
            actor=actor,
            action=AuditAction.CLASS_UPDATE,
            obj=course_class,
            before=before,
            after=audit.snapshot(course_class, ["capacity", "room", "introduction"]),
            now=now,
            school_id=course_class.school_id,
            district_id=course_class.school.district_id,
        )
        promote(course_class_id=course_class.pk, now=now)
    course_class.refresh_from_db()
    return course_class


def class_cancel(*, actor: Any, course_class: CourseClass, reason: str, now: datetime) -> int:
    """Cancel a class: every live enrolment ends and every seat is freed. Returns how many enrolments ended."""
    from kehou.notify.services import notify

    require_school_admin(actor, course_class.school)
    if not reason.strip():
        raise KehouError(_("Give a reason."), code=ErrorCode.REASON_REQUIRED, fields={"reason": ""})
    with transaction.atomic():
        updated = CourseClass.objects.filter(pk=course_class.pk, status=CourseClass.Status.ACTIVE).update(
            status=CourseClass.Status.CANCELLED
        )
        if not updated:
            raise Conflict(_("The class is already cancelled."), code=ErrorCode.CLASS_CANCELLED)
        live = Enrolment.objects.filter(course_class=course_class, status__in=LIVE_STATUSES)
        pupils = list(live.values_list("pupil_id", flat=True))
        payments = place_payments()
        # Seats being paid for can no longer be paid; paid seats are refunded below, once this is committed.
        payments.close_unpaid(
            enrolment_ids=list(live.filter(status=Enrolment.Status.HELD).values_list("pk", flat=True)), now=now
        )
        confirmed = list(live.filter(status=Enrolment.Status.CONFIRMED).values_list("pk", flat=True))
        ended = live.update(status=Enrolment.Status.CANCELLED, status_changed_at=now, ended_reason=reason[:120])
        CourseClass.objects.filter(pk=course_class.pk).update(taken=0)
        from kehou.people.models import Guardian

        guardians = list(Guardian.objects.filter(pupil_id__in=pupils).values_list("user_id", flat=True))
        notify(
            user_ids=guardians,
            kind="class_cancelled",
            title=_("“%(name)s” is cancelled") % {"name": course_class.name},
            body=reason[:500],
            now=now,
        )
        audit.record(
            actor=actor,
            action=AuditAction.CLASS_CANCEL,
            obj=course_class,
            after={"reason": reason, "enrolments_ended": ended},
            now=now,
            school_id=course_class.school_id,
            district_id=course_class.school.district_id,
        )
    # Each paid seat is refunded for the sessions not yet held, through the channel it was paid with (its own
    # transaction and, where the policy asks, the school's approval, like a parent's cancellation).
    payments.refund_class_cancelled(actor=actor, enrolment_ids=confirmed, reason=reason, now=now)
    course_class.refresh_from_db()
    return ended


def care_standard_set(
    *, actor: Any, region: Region, max_per_day_fen: int, max_per_month_fen: int, now: datetime
) -> CareFeeStandard:
    """The city sets the care ceiling; a district may set its own, only stricter than the city's."""
    from kehou.catalog.services.common import require_region_admin

    if region.is_city:
        require_region_admin(actor, region)
    else:
        require_district_admin(actor, region)
        city = CareFeeStandard.objects.filter(region__kind=Region.Kind.CITY).first()
        if city and (max_per_day_fen > city.max_per_day_fen or max_per_month_fen > city.max_per_month_fen):
            raise KehouError(
                _("A district's standard may only be stricter than the city's."),
                code=ErrorCode.STANDARD_LOOSER_THAN_CITY,
                fields={"city_max_per_day_fen": city.max_per_day_fen, "city_max_per_month_fen": city.max_per_month_fen},
            )
    if max_per_day_fen <= 0 or max_per_month_fen <= 0:
        raise KehouError(_("Amounts must be positive."), code=ErrorCode.INVALID_AMOUNT)
    with transaction.atomic():
        standard, _created = CareFeeStandard.objects.update_or_create(
            region=region,
            defaults={"max_per_day_fen": max_per_day_fen, "max_per_month_fen": max_per_month_fen, "set_at": now},
        )
        audit.record(
            actor=actor,
            action=AuditAction.CARE_STANDARD_SET,
            obj=standard,
            after=audit.snapshot(standard),
            now=now,
            district_id=None if region.is_city else region.pk,
        )
    return standard
