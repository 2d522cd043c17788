"""Builders for the selection tests: a term with a calendar, usable school-library courses, classes, windows.

The library rows are written directly (the review path is tested in catalog/tests); classes and windows go
through the services, so every test exercises their checks.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from kehou.catalog.models import CatalogItem, Category, FeeStandard, LibraryEntry, Submission, SubmissionVersion
from kehou.orgs.models import CalendarDay, Region, School, Term
from kehou.people.models import Pupil, Role, TeacherProfile, User
from kehou.testing import factories as f

from ..models import CareFeeStandard, CourseClass, SelectionWindow
from ..services.classes import Slot, class_create
from ..services.windows import window_create

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Monday in the autumn term, 09:00 Beijing time: the "now" of most selection tests.
NOW = datetime(2026, 8, 24, 9, 0, tzinfo=SHANGHAI)
_keys = itertools.count(1)


def key() -> str:
    return f"test-key-{next(_keys):06d}"


def autumn_term() -> Term:
    """2026-09-01 … 2027-01-22 with National Day week off (Oct 1–7) and two make-up Saturdays."""
    term = Term.objects.get_or_create(
        name="2026-2027学年第一学期", defaults={"starts_on": date(2026, 9, 1), "ends_on": date(2027, 1, 22)}
    )[0]
    for d in range(1, 8):
        CalendarDay.objects.get_or_create(
            term=term, school=None, date=date(2026, 10, d), defaults={"kind": "holiday", "note": "国庆节"}
        )
    for day, follows in ((date(2026, 9, 26), 3), (date(2026, 10, 10), 4)):  # Sat → Thu, Sat → Fri timetables
        CalendarDay.objects.get_or_create(
            term=term, school=None, date=day, defaults={"kind": "makeup", "follows_weekday": follows, "note": "调休"}
        )
    return term


def city_region() -> Region:
    return Region.objects.get_or_create(code="360100", defaults={"name": "南昌市", "kind": "city"})[0]


def category(code: str = "keji", name: str = "科技") -> Category:
    cat = Category.objects.filter(name=name).first() or Category.objects.create(code=code, name=name)
    FeeStandard.objects.get_or_create(
        region=city_region(),
        category=cat,
        defaults={"min_fee_fen": 1000, "max_fee_fen": 5000, "teacher_pay_fen": 6000, "set_at": timezone.now()},
    )
    return cat


def care_standard() -> CareFeeStandard:
    return CareFeeStandard.objects.get_or_create(
        region=city_region(), defaults={"max_per_day_fen": 2000, "max_per_month_fen": 30000, "set_at": timezone.now()}
    )[0]


def school_entry(
    school: School, *, name: str = "机器人编程", kind: str = "course", teacher: Any = None, provider: bool = True
) -> LibraryEntry:
    """A usable entry of the school's library (district entry → school entry), written directly."""
    cat = category()
    submitter = User.objects.filter(is_superuser=True).first() or f.UserFactory(is_superuser=True)
    n = Submission.objects.count() + 1
    sub = Submission.objects.create(
        kind=kind,
        library_region=school.district,
        submitter_school=school,
        submitter_user=submitter,
        title=f"{name}{n}",
        category=cat,
        status="admitted",
        created_at=NOW,
        updated_at=NOW,
    )
    version = SubmissionVersion.objects.create(
        submission=sub, number=1, created_at=NOW, created_by=submitter, name=name, teacher=teacher
    )
    item = CatalogItem.objects.create(
        kind=kind,
        submission=sub,
        version=version,
        name=name,
        category=cat,
        provider_school=school if provider else None,
        teacher=teacher,
        admitted_at=NOW,
    )
    district_entry = LibraryEntry.objects.create(
        item=item, level="district", region=school.district, source="admitted", added_at=NOW, status_changed_at=NOW
    )
    return LibraryEntry.objects.create(
        item=item,
        level="school",
        school=school,
        upstream=district_entry,
        source="picked",
        added_at=NOW,
        status_changed_at=NOW,
    )


def school_admin(school: School) -> User:
    user = f.UserFactory()
    f.grant(user, Role.SCHOOL_ADMIN, school=school)
    return user


def staff_teacher(school: School) -> TeacherProfile:
    return f.teacher_at(school).teacher_profile


