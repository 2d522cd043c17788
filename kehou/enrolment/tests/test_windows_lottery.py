"""Selection windows (per grade, staggered by a district) and the lottery (reproducible from its seed)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kehou.catalog import draw
from kehou.core.errors import Conflict, Forbidden, KehouError, NotFound
from kehou.enrolment.models import Enrolment, LotteryDraw, SelectionWindow
from kehou.enrolment.services.lottery import enrolment_tick, lottery_draw, lottery_replay
from kehou.enrolment.services.selection import enrolment_select
from kehou.enrolment.services.windows import (
    window_cancel,
    window_create,
    window_publish,
    window_update,
    windows_stagger,
)
from kehou.notify.models import Notification
from kehou.orgs.models import School
from kehou.people.models import Role
from kehou.testing import factories as f

from .factories import NOW, autumn_term, family, key, make_class, open_window, school_admin

pytestmark = pytest.mark.django_db


@pytest.fixture
def school():
    return f.SchoolFactory()


def create(school, admin, **kw):
    values = dict(
        actor=admin,
        school=school,
        term=autumn_term(),
        grade=3,
        opens_at=NOW + timedelta(hours=1),
        closes_at=NOW + timedelta(hours=5),
        now=NOW,
    )
    values.update(kw)
    return window_create(**values)


def test_windows_of_one_grade_may_not_overlap(school):
    admin = school_admin(school)
    create(school, admin)
    with pytest.raises(Conflict) as err:
        create(school, admin, opens_at=NOW + timedelta(hours=4), closes_at=NOW + timedelta(hours=8))
    assert err.value.code == "window_overlap"
    create(school, admin, grade=4)  # another grade
    create(school, admin, opens_at=NOW + timedelta(hours=5), closes_at=NOW + timedelta(hours=8))  # back to back


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"grade": 8}, "grade_out_of_range"),
        ({"closes_at": NOW + timedelta(hours=1)}, "window_dates"),
        ({"opens_at": NOW - timedelta(hours=5), "closes_at": NOW - timedelta(hours=1)}, "window_in_past"),
        ({"mode": "auction"}, "invalid_mode"),
        ({"max_classes": 0}, "invalid_max_classes"),
        ({"hold_minutes": 0}, "invalid_hold_minutes"),
        ({"closes_at": NOW + timedelta(days=40)}, "window_too_long"),
    ],
)
def test_bad_windows_are_refused(school, changes, code):
    with pytest.raises(KehouError) as err:
        create(school, school_admin(school), **changes)
    assert err.value.code == code
    assert SelectionWindow.objects.count() == 0


def test_only_the_schools_admin_sets_windows(school):
    district_admin = f.UserFactory()
    f.grant(district_admin, Role.DISTRICT_ADMIN, district=school.district)
    with pytest.raises(Forbidden):
        create(school, district_admin)
    with pytest.raises(NotFound):
        create(school, school_admin(f.SchoolFactory()))


def test_publish_then_only_extend_once_open_and_cancel_only_before_selections(school):
    admin = school_admin(school)
    window = create(school, admin)
    window_publish(actor=admin, window=window, now=NOW)
    opened = NOW + timedelta(hours=2)
    with pytest.raises(Conflict) as err:
        window_update(actor=admin, window=window, closes_at=NOW + timedelta(hours=3), now=opened)
    assert err.value.code == "window_started"
    window_update(actor=admin, window=window, closes_at=NOW + timedelta(hours=9), now=opened)
    course_class = make_class(school)
    parent, [kid] = family(school)
    enrolment_select(actor=parent, pupil_id=kid.pk, class_id=course_class.pk, request_key=key(), now=opened)
    with pytest.raises(Conflict) as err:
        window_cancel(actor=admin, window=window, now=opened)
    assert err.value.code == "window_has_selections"


def test_a_district_staggers_its_schools_windows():
    district = f.RegionFactory()
    schools = [f.SchoolFactory(district=district, code=f"36019{i:05d}") for i in range(3)]
    f.SchoolFactory(district=district, joined_at=None)  # not on the platform yet: no window
    admin = f.UserFactory()
    f.grant(admin, Role.DISTRICT_ADMIN, district=district)
    create(
        schools[1], school_admin(schools[1]), opens_at=NOW + timedelta(minutes=40), closes_at=NOW + timedelta(hours=3)
    )

    result = windows_stagger(
        actor=admin,
        district=district,
        term=autumn_term(),
        first_opens_at=NOW + timedelta(hours=1),
        step_minutes=30,
        length_minutes=120,
        now=NOW,
    )

    assert (result.schools, result.created, result.skipped) == (3, 17, 1)
    opens = {
        s.code: set(SelectionWindow.objects.filter(school=s, status="published").values_list("opens_at", flat=True))
        for s in schools
    }
    assert opens[schools[0].code] == {NOW + timedelta(hours=1)}
    assert NOW + timedelta(minutes=90) in opens[schools[1].code]
    assert opens[schools[2].code] == {NOW + timedelta(hours=2)}
    other = f.UserFactory()
    f.grant(other, Role.DISTRICT_ADMIN, district=f.RegionFactory())
    with pytest.raises(NotFound):
        windows_stagger(
            actor=other,
            district=district,
            term=autumn_term(),
            first_opens_at=NOW,
            step_minutes=5,
            length_minutes=60,
            now=NOW,
        )


# --- the lottery -----------------------------------------------------------------------------------------------


def lottery_setup(school: School, *, capacity: int, applicants: int):
    course_class = make_class(school, capacity=capacity)
    window = open_window(school, 3, mode="lottery", hours=2)
    kids = []
    for _ in range(applicants):
        parent, [kid] = family(school)
        row = enrolment_select(
            actor=parent, pupil_id=kid.pk, class_id=course_class.pk, request_key=key(), now=NOW
        ).enrolment
        assert row.status == "applied"
        kids.append(kid)
    return course_class, window, kids


def test_applications_take_no_seat_until_the_draw(school):
    course_class, _window, _kids = lottery_setup(school, capacity=3, applicants=5)
    course_class.refresh_from_db()
    assert course_class.taken == 0
    assert Enrolment.objects.filter(status="applied").count() == 5


def test_the_draw_waits_for_the_close_and_runs_once(school):
    _course_class, window, _kids = lottery_setup(school, capacity=3, applicants=5)
    with pytest.raises(Conflict) as err:
        lottery_draw(window=window, now=window.closes_at - timedelta(seconds=1))
    assert err.value.code == "window_still_open"
    lottery_draw(window=window, now=window.closes_at, seed="abc")
    window.refresh_from_db()
    with pytest.raises(Conflict) as err:
        lottery_draw(window=window, now=window.closes_at, seed="abc")
    assert err.value.code == "lottery_drawn"


def test_winners_hold_losers_wait_in_drawn_order_and_all_are_told(school):
    course_class, window, kids = lottery_setup(school, capacity=3, applicants=7)
    lottery_draw(window=window, now=window.closes_at, seed="nanchang-2026")

    row = LotteryDraw.objects.get()
    expected = draw.draw_order("nanchang-2026", [k.pk for k in kids])
    assert row.order == expected and row.applicants == sorted(k.pk for k in kids) and row.seats == 3
    assert lottery_replay(row) == row.order
    winners = set(Enrolment.objects.filter(status="held").values_list("pupil_id", flat=True))
    assert winners == set(expected[:3])
    waiting = list(Enrolment.objects.filter(status="waiting").order_by("wait_rank").values_list("pupil_id", flat=True))
    assert waiting == expected[3:]
    course_class.refresh_from_db()
    assert course_class.taken == 3
    assert Notification.objects.filter(kind="lottery_won").count() == 3
    assert Notification.objects.filter(kind="lottery_waitlisted").count() == 4


def test_an_undersubscribed_class_gives_everyone_a_seat_without_a_draw(school):
    _course_class, window, _kids = lottery_setup(school, capacity=10, applicants=4)
    assert lottery_draw(window=window, now=window.closes_at) == 0
    assert LotteryDraw.objects.count() == 0
    assert Enrolment.objects.filter(status="held").count() == 4


def test_the_ticker_draws_closed_lottery_windows(school):
    _course_class, window, _kids = lottery_setup(school, capacity=1, applicants=3)
    assert enrolment_tick(now=window.closes_at - timedelta(seconds=1))["lotteries"] == 0
    assert enrolment_tick(now=window.closes_at)["lotteries"] == 1
    assert enrolment_tick(now=window.closes_at + timedelta(minutes=1))["lotteries"] == 0


@settings(max_examples=60, deadline=None)
@given(seed=st.text(min_size=1, max_size=40), pool=st.sets(st.integers(min_value=1, max_value=10**9), max_size=60))
def test_a_draw_is_a_permutation_and_reproducible_from_its_seed(seed, pool):
    order = draw.draw_order(seed, pool)
    assert sorted(order) == sorted(pool)
    assert draw.draw_order(seed, list(reversed(sorted(pool)))) == order  # input order does not matter
