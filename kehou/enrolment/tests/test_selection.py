"""Selection: holds, the waitlist, cancellation, expiry, promotion, clashes, limits, window edges, retries."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kehou.core.errors import Conflict, KehouError, NotFound
from kehou.core.models import AuditEntry
from kehou.enrolment.models import CourseClass, Enrolment
from kehou.enrolment.services.lottery import enrolment_tick
from kehou.enrolment.services.selection import enrolment_cancel, enrolment_confirm, enrolment_select
from kehou.enrolment.services.waitlist import holds_expire
from kehou.enrolment.services.waivers import waiver_decide, waiver_request
from kehou.notify.models import Notification
from kehou.testing import factories as f

from .factories import (
    MON_1600,
    MON_1630,
    NOW,
    TUE_1600,
    autumn_term,
    family,
    key,
    make_class,
    open_window,
    school_admin,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def school():
    return f.SchoolFactory()


def select(parent, pupil, course_class, *, now=NOW, **kw):
    return enrolment_select(actor=parent, pupil_id=pupil.pk, class_id=course_class.pk, request_key=key(), now=now, **kw)


def taken(course_class: CourseClass) -> int:
    course_class.refresh_from_db()
    return course_class.taken


def seats_agree(course_class: CourseClass) -> None:
    """The counter is exactly the number of held and confirmed rows (a seat is never both held and free)."""
    rows = Enrolment.objects.filter(course_class=course_class, status__in=["held", "confirmed"]).count()
    assert taken(course_class) == rows


def test_select_holds_a_seat_for_the_window_hold_time(school):
    course_class = make_class(school)
    open_window(school, 3, hold_minutes=15)
    parent, [kid] = family(school)

    result = select(parent, kid, course_class)

    assert result.created and result.enrolment.status == "held"
    assert result.enrolment.hold_expires_at == NOW + timedelta(minutes=15)
    assert result.enrolment.fee_fen == course_class.fee_fen > 0
    assert taken(course_class) == 1
    assert AuditEntry.objects.filter(action="enrolment.held", object_id=str(result.enrolment.pk)).exists()


def test_the_same_request_key_twice_is_one_selection(school):
    course_class = make_class(school)
    open_window(school, 3)
    parent, [kid] = family(school)
    k = key()

    first = enrolment_select(actor=parent, pupil_id=kid.pk, class_id=course_class.pk, request_key=k, now=NOW)
    again = enrolment_select(actor=parent, pupil_id=kid.pk, class_id=course_class.pk, request_key=k, now=NOW)

    assert first.created and not again.created
    assert again.enrolment.pk == first.enrolment.pk
    assert taken(course_class) == 1


def test_a_request_key_reused_for_another_class_is_refused(school):
    a, b = make_class(school), make_class(school, slots=[TUE_1600], name="围棋")
    open_window(school, 3)
    parent, [kid] = family(school)
    k = key()
    enrolment_select(actor=parent, pupil_id=kid.pk, class_id=a.pk, request_key=k, now=NOW)

    with pytest.raises(Conflict) as err:
        enrolment_select(actor=parent, pupil_id=kid.pk, class_id=b.pk, request_key=k, now=NOW)
    assert err.value.code == "request_key_reused"
    assert taken(b) == 0


@pytest.mark.parametrize("bad", ["", "short", "x" * 65, "has space!", "中文键值中文键值"])
def test_a_bad_request_key_is_refused_before_anything(school, bad):
    course_class = make_class(school)
    open_window(school, 3)
    parent, [kid] = family(school)
    with pytest.raises(KehouError) as err:
        enrolment_select(actor=parent, pupil_id=kid.pk, class_id=course_class.pk, request_key=bad, now=NOW)
    assert err.value.code == "request_key_invalid"
    assert Enrolment.objects.count() == 0


def test_a_second_place_in_the_same_class_is_refused(school):
    course_class = make_class(school)
    open_window(school, 3)
    parent, [kid] = family(school)
    select(parent, kid, course_class)
    with pytest.raises(Conflict) as err:
        select(parent, kid, course_class)
    assert err.value.code == "already_selected"
    assert taken(course_class) == 1


def test_someone_elses_child_is_not_found(school):
    course_class = make_class(school)
    open_window(school, 3)
    _parent, [kid] = family(school)
    stranger, _ = family(school)
    with pytest.raises(NotFound):
        select(stranger, kid, course_class)
    assert Enrolment.objects.count() == 0


def test_a_class_of_another_school_is_not_found(school):
    other = f.SchoolFactory()
    course_class = make_class(other)
    open_window(school, 3)
    open_window(other, 3)
    parent, [kid] = family(school)
    with pytest.raises(NotFound):
        select(parent, kid, course_class)


def test_a_class_not_for_the_childs_grade_is_refused(school):
    course_class = make_class(school, grades=(5, 6))
    open_window(school, 3)
    parent, [kid] = family(school, grade=3)
    with pytest.raises(KehouError) as err:
        select(parent, kid, course_class)
    assert err.value.code == "grade_not_eligible"


def test_window_edges_one_second_before_open_and_at_close(school):
    course_class = make_class(school)
    window = open_window(school, 3, opens_at=NOW, hours=2)
    parent, [kid] = family(school)

    with pytest.raises(Conflict) as before:
        select(parent, kid, course_class, now=NOW - timedelta(seconds=1))
    assert before.value.code == "window_closed"
    with pytest.raises(Conflict) as at_close:
        select(parent, kid, course_class, now=window.closes_at)
    assert at_close.value.code == "window_closed"
    assert select(parent, kid, course_class, now=NOW).enrolment.status == "held"  # at opening: open
    assert Enrolment.objects.count() == 1


def test_a_draft_window_does_not_open(school):
    from kehou.enrolment.services.windows import window_create

    course_class = make_class(school)
    window_create(
        actor=school_admin(school),
        school=school,
        term=autumn_term(),
        grade=3,
        opens_at=NOW - timedelta(hours=1),
        closes_at=NOW + timedelta(hours=1),
        now=NOW - timedelta(hours=2),
    )
    parent, [kid] = family(school)
    with pytest.raises(Conflict) as err:
        select(parent, kid, course_class)
    assert err.value.code == "window_closed"


def test_a_full_class_answers_class_full_and_writes_nothing(school):
    course_class = make_class(school, capacity=1)
    open_window(school, 3)
    p1, [k1] = family(school)
    p2, [k2] = family(school)
    select(p1, k1, course_class)
    audits = AuditEntry.objects.count()

    with pytest.raises(Conflict) as err:
        select(p2, k2, course_class)

    assert err.value.code == "class_full"
    assert err.value.fields == {"capacity": 1, "waiting": 0}
    assert Enrolment.objects.count() == 1 and AuditEntry.objects.count() == audits


def test_waitlist_positions_promotion_on_cancel_and_notification(school):
    course_class = make_class(school, capacity=1)
    open_window(school, 3)
    families = [family(school) for _ in range(3)]
    (p1, [k1]), (p2, [k2]), (p3, [k3]) = families
    held = select(p1, k1, course_class).enrolment

    second = select(p2, k2, course_class, join_waitlist=True)
    third = select(p3, k3, course_class, join_waitlist=True, now=NOW + timedelta(seconds=1))
    assert (second.enrolment.status, second.position) == ("waiting", 1)
    assert (third.enrolment.status, third.position) == ("waiting", 2)

    enrolment_cancel(actor=p1, enrolment=held, now=NOW + timedelta(minutes=1))

    second.enrolment.refresh_from_db()
    assert second.enrolment.status == "held"
    assert second.enrolment.hold_expires_at == NOW + timedelta(minutes=16)
    assert Notification.objects.filter(user=p2, kind="waitlist_promoted").count() == 1
    from kehou.enrolment.services.selection import waitlist_position

    third.enrolment.refresh_from_db()
    assert waitlist_position(third.enrolment) == 1
    seats_agree(course_class)


def test_cancel_twice_is_the_same_cancel(school):
    course_class = make_class(school)
    open_window(school, 3)
    parent, [kid] = family(school)
    held = select(parent, kid, course_class).enrolment
    enrolment_cancel(actor=parent, enrolment=held, now=NOW)
    again = enrolment_cancel(actor=parent, enrolment=held, now=NOW)
    assert again.status == "cancelled"
    assert taken(course_class) == 0


def test_only_the_guardians_or_the_school_cancel(school):
    course_class = make_class(school)
    open_window(school, 3)
    parent, [kid] = family(school)
    held = select(parent, kid, course_class).enrolment
    stranger, _ = family(school)
    with pytest.raises(NotFound):
        enrolment_cancel(actor=stranger, enrolment=held, now=NOW)
    held.refresh_from_db()
    assert held.status == "held" and taken(course_class) == 1
    enrolment_cancel(actor=school_admin(school), enrolment=held, now=NOW, reason="家长电话要求")
    assert taken(course_class) == 0


def test_an_expired_hold_frees_the_seat_for_the_head_of_the_waitlist(school):
    course_class = make_class(school, capacity=1)
    open_window(school, 3, hold_minutes=15)
    p1, [k1] = family(school)
    p2, [k2] = family(school)
    held = select(p1, k1, course_class).enrolment
    waiting = select(p2, k2, course_class, join_waitlist=True).enrolment

    assert holds_expire(now=NOW + timedelta(minutes=14, seconds=59)) == 0
    assert holds_expire(now=NOW + timedelta(minutes=15)) == 1

    held.refresh_from_db()
    waiting.refresh_from_db()
    assert held.status == "expired"
    assert waiting.status == "held"
    seats_agree(course_class)


def test_a_stale_hold_is_freed_by_the_next_selection_without_a_worker(school):
    course_class = make_class(school, capacity=1)
    open_window(school, 3, hold_minutes=15)
    p1, [k1] = family(school)
    p2, [k2] = family(school)
    select(p1, k1, course_class)

    late = select(p2, k2, course_class, now=NOW + timedelta(minutes=20))

    assert late.enrolment.status == "held"
    seats_agree(course_class)


def test_confirm_before_expiry_and_not_after(school):
    course_class = make_class(school)
    open_window(school, 3, hold_minutes=15)
    p1, [k1] = family(school)
    p2, [k2] = family(school)
    a = select(p1, k1, course_class).enrolment
    b = select(p2, k2, course_class).enrolment

    assert enrolment_confirm(enrolment_id=a.pk, now=NOW + timedelta(minutes=10)).status == "confirmed"
    with pytest.raises(Conflict) as err:
        enrolment_confirm(enrolment_id=b.pk, now=NOW + timedelta(minutes=15))
    assert err.value.code == "hold_expired"
    assert enrolment_tick(now=NOW + timedelta(minutes=15))["expired"] == 1
    seats_agree(course_class)


def test_time_clash_is_refused_and_names_the_other_class(school):
    a = make_class(school, slots=[MON_1600], name="机器人编程")
    b = make_class(school, slots=[MON_1630], name="围棋")
    c = make_class(school, slots=[TUE_1600], name="书法")
    open_window(school, 3, max_classes=3)
    parent, [kid] = family(school)
    select(parent, kid, a)
    with pytest.raises(Conflict) as err:
        select(parent, kid, b)
    assert err.value.code == "time_clash" and err.value.fields == {"class": a.pk}
    assert select(parent, kid, c).enrolment.status == "held"


def test_the_window_limits_classes_per_child(school):
    classes = [make_class(school, slots=[s], name=n) for s, n in ((MON_1600, "甲"), (TUE_1600, "乙"))]
    third = make_class(school, slots=[TUE_1600.__class__(3, MON_1600.starts_at, MON_1600.ends_at)], name="丙")
    open_window(school, 3, max_classes=2)
    parent, [kid] = family(school)
    for c in classes:
        select(parent, kid, c)
    with pytest.raises(Conflict) as err:
        select(parent, kid, third)
    assert err.value.code == "too_many_classes"


def test_two_children_of_one_parent_each_select(school):
    course_class = make_class(school)
    open_window(school, 3)
    parent, [k1, k2] = family(school, children=2)
    select(parent, k1, course_class)
    select(parent, k2, course_class)
    assert taken(course_class) == 2


def test_a_hardship_waiver_selects_at_zero_fee_and_confirms_at_once(school):
    course_class = make_class(school)
    open_window(school, 3)
    parent, [kid] = family(school)
    marker, approver = school_admin(school), school_admin(school)
    waiver = waiver_request(actor=marker, pupil=kid, term=autumn_term(), reason="低保家庭", now=NOW)
    with pytest.raises(KehouError) as err:
        waiver_decide(actor=marker, waiver=waiver, approve=True, now=NOW)
    assert err.value.code == "four_eyes"
    waiver_decide(actor=approver, waiver=waiver, approve=True, now=NOW)

    row = select(parent, kid, course_class).enrolment

    assert (row.status, row.fee_fen, row.waived) == ("confirmed", 0, True)
    seats_agree(course_class)


def test_a_suspended_course_cannot_be_selected(school):
    from kehou.catalog.models import LibraryEntry

    course_class = make_class(school)
    open_window(school, 3)
    parent, [kid] = family(school)
    LibraryEntry.objects.filter(pk=course_class.entry.upstream_id).update(status="suspended")
    with pytest.raises(Conflict) as err:
        select(parent, kid, course_class)
    assert err.value.code == "course_suspended"
