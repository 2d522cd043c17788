"""Selection reads everything it checks in one query (services/selection.py ``_context``): the answers it gives
from that query, beside those test_selection.py covers."""

from __future__ import annotations

from datetime import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kehou.catalog.models import LibraryEntry
from kehou.core.errors import Conflict, NotFound
from kehou.enrolment.models import CourseClass, Enrolment
from kehou.enrolment.services.classes import Slot
from kehou.enrolment.services.selection import enrolment_select
from kehou.testing import factories as f

from .factories import NOW, autumn_term, care_standard, family, key, make_class, open_window, school_admin

pytestmark = pytest.mark.django_db


@pytest.fixture
def school():
    return f.SchoolFactory()


def select(parent, pupil, course_class, **kw):
    return enrolment_select(actor=parent, pupil_id=pupil.pk, class_id=course_class.pk, request_key=key(), now=NOW, **kw)


def test_a_sold_out_class_answers_from_one_query_with_the_waitlist_length(school):
    course_class = make_class(school, capacity=1)
    open_window(school, 3)
    p1, [k1] = family(school)
    p2, [k2] = family(school)
    p3, [k3] = family(school)
    select(p1, k1, course_class)
    select(p2, k2, course_class, join_waitlist=True)

    with CaptureQueriesContext(connection) as queries, pytest.raises(Conflict) as err:
        select(p3, k3, course_class)

    assert err.value.code == "class_full"
    assert err.value.fields == {"capacity": 1, "waiting": 1}
    assert len(queries.captured_queries) == 1


def test_a_retry_after_the_class_filled_still_answers_the_first_seat(school):
    course_class = make_class(school, capacity=1)
    open_window(school, 3)
    parent, [kid] = family(school)
    k = key()
    first = enrolment_select(actor=parent, pupil_id=kid.pk, class_id=course_class.pk, request_key=k, now=NOW)

    again = enrolment_select(actor=parent, pupil_id=kid.pk, class_id=course_class.pk, request_key=k, now=NOW)

    assert not again.created and again.enrolment.pk == first.enrolment.pk


def test_a_cancelled_class_is_not_found(school):
    course_class = make_class(school)
    open_window(school, 3)
    parent, [kid] = family(school)
    CourseClass.objects.filter(pk=course_class.pk).update(status="cancelled")

    with pytest.raises(NotFound) as err:
        select(parent, kid, course_class)

    assert err.value.code == "class_not_found"
    assert Enrolment.objects.count() == 0


def test_a_suspended_school_entry_cannot_be_selected(school):
    course_class = make_class(school)
    open_window(school, 3)
    parent, [kid] = family(school)
    LibraryEntry.objects.filter(pk=course_class.entry_id).update(status="suspended")

    with pytest.raises(Conflict) as err:
        select(parent, kid, course_class)

    assert err.value.code == "course_suspended"


def test_basic_care_has_no_library_entry_and_is_selectable(school):
    from kehou.enrolment.services.classes import class_create

    care_standard()
    admin = school_admin(school)
    care = class_create(
        actor=admin,
        school=school,
        term=autumn_term(),
        teacher=f.teacher_at(school).teacher_profile,
        room="101",
        capacity=10,
        grade_min=1,
        grade_max=6,
        unit_price_fen=1500,
        slots=[Slot(3, time(16, 0), time(17, 30))],
        kind="care",
        pricing="day",
        now=NOW,
    )
    open_window(school, 3, admin=admin)
    parent, [kid] = family(school)

    assert select(parent, kid, care).enrolment.status == "held"


def test_of_two_clashing_classes_the_one_earlier_in_the_week_is_named(school):
    from .factories import MON_1600, MON_1630, TUE_1600

    tuesday = make_class(school, slots=[TUE_1600], name="围棋")
    monday = make_class(school, slots=[MON_1600], name="书法")
    both = make_class(school, slots=[MON_1630, Slot(1, time(16, 30), time(17, 30))], name="舞蹈")
    open_window(school, 3, max_classes=3)
    parent, [kid] = family(school)
    select(parent, kid, tuesday)
    select(parent, kid, monday)

    with pytest.raises(Conflict) as err:
        select(parent, kid, both)

    assert err.value.code == "time_clash"
    assert err.value.fields == {"class": monday.pk}
