"""One course from submission through a drawn panel, scores and admission, adoption by a district, picking by a
school, and the filing at the city."""

import pytest
from django.utils import timezone

from kehou.catalog import selectors
from kehou.catalog.models import Filing, LibraryEntry, Submission
from kehou.catalog.services import libraries, review, submissions
from kehou.catalog.tests.factories import setup_catalog
from kehou.orgs.models import School
from kehou.people.models import TeacherProfile

pytestmark = pytest.mark.django_db


def test_course_from_submission_to_school_library(city):
    cat = setup_catalog()
    now = timezone.now()
    teacher = TeacherProfile.objects.get(user=city.users["teacher"])
    # Given a school submits a course taught by its own teacher to the city library
    sub = submissions.submission_create(
        actor=city.users["school_admin"],
        school=city.a1,
        library="city",
        now=now,
        fields=submissions.CourseFields(
            name="机器人编程",
            category=cat["categories"]["science"],
            introduction="用积木机器人学编程",
            grades=[3, 4, 5],
            minutes_per_hour=45,
            hours_per_term=16,
            fee_per_hour_fen=3000,
            teacher_ids=[teacher.pk],
        ),
    )
    # When the city draws a panel, every member scores, and the city decides
    panel = review.panel_draw(actor=city.users["city_admin"], submission=sub, now=now, seed="abc")
    assert review.panel_verify(panel)
    for member in panel.members.all():
        review.score_submit(
            actor=member.expert.user,
            member=member,
            now=now,
            comment="好",
            item_scores={str(n): 9 for n in range(1, 21)},
            vetoed_items=[],
        )
    decision = review.panel_decide(actor=city.users["city_admin"], panel=panel, now=now)
    # Then it is admitted into the city library
    assert decision.outcome == "admitted"
    sub.refresh_from_db()
    assert sub.status == Submission.Status.ADMITTED
    city_entry = LibraryEntry.objects.get(item__submission=sub, level="city")
    # And the district adopts it, and a district school picks it; both are filed with the city
    district_entry = libraries.library_adopt(
        actor=city.users["district_admin"], district=city.district_a, city_entry=city_entry, now=now
    )
    city.a1.authority = School.Authority.DISTRICT
    school_entry = libraries.library_pick(
        actor=city.users["school_admin"], school=city.a1, entry=district_entry, now=now
    )
    assert list(selectors.usable_entries(school=city.a1)) == [school_entry]
    assert Filing.objects.filter(status="filed").count() == 2
    # When the city suspends the course, the school can no longer use it
    affected = libraries.library_set_status(
        actor=city.users["city_admin"], entry=city_entry, status="suspended", reason="复查", now=now
    )
    assert affected == 2
    assert list(selectors.usable_entries(school=city.a1)) == []
