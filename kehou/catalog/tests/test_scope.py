"""Who sees which submissions, panels, library entries and filings: each role through ``scope_for(user).filter``
(and the catalog's selectors, which must agree with it)."""

from __future__ import annotations

from typing import Any

import pytest

from kehou.catalog import selectors
from kehou.catalog.models import (
    Decision,
    ExpertRecusal,
    Filing,
    LibraryEntry,
    Panel,
    Score,
    Submission,
    SubmissionVersion,
)
from kehou.catalog.services import review, submissions
from kehou.catalog.tests.factories import (
    NOW,
    Libs,
    all_items,
    course_fields,
    district_admin_of,
    draw_panel,
    organisation,
    outside_teacher,
    school_admin_of,
    score_all,
    setup_catalog,
    staff_teacher,
    submit_course,
)
from kehou.conftest import City
from kehou.core.models import AuditEntry
from kehou.core.scope import scope_for
from kehou.people.models import User
from kehou.testing import factories as f

pytestmark = pytest.mark.django_db


def visible(user: User, queryset: Any, names: dict[int, str]) -> set[str]:
    return {names[pk] for pk in scope_for(user).filter(queryset).values_list("pk", flat=True)}


def mismatches(expected: dict[str, set[str]], users: dict[str, User], queryset: Any, names: dict[int, str]) -> dict:
    seen = {role: visible(users[role], queryset, names) for role in expected}
    return {role: (seen[role], want) for role, want in expected.items() if seen[role] != want}


# --- submissions ----------------------------------------------------------------------------------------------------
@pytest.fixture
def subs(city: City) -> dict[str, Any]:
    """Submissions from school A1 (to the city and to district A), from school B1 (to the city), and from an
    outside teacher of an organisation in district B (to the city and to district B); A1's city submission has a
    panel with the fixture's expert on it, B1's a panel without them."""
    cat = setup_catalog(experts=2)
    science = cat["categories"]["science"]
    b1_admin = school_admin_of(city.b1)
    org = organisation(city.district_b)
    outsider, colleague = outside_teacher(org), outside_teacher(org)
    fields = course_fields(science, [outsider.teacher_profile.pk])
    s = {
        "a1_city": submit_course(city, science, name="a1_city"),
        "a1_district": submit_course(city, science, name="a1_district", library="district"),
        "b1_city": submit_course(
            city,
            science,
            name="b1_city",
            actor=b1_admin,
            school=city.b1,
            teacher_ids=[f.teacher_at(city.b1).teacher_profile.pk],
        ),
        "org_city": submissions.submission_create(actor=outsider, school=None, library="city", fields=fields, now=NOW),
        "org_district": submissions.submission_create(
            actor=outsider, school=None, library="district", fields=fields, now=NOW
        ),
    }
    expert = city.users["expert"]
    panel = draw_panel(s["a1_city"], city.users["city_admin"], size=3)  # all three experts of the speciality
    assert expert.expert_profile.pk in panel.pool
    ExpertRecusal.objects.create(expert=expert.expert_profile, submission=s["b1_city"], reason="亲属", declared_at=NOW)
    other_panel = draw_panel(s["b1_city"], city.users["city_admin"], size=2)
    assert expert.expert_profile.pk not in other_panel.pool
    score_all(panel)
    users = dict(city.users)
    users.update(
        district_b_admin=district_admin_of(city.district_b),
        a2_admin=school_admin_of(city.a2),
        b1_admin=b1_admin,
        outsider=outsider,
        colleague=colleague,
        idle_expert=f.expert(["体育"]),
        panel_expert=cat["experts"][0],
    )
    return {"subs": s, "users": users, "panel": panel, "other_panel": other_panel}


ALL_SUBS = {"a1_city", "a1_district", "b1_city", "org_city", "org_district"}
SUBMISSIONS_SEEN = {
    "city_admin": ALL_SUBS,
    "superuser": ALL_SUBS,
    # the district library's bureau, and the bureau of the submitting school's district
    "district_admin": {"a1_city", "a1_district"},
    "district_b_admin": {"b1_city", "org_district"},
    # the submitting school
    "school_admin": {"a1_city", "a1_district"},
    "b1_admin": {"b1_city"},
    "a2_admin": set(),
    # the submitter
    "outsider": {"org_city", "org_district"},
    "colleague": set(),
    # the panel's experts, and only theirs
    "expert": {"a1_city"},
    "panel_expert": {"a1_city", "b1_city"},
    "idle_expert": set(),
    # nobody else, not even the teacher named in the course
    "teacher": set(),
    "parent": set(),
    "operator_staff": set(),
    "nobody": set(),
}


def test_each_role_sees_the_right_submissions(subs: dict[str, Any]) -> None:
    names = {sub.pk: key for key, sub in subs["subs"].items()}
    assert mismatches(SUBMISSIONS_SEEN, subs["users"], Submission.objects.all(), names) == {}
    # And their versions, panels and the list selector agree with the submissions they see
    for role, want in SUBMISSIONS_SEEN.items():
        user = subs["users"][role]
        versions = scope_for(user).filter(SubmissionVersion.objects.all()).values_list("submission_id", flat=True)
        assert {names[pk] for pk in versions} == want, role
        listed = selectors.submission_list(scope=scope_for(user)).values_list("pk", flat=True)
        assert {names[pk] for pk in listed} == want, role


