"""Course classes and basic care: sessions from the term calendar, fees, the library and the teachers."""

from __future__ import annotations

from datetime import date, time

import pytest

from kehou.catalog.models import LibraryEntry
from kehou.core.errors import Conflict, Forbidden, KehouError, NotFound
from kehou.core.models import AuditEntry
from kehou.enrolment.models import ClassSession, CourseClass, Enrolment
from kehou.enrolment.services.classes import Slot, care_standard_set, class_cancel, class_create, class_update
from kehou.enrolment.services.selection import enrolment_select
from kehou.notify.models import Notification
from kehou.orgs.models import CalendarDay
from kehou.people.models import Role
from kehou.testing import factories as f

from .factories import (
    MON_1600,
    NOW,
    TUE_1600,
    autumn_term,
    care_standard,
    city_region,
    family,
    key,
    make_class,
    open_window,
    school_admin,
    school_entry,
    staff_teacher,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def school():
    return f.SchoolFactory()


def test_sessions_follow_the_calendar_holidays_skipped_and_make_up_days_added(school):
    # Thursday slot: Oct 1 (Thu) is a holiday; Saturday Sep 26 follows Thursday's timetable (make-up day)
    thursday = Slot(3, time(16, 0), time(17, 0))
    course_class = make_class(school, slots=[thursday], price=2000)
    dates = list(ClassSession.objects.filter(course_class=course_class).values_list("date", flat=True))

    assert date(2026, 9, 26) in dates  # make-up Saturday
    assert date(2026, 10, 1) not in dates  # National Day
    assert date(2026, 9, 3) == dates[0]  # first Thursday of term
    thursdays = sum(
        1
        for d in (date.fromordinal(o) for o in range(date(2026, 9, 1).toordinal(), date(2027, 1, 23).toordinal()))
        if d.weekday() == 3 and not (date(2026, 10, 1) <= d <= date(2026, 10, 7))
    )
    assert course_class.session_count == len(dates) == thursdays + 1
    assert course_class.fee_fen == 2000 * course_class.session_count
    assert [s.number for s in course_class.sessions.all()] == list(range(1, len(dates) + 1))


def test_a_schools_own_holiday_removes_its_sessions_only(school):
    other = f.SchoolFactory()
    CalendarDay.objects.create(term=autumn_term(), school=school, date=date(2026, 9, 7), kind="holiday", note="运动会")
    mine = make_class(school, slots=[MON_1600])
    theirs = make_class(other, slots=[MON_1600])
    assert not mine.sessions.filter(date=date(2026, 9, 7)).exists()
    assert theirs.sessions.filter(date=date(2026, 9, 7)).exists()
    assert theirs.session_count == mine.session_count + 1


def test_first_date_starts_the_sessions_later(school):
    late = make_class(school, first_date=date(2026, 9, 14))
    assert late.sessions.order_by("number").first().date == date(2026, 9, 14)


def test_price_outside_the_fee_standard_is_refused_and_nothing_written(school):
    admin = school_admin(school)
    entry = school_entry(school)
    teacher = staff_teacher(school)
    before = (CourseClass.objects.count(), ClassSession.objects.count(), AuditEntry.objects.count())
    with pytest.raises(KehouError) as err:
        make_class(school, admin=admin, entry=entry, teacher=teacher, price=9000)
    assert err.value.code == "fee_out_of_standard"
    assert (CourseClass.objects.count(), ClassSession.objects.count(), AuditEntry.objects.count()) == before


def test_a_suspended_or_foreign_entry_cannot_become_a_class(school):
    entry = school_entry(school)
    LibraryEntry.objects.filter(pk=entry.upstream_id).update(status="suspended")
    with pytest.raises(Conflict) as err:
        make_class(school, entry=entry)
    assert err.value.code == "entry_not_usable"
    with pytest.raises(NotFound):
        make_class(school, entry=school_entry(f.SchoolFactory()))


def test_the_teacher_must_teach_at_the_school_and_outside_teachers_be_in_the_library(school):
    stranger = staff_teacher(f.SchoolFactory())
    with pytest.raises(KehouError) as err:
        make_class(school, teacher=stranger)
    assert err.value.code == "teacher_not_at_school"
    outside = f.teacher_at(school, kind="outside").teacher_profile
    with pytest.raises(KehouError) as err:
        make_class(school, teacher=outside)
    assert err.value.code == "teacher_not_in_library"
    school_entry(school, name="外聘教师", kind="teacher", teacher=outside)
    assert make_class(school, teacher=outside).teacher == outside


def test_a_teacher_cannot_teach_two_classes_at_once(school):
    teacher = staff_teacher(school)
    first = make_class(school, teacher=teacher, slots=[MON_1600])
    with pytest.raises(Conflict) as err:
        make_class(school, teacher=teacher, slots=[Slot(0, time(16, 30), time(17, 30))])
    assert err.value.code == "teacher_clash" and err.value.fields == {"class": first.pk}
    assert make_class(school, teacher=teacher, slots=[TUE_1600]).teacher == teacher


@pytest.mark.parametrize(
    ("slots", "code"),
    [
        ([], "no_slots"),
        ([Slot(5, time(9), time(10))], "slot_weekday"),
        ([Slot(0, time(16), time(16, 10))], "slot_length"),
        ([Slot(0, time(16), time(17)), Slot(0, time(16, 30), time(17, 30))], "slot_overlap"),
    ],
)
def test_bad_slots_are_refused(school, slots, code):
    with pytest.raises(KehouError) as err:
        make_class(school, slots=slots)
    assert err.value.code == code
    assert CourseClass.objects.count() == 0


def test_grades_must_be_the_schools(school):
    with pytest.raises(KehouError) as err:
        make_class(school, grades=(5, 8))
    assert err.value.code == "grades_out_of_range"


def test_only_the_schools_admin_creates_classes(school):
    district_admin = f.UserFactory()
    f.grant(district_admin, Role.DISTRICT_ADMIN, district=school.district)
    with pytest.raises(Forbidden):
        make_class(school, admin=district_admin)
    with pytest.raises(NotFound):
        make_class(school, admin=school_admin(f.SchoolFactory()))
    assert CourseClass.objects.count() == 0


def test_basic_care_is_priced_per_day_or_month_within_its_standard(school):
    care_standard()
    admin = school_admin(school)
    common = dict(
        actor=admin,
        school=school,
        term=autumn_term(),
        teacher=staff_teacher(school),
        room="一年级教室",
        capacity=40,
        grade_min=1,
        grade_max=2,
        slots=[Slot(d, time(16, 0), time(17, 30)) for d in range(5)],
        now=NOW,
        kind="care",
    )
    per_day = class_create(pricing="day", unit_price_fen=1500, **common)
    teaching_dates = set(per_day.sessions.values_list("date", flat=True))
    assert per_day.entry is None and per_day.fee_fen == 1500 * len(teaching_dates)
    common["teacher"] = staff_teacher(school)
    per_month = class_create(pricing="month", unit_price_fen=30000, **common)
    assert per_month.fee_fen == 30000 * 5  # September to January
    common["teacher"] = staff_teacher(school)
    with pytest.raises(KehouError) as err:
        class_create(pricing="day", unit_price_fen=2500, **common)
    assert err.value.code == "fee_out_of_standard"


def test_a_district_care_standard_may_only_be_stricter():
    care_standard()
    district = f.RegionFactory()
    admin = f.UserFactory()
    f.grant(admin, Role.DISTRICT_ADMIN, district=district)
    with pytest.raises(KehouError) as err:
        care_standard_set(actor=admin, region=district, max_per_day_fen=2500, max_per_month_fen=30000, now=NOW)
    assert err.value.code == "standard_looser_than_city"
    stricter = care_standard_set(actor=admin, region=district, max_per_day_fen=1500, max_per_month_fen=25000, now=NOW)
    assert stricter.region == district
    with pytest.raises(NotFound):
        care_standard_set(actor=admin, region=f.RegionFactory(), max_per_day_fen=1, max_per_month_fen=1, now=NOW)
    assert city_region().care_fee_standard.max_per_day_fen == 2000


def test_capacity_never_drops_below_seats_taken_and_growth_serves_the_waitlist(school):
    admin = school_admin(school)
    course_class = make_class(school, admin=admin, capacity=2)
    open_window(school, 3)
    for p, [k] in (family(school), family(school)):
        enrolment_select(actor=p, pupil_id=k.pk, class_id=course_class.pk, request_key=key(), now=NOW)
    p3, [k3] = family(school)
    waiting = enrolment_select(
        actor=p3, pupil_id=k3.pk, class_id=course_class.pk, request_key=key(), now=NOW, join_waitlist=True
    ).enrolment

    with pytest.raises(Conflict) as err:
        class_update(actor=admin, course_class=course_class, capacity=1, now=NOW)
    assert err.value.code == "capacity_below_taken" and err.value.fields == {"taken": 2}
    with pytest.raises(KehouError) as err:
        class_update(actor=admin, course_class=course_class, capacity=0, now=NOW)
    assert err.value.code == "invalid_capacity"
    class_update(actor=admin, course_class=course_class, capacity=3, room="科技楼305", now=NOW)

    waiting.refresh_from_db()
    course_class.refresh_from_db()
    assert waiting.status == "held" and course_class.taken == 3 and course_class.room == "科技楼305"


def test_cancelling_a_class_ends_every_place_and_tells_the_parents(school):
    admin = school_admin(school)
    course_class = make_class(school, admin=admin, capacity=1)
    open_window(school, 3)
    (p1, [k1]), (p2, [k2]) = family(school), family(school)
    enrolment_select(actor=p1, pupil_id=k1.pk, class_id=course_class.pk, request_key=key(), now=NOW)
    enrolment_select(actor=p2, pupil_id=k2.pk, class_id=course_class.pk, request_key=key(), now=NOW, join_waitlist=True)
    with pytest.raises(KehouError):
        class_cancel(actor=admin, course_class=course_class, reason=" ", now=NOW)

    assert class_cancel(actor=admin, course_class=course_class, reason="教师病假", now=NOW) == 2

    course_class.refresh_from_db()
    assert course_class.status == "cancelled" and course_class.taken == 0
    assert set(Enrolment.objects.values_list("status", flat=True)) == {"cancelled"}
    assert Notification.objects.filter(kind="class_cancelled").count() == 2
    with pytest.raises(Conflict):
        class_cancel(actor=admin, course_class=course_class, reason="again", now=NOW)
