"""Reading the classes stage back: :func:`enrolment_counts` and :func:`enrolment_digest`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from kehou.demo.common import digest


# --- reading back ------------------------------------------------------------------------------------------
def enrolment_counts(base: datetime) -> dict[str, int]:
    from kehou.enrolment.models import (
        CareFeeStandard,
        ClassSession,
        CourseClass,
        Enrolment,
        HardshipWaiver,
        LotteryDraw,
        SelectionWindow,
    )
    from kehou.notify.models import Notification

    counts = {
        "care_fee_standards": CareFeeStandard.objects.count(),
        "schools_with_classes": CourseClass.objects.values("school").distinct().count(),
        "course_classes": CourseClass.objects.filter(kind="course").count(),
        "care_classes": CourseClass.objects.filter(kind="care").count(),
        "class_sessions": ClassSession.objects.count(),
        "classes_full": sum(1 for c in CourseClass.objects.all() if c.taken >= c.capacity),
        "classes_flagged": CourseClass.objects.filter(kind="course").exclude(pk__in=_usable_class_ids()).count(),
        "windows": SelectionWindow.objects.count(),
        "windows_open": SelectionWindow.objects.filter(opens_at__lte=base, closes_at__gt=base).count(),
        "windows_upcoming": SelectionWindow.objects.filter(opens_at__gt=base).count(),
        "windows_lottery": SelectionWindow.objects.filter(mode="lottery").count(),
        "lottery_draws": LotteryDraw.objects.count(),
        "enrolments": Enrolment.objects.count(),
    }
    for status, n in sorted(Counter(Enrolment.objects.values_list("status", flat=True)).items()):
        counts[f"enrolments_{status}"] = n
    counts["pupils_with_places"] = Enrolment.objects.values("pupil").distinct().count()
    counts["enrolments_waived"] = Enrolment.objects.filter(waived=True).count()
    for status, n in sorted(Counter(HardshipWaiver.objects.values_list("status", flat=True)).items()):
        counts[f"waivers_{status}"] = n
    counts["notifications"] = Notification.objects.count()
    return counts


def _usable_class_ids() -> list[int]:
    from kehou.catalog.selectors import usable_q
    from kehou.enrolment.models import CourseClass

    return list(CourseClass.objects.filter(kind="course").filter(usable_q("entry__")).values_list("pk", flat=True))


def enrolment_digest(base: datetime) -> str:
    """A fingerprint of the classes and selection (ids replaced by codes, names and student numbers; times as
    seconds from ``base``), for telling that two loads made the same."""
    from kehou.enrolment.models import (
        CareFeeStandard,
        ClassSlot,
        CourseClass,
        Enrolment,
        HardshipWaiver,
        LotteryDraw,
        SelectionWindow,
    )
    from kehou.people.models import Pupil

    def rel(at: datetime | None) -> str:
        return "" if at is None else str(int((at - base).total_seconds()))

    number = dict(Pupil.objects.filter(enrolments__isnull=False).values_list("pk", "student_number").distinct())
    number.update(Pupil.objects.filter(hardship_waivers__isnull=False).values_list("pk", "student_number"))
    classes = {
        c.pk: f"{c.school.code}/{c.name}/{c.grade_min}-{c.grade_max}"
        for c in CourseClass.objects.select_related("school")
    }
    windows = {w.pk: f"{w.school.code}/{w.grade}" for w in SelectionWindow.objects.select_related("school")}
    draws = list(LotteryDraw.objects.all())
    for d in draws:
        number.update(Pupil.objects.filter(pk__in=d.applicants).values_list("pk", "student_number"))
    sections: dict[str, Iterable[Any]] = {
        "care": CareFeeStandard.objects.values_list("region__code", "max_per_day_fen", "max_per_month_fen"),
        "classes": [
            (
                classes[c.pk],
                c.kind,
                c.entry.item.name if c.entry else "",
                c.teacher.user.username,
                c.room,
                c.capacity,
                c.taken,
                c.pricing,
                c.unit_price_fen,
                c.session_count,
                c.fee_fen,
                c.materials_name,
                c.materials_fee_fen,
            )
            for c in CourseClass.objects.select_related("entry__item", "teacher__user")
        ],
        "slots": [
            (classes[s.course_class_id], s.weekday, s.starts_at.isoformat(), s.ends_at.isoformat())
            for s in ClassSlot.objects.all()
        ],
        "windows": [
            (windows[w.pk], w.mode, w.status, w.max_classes, w.hold_minutes, rel(w.opens_at), rel(w.closes_at))
            for w in SelectionWindow.objects.all()
        ],
        "enrolments": [
            (
                classes[e.course_class_id],
                number[e.pupil_id],
                windows[e.window_id],
                e.status,
                e.fee_fen,
                e.waived,
                e.wait_rank or "",
                rel(e.created_at),
                rel(e.status_changed_at),
                rel(e.hold_expires_at),
                rel(e.confirmed_at),
                e.ended_reason,
            )
            for e in Enrolment.objects.all()
        ],
        "draws": [
            (
                classes[d.course_class_id],
                windows[d.window_id],
                d.seed,
                d.seats,
                ",".join(number[p] for p in d.applicants),
                ",".join(number[p] for p in d.order),
            )
            for d in draws
        ],
        "waivers": [
            (number[w.pupil_id], w.status, w.requested_by.username, w.decided_by.username if w.decided_by else "")
            for w in HardshipWaiver.objects.select_related("requested_by", "decided_by")
        ],
    }
    return digest(sections)