def test_an_expert_sees_only_the_panels_they_sit_on_and_only_their_own_scores(subs: dict[str, Any]) -> None:
    users, panel, other = subs["users"], subs["panel"], subs["other_panel"]
    for role, panels in (
        ("expert", {panel.pk}),
        ("panel_expert", {panel.pk, other.pk}),
        ("idle_expert", set()),
        ("city_admin", {panel.pk, other.pk}),
        ("school_admin", {panel.pk}),
        ("parent", set()),
    ):
        scope = scope_for(users[role])
        assert set(scope.filter(Panel.objects.all()).values_list("pk", flat=True)) == panels, role
        assert set(selectors.panel_list(scope=scope).values_list("pk", flat=True)) == panels, role
        # Scores are independent: an expert reads only their own sheet, the submitting school none, bureaus all
        seen_scores = scope.filter(Score.objects.all())
        if role.endswith("expert"):
            assert not seen_scores.exclude(member__expert__user=users[role]).exists(), role
        elif role == "city_admin":
            assert set(seen_scores.values_list("member__panel_id", flat=True)) == {panel.pk}, role
        else:
            assert not seen_scores.exists(), role
    seats = selectors.my_seats(scope=scope_for(users["expert"]))
    assert [s.panel_id for s in seats] == [panel.pk]
    assert not scope_for(users["idle_expert"]).filter(Decision.objects.all()).exists()


# --- library entries and filings ------------------------------------------------------------------------------------
@pytest.fixture
def libs(city: City) -> Libs:
    return Libs(city)


CITY = {"city", "other_city"}
ENTRIES_SEEN = {
    "city_admin": CITY | {"da", "db", "sa1", "sa2"},
    "superuser": CITY | {"da", "db", "sa1", "sa2"},
    # a district: the city library, its own library, and its schools' libraries
    "district_admin": CITY | {"da", "sa1", "sa2"},
    "b_admin": CITY | {"db"},
    # a school: the city library, its district's library, its own library
    "school_admin": CITY | {"da", "sa1"},
    "a2_admin": CITY | {"da", "sa2"},
    "operator_staff": CITY | {"da", "sa1"},  # authorised for A1
    # every other role holder: the city library
    "teacher": CITY,
    "parent": CITY,
    "expert": CITY,
    # no role at all: nothing
    "nobody": set(),
}


def test_each_role_sees_the_right_library_entries(libs: Libs, city: City) -> None:
    names = {getattr(libs, key).pk: key for key in ("city", "other_city", "da", "db", "sa1", "sa2")}
    users = {**city.users, "b_admin": libs.b_admin, "a2_admin": libs.a2_admin}
    assert mismatches(ENTRIES_SEEN, users, LibraryEntry.objects.all(), names) == {}
    for role, want in ENTRIES_SEEN.items():
        listed = selectors.library_list(scope=scope_for(users[role])).values_list("pk", flat=True)
        assert {names[pk] for pk in listed} == want, role


FILINGS_SEEN = {
    "city_admin": {"da", "db", "sa1", "sa2"},
    "superuser": {"da", "db", "sa1", "sa2"},
    "district_admin": {"da", "sa1", "sa2"},
    "b_admin": {"db"},
    "school_admin": {"sa1"},
    "a2_admin": {"sa2"},
    "operator_staff": set(),
    "teacher": set(),
    "parent": set(),
    "expert": set(),
    "nobody": set(),
}


def test_each_role_sees_the_right_filings(libs: Libs, city: City) -> None:
    names = {
        pk: key
        for key in ("da", "db", "sa1", "sa2")
        for pk in Filing.objects.filter(entry=getattr(libs, key)).values_list("pk", flat=True)
    }
    users = {**city.users, "b_admin": libs.b_admin, "a2_admin": libs.a2_admin}
    assert mismatches(FILINGS_SEEN, users, Filing.objects.all(), names) == {}
    for role, want in FILINGS_SEEN.items():
        listed = selectors.filing_list(scope=scope_for(users[role])).values_list("pk", flat=True)
        assert {names[pk] for pk in listed} == want, role


# --- the audit trail --------------------------------------------------------------------------------------------------
def test_every_step_of_a_district_review_is_in_that_districts_and_the_schools_audit_log(city: City) -> None:
    # Given a course of school A1 reviewed for district A's library: drawn, one decline, scored, returned, revised
    cat = setup_catalog(experts=5)
    science = cat["categories"]["science"]
    sub = submit_course(city, science, library="district")
    panel = draw_panel(sub, city.users["district_admin"], size=3)
    seat = panel.members.select_related("expert__user").get(draw_position=0)
    review.member_decline(actor=seat.expert.user, member=seat, reason="出差", now=NOW)
    score_all(panel, all_items(7))
    review.panel_decide(actor=city.users["district_admin"], panel=panel, now=NOW)
    submissions.submission_revise(
        actor=city.users["school_admin"],
        submission=sub,
        fields=course_fields(science, [staff_teacher(city.users["teacher"]).pk]),
        note="修订",
        now=NOW,
    )
    steps = {
        "submission.created",
        "panel.drawn",
        "panel.member_declined",
        "panel.scored",
        "panel.decided",
        "submission.revised",
    }

    def actions(user: User) -> set[str]:
        return set(scope_for(user).filter(AuditEntry.objects.filter(action__in=steps)).values_list("action", flat=True))

    # Then district A's bureau and school A1 see every step; district B's bureau and an expert see none
    assert actions(city.users["district_admin"]) == steps
    assert actions(city.users["school_admin"]) == steps
    assert actions(district_admin_of(city.district_b)) == set()
    assert actions(seat.expert.user) == set()


def test_a_school_library_change_is_in_its_districts_audit_log(libs: Libs, city: City) -> None:
    libs.set_status(libs.sa1, "suspended")
    rows = AuditEntry.objects.filter(action="library.status_changed", object_id=str(libs.sa1.pk))
    assert scope_for(city.users["district_admin"]).filter(rows).count() == 1
    assert scope_for(city.users["school_admin"]).filter(rows).count() == 1
    assert scope_for(libs.b_admin).filter(rows).count() == 0