MON_1600 = Slot(0, time(16, 0), time(17, 0))
WED_1600 = Slot(2, time(16, 0), time(17, 0))
MON_1630 = Slot(0, time(16, 30), time(17, 30))
TUE_1600 = Slot(1, time(16, 0), time(17, 0))


def make_class(
    school: School,
    *,
    admin: User | None = None,
    capacity: int = 30,
    slots: list[Slot] | None = None,
    price: int = 3000,
    grades: tuple[int, int] = (1, 6),
    name: str = "机器人编程",
    teacher: TeacherProfile | None = None,
    entry: LibraryEntry | None = None,
    **extra: Any,
) -> CourseClass:
    return class_create(
        actor=admin or school_admin(school),
        school=school,
        term=autumn_term(),
        entry=entry or school_entry(school, name=name),
        teacher=teacher or staff_teacher(school),
        room="科技楼201",
        capacity=capacity,
        grade_min=grades[0],
        grade_max=grades[1],
        unit_price_fen=price,
        slots=slots if slots is not None else [MON_1600],
        now=NOW,
        **extra,
    )


def open_window(
    school: School,
    grade: int,
    *,
    admin: User | None = None,
    mode: str = "first_come",
    opens_at: datetime | None = None,
    hours: int = 48,
    max_classes: int = 2,
    hold_minutes: int = 15,
) -> SelectionWindow:
    """A published window for one grade, open at NOW unless told otherwise."""
    opens = opens_at or NOW - timedelta(hours=1)
    return window_create(
        actor=admin or school_admin(school),
        school=school,
        term=autumn_term(),
        grade=grade,
        opens_at=opens,
        closes_at=opens + timedelta(hours=hours),
        mode=mode,
        max_classes=max_classes,
        hold_minutes=hold_minutes,
        publish=True,
        now=opens - timedelta(minutes=1),
    )


def family(school: School, grade: int = 3, children: int = 1) -> tuple[User, list[Pupil]]:
    """A parent with children in one grade of a school."""
    kids = [f.PupilFactory(school=school, grade=grade) for _ in range(children)]
    parent = f.guardian_of(kids[0])
    for kid in kids[1:]:
        f.guardian_of(kid, parent)
    return parent, kids


def walker_rows(city: Any) -> None:
    """For the URL walker: in each of schools A1, A2 and B1 a class, a published window open at the real
    clock's now, a hold of the school's pupil, an approved waiver and a lottery draw; a notification for each
    pupil's guardian."""
    from kehou.notify.models import Notification

    from ..models import Enrolment, HardshipWaiver, LotteryDraw

    now = timezone.now()
    for school, pupil in ((city.a1, city.pupil_a1), (city.a2, city.pupil_a2), (city.b1, city.pupil_b1)):
        admin = school_admin(school)
        course_class = make_class(
            school,
            admin=admin,
            grades=(pupil.grade, pupil.grade),
            name="围棋",
            entry=school_entry(school, name="围棋", provider=False),
        )
        window = window_create(
            actor=admin,
            school=school,
            term=autumn_term(),
            grade=pupil.grade,
            opens_at=now - timedelta(hours=1),
            closes_at=now + timedelta(days=2),
            publish=True,
            now=now - timedelta(hours=2),
        )
        guardian = pupil.guardians.first()
        requester = guardian.user if guardian else admin
        Enrolment.objects.create(
            course_class=course_class,
            pupil=pupil,
            window=window,
            status="held",
            fee_fen=course_class.fee_fen,
            hold_expires_at=now + timedelta(minutes=15),
            request_key=f"walker-{school.code}",
            requested_by=requester,
            created_at=now,
            status_changed_at=now,
        )
        CourseClass.objects.filter(pk=course_class.pk).update(taken=1)
        HardshipWaiver.objects.create(
            pupil=pupil,
            term=autumn_term(),
            reason="walker",
            status="approved",
            requested_by=admin,
            requested_at=now,
            decided_by=school_admin(school),
            decided_at=now,
        )
        LotteryDraw.objects.create(
            window=window,
            course_class=course_class,
            seed="walker",
            seats=1,
            applicants=[pupil.pk],
            order=[pupil.pk],
            drawn_at=now,
        )
        if guardian:
            Notification.objects.create(user=guardian.user, kind="walker", title="walker", created_at=now)
