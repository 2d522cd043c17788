"""Submissions: who may submit what, fee standards, the course's own rules, and revisions (every version kept)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from kehou.catalog.models import Category, FeeStandard, Submission, SubmissionVersion
from kehou.catalog.services import submissions
from kehou.catalog.services.submissions import DossierFields
from kehou.catalog.tests.factories import (
    NOW,
    course_fields,
    draw_panel,
    nothing_changes,
    organisation,
    outside_teacher,
    score_all,
    setup_catalog,
    staff_teacher,
    submit_course,
)
from kehou.conftest import City
from kehou.core.errors import Conflict, Forbidden, KehouError, NotFound
from kehou.core.models import AuditEntry
from kehou.people.models import TeacherProfile
from kehou.testing import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def cat(city: City) -> dict[str, Any]:
    return setup_catalog(experts=2)


@pytest.fixture
def science(cat: dict[str, Any]) -> Category:
    return cat["categories"]["science"]


def own_teacher(city: City) -> int:
    return staff_teacher(city.users["teacher"]).pk


# --- who submits ----------------------------------------------------------------------------------------------------
def test_a_school_submits_a_course_of_its_own_staff_teacher(city: City, science: Category) -> None:
    # When school A1's admin submits a course taught by A1's staff teacher to the city library
    sub = submit_course(
        city, science, materials_description="机器人套件（自愿购买）", materials_price_fen=19900, grades=[5, 3, 4, 3]
    )
    # Then it awaits review with its first version, the school as submitter, and an audit row
    assert (sub.kind, sub.status, sub.version_count, sub.title) == ("course", "submitted", 1, "机器人编程")
    assert (sub.submitter_school, sub.submitter_organisation, sub.submitter_user) == (
        city.a1,
        None,
        city.users["school_admin"],
    )
    assert sub.library_region.is_city
    version = sub.versions.get()
    assert version.number == 1 and version.grades == [3, 4, 5]
    assert list(version.teachers.values_list("pk", flat=True)) == [own_teacher(city)]
    # And the materials are described and priced apart from the course fee
    assert (version.fee_per_hour_fen, version.materials_price_fen) == (3000, 19900)
    logged = AuditEntry.objects.get(action="submission.created")
    assert logged.school_id == city.a1.pk and logged.after["version"] == 1


@pytest.mark.parametrize("whose", ["another_school", "outside_teacher_at_the_school", "unknown"])
def test_a_school_cannot_submit_someone_elses_teacher(city: City, science: Category, whose: str) -> None:
    teacher = {
        "another_school": lambda: f.teacher_at(city.a2).teacher_profile.pk,
        "outside_teacher_at_the_school": lambda: f.teacher_at(city.a1, kind="outside").teacher_profile.pk,
        "unknown": lambda: 999999,
    }[whose]()
    with nothing_changes(), pytest.raises(KehouError) as refused:
        submit_course(city, science, teacher_ids=[own_teacher(city), teacher])
    assert refused.value.code == "teacher_not_yours" and refused.value.fields == {"teacher_ids": [teacher]}


def test_an_outside_teacher_submits_their_own_and_their_organisations_courses(city: City, science: Category) -> None:
    # Given an outside teacher of an organisation in district A, and a colleague of the same organisation
    org = organisation(city.district_a)
    me = outside_teacher(org)
    colleague = outside_teacher(org)
    # When they submit a course taught by both, to the city library and to district A's library
    fields = course_fields(science, [me.teacher_profile.pk, colleague.teacher_profile.pk])
    sub = submissions.submission_create(actor=me, school=None, library="city", fields=fields, now=NOW)
    local = submissions.submission_create(actor=me, school=None, library="district", fields=fields, now=NOW)
    # Then the organisation is the submitter, and the district library is the organisation's district's
    assert (sub.submitter_school, sub.submitter_organisation, sub.submitter_user) == (None, org, me)
    assert local.library_region == city.district_a


def test_an_outside_teacher_cannot_submit_a_teacher_of_another_organisation_or_school(
    city: City, science: Category
) -> None:
    me = outside_teacher(organisation(city.district_a))
    stranger = outside_teacher(organisation(city.district_b))
    for teacher in (stranger.teacher_profile.pk, own_teacher(city)):
        fields = course_fields(science, [me.teacher_profile.pk, teacher])
        with nothing_changes(), pytest.raises(KehouError) as refused:
            submissions.submission_create(actor=me, school=None, library="city", fields=fields, now=NOW)
        assert refused.value.code == "teacher_not_yours"


def test_an_independent_outside_teacher_submits_to_the_city_library_only(city: City, science: Category) -> None:
    me = outside_teacher()
    fields = course_fields(science, [me.teacher_profile.pk])
    assert submissions.submission_create(actor=me, school=None, library="city", fields=fields, now=NOW).pk
    for library in ("district", "school", ""):
        with nothing_changes(), pytest.raises(KehouError) as refused:
            submissions.submission_create(actor=me, school=None, library=library, fields=fields, now=NOW)
        assert refused.value.code == "invalid_library"


@pytest.mark.parametrize("role", ["parent", "expert", "district_admin", "city_admin", "operator_staff", "teacher"])
def test_others_cannot_submit(city: City, science: Category, role: str) -> None:
    # Without a school they are not a submitter at all; naming school A1 they are not its admin
    actor = city.users[role]
    with nothing_changes(), pytest.raises(Forbidden) as refused:
        submit_course(city, science, actor=actor, school=None)
    assert refused.value.code == "not_a_submitter"
    with nothing_changes(), pytest.raises(NotFound):
        submit_course(city, science, actor=actor, school=city.a1)


def test_a_school_admin_cannot_submit_for_another_school(city: City, science: Category) -> None:
    teacher = f.teacher_at(city.a2).teacher_profile.pk
    with nothing_changes(), pytest.raises(NotFound):
        submit_course(city, science, actor=city.users["school_admin"], school=city.a2, teacher_ids=[teacher])


# --- fee standards --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fee", [999, 5001, 0])
def test_a_fee_outside_the_city_standard_is_refused(city: City, science: Category, fee: int) -> None:
    with nothing_changes(), pytest.raises(KehouError) as refused:
        submit_course(city, science, fee_per_hour_fen=fee)
    assert refused.value.code == "fee_out_of_standard"
    assert refused.value.fields == {"fee_per_hour_fen": fee, "min_fee_fen": 1000, "max_fee_fen": 5000}


@pytest.mark.parametrize("fee", [1000, 5000])
def test_the_bounds_of_the_standard_are_allowed(city: City, science: Category, fee: int) -> None:
    assert submit_course(city, science, fee_per_hour_fen=fee).versions.get().fee_per_hour_fen == fee


def test_a_district_standard_overrides_the_citys_for_its_own_library(city: City, science: Category) -> None:
    # Given district A allows 2000–3000 fen where the city allows 1000–5000
    FeeStandard.objects.create(
        region=city.district_a,
        category=science,
        min_fee_fen=2000,
        max_fee_fen=3000,
        teacher_pay_fen=5000,
        set_at=NOW,
    )
    # Then 4000 is refused for district A's library, with district A's bounds
    with nothing_changes(), pytest.raises(KehouError) as refused:
        submit_course(city, science, library="district", fee_per_hour_fen=4000)
    assert refused.value.fields == {"fee_per_hour_fen": 4000, "min_fee_fen": 2000, "max_fee_fen": 3000}
    # But allowed for the city library, and 2500 for district A's
    assert submit_course(city, science, fee_per_hour_fen=4000).library_region.is_city
    assert submit_course(city, science, library="district", fee_per_hour_fen=2500).library_region == city.district_a
    # And a district without its own standard falls back to the city's
    b_admin = f.UserFactory()
    f.grant(b_admin, "school_admin", school=city.b1)
    b_teacher = f.teacher_at(city.b1).teacher_profile.pk
    b = submit_course(
        city, science, library="district", fee_per_hour_fen=4000, actor=b_admin, school=city.b1, teacher_ids=[b_teacher]
    )
    assert b.library_region == city.district_b


def test_a_category_without_a_standard_is_refused(city: City) -> None:
    cat = Category.objects.create(code="chess", name="棋类", order=9)
    with nothing_changes(), pytest.raises(KehouError) as refused:
        submit_course(city, cat)
    assert refused.value.code == "no_fee_standard" and refused.value.fields == {"category": "chess"}


# --- the course's own rules -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("grades", [[], [0], [10], [3, 10], ["3"], [3.0], [True], [None]])
def test_target_grades_are_1_to_9(city: City, science: Category, grades: list[Any]) -> None:
    with nothing_changes(), pytest.raises(KehouError) as refused:
        submit_course(city, science, grades=grades)
    assert refused.value.code == "invalid_grades"


def test_materials_with_a_price_must_be_described(city: City, science: Category) -> None:
    with nothing_changes(), pytest.raises(KehouError) as refused:
        submit_course(city, science, materials_price_fen=5000)
    assert refused.value.code == "materials_undescribed"
    # Described materials may be free (no price)
    assert submit_course(city, science, materials_description="自带画笔").versions.get().materials_price_fen is None


def test_a_course_names_at_least_one_teacher(city: City, science: Category) -> None:
    with nothing_changes(), pytest.raises(KehouError) as refused:
        submit_course(city, science, teacher_ids=[])
    assert refused.value.code == "no_teacher"


def test_a_negative_materials_price_or_missing_name_is_a_validation_error(city: City, science: Category) -> None:
    for bad in ({"materials_description": "套件", "materials_price_fen": -1}, {"name": ""}):
        with nothing_changes(), pytest.raises(ValidationError):
            submit_course(city, science, **bad)


# --- teacher dossiers -----------------------------------------------------------------------------------------------
def dossier(city: City, science: Category, teacher_id: int) -> DossierFields:
    return DossierFields(
        teacher_id=teacher_id,
        category=science,
        identity_number="36010219800101001X",
        qualifications="高级教师",
        subjects="信息技术",
        background_checked_on=date(2026, 1, 5),
        background_check_result="无犯罪记录",
    )


def test_a_school_submits_a_dossier_of_its_own_teacher_only(city: City, science: Category) -> None:
    sub = submissions.submission_create(
        actor=city.users["school_admin"],
        school=city.a1,
        library="city",
        fields=dossier(city, science, own_teacher(city)),
        now=NOW,
    )
    assert sub.kind == "teacher" and sub.versions.get().teacher_id == own_teacher(city)
    other = f.teacher_at(city.a2).teacher_profile.pk
    with nothing_changes(), pytest.raises(KehouError) as refused:
        submissions.submission_create(
            actor=city.users["school_admin"],
            school=city.a1,
            library="city",
            fields=dossier(city, science, other),
            now=NOW,
        )
    assert refused.value.code == "teacher_not_yours"


# --- revisions ------------------------------------------------------------------------------------------------------
def revise(city: City, sub: Submission, science: Category, actor: Any = None, **overrides: Any) -> SubmissionVersion:
    return submissions.submission_revise(
        actor=actor or city.users["school_admin"],
        submission=sub,
        fields=course_fields(science, [own_teacher(city)], **overrides),
        note="修订",
        now=NOW,
    )


def test_a_submission_not_yet_in_review_can_be_revised_and_every_version_is_kept(city: City, science: Category) -> None:
    sub = submit_course(city, science)
    second = revise(city, sub, science, name="机器人编程 II", fee_per_hour_fen=2800)
    third = revise(city, sub, science, name="机器人编程 III", grades=[4])
    sub.refresh_from_db()
    assert (second.number, third.number, sub.version_count, sub.title) == (2, 3, 3, "机器人编程 III")
    assert list(sub.versions.values_list("number", "name", "fee_per_hour_fen", "grades")) == [
        (1, "机器人编程", 3000, [3, 4, 5]),
        (2, "机器人编程 II", 2800, [3, 4, 5]),
        (3, "机器人编程 III", 3000, [4]),
    ]
    assert third.change_note == "修订" and AuditEntry.objects.filter(action="submission.revised").count() == 2


def test_a_submission_in_review_or_decided_cannot_be_revised(city: City, science: Category) -> None:
    sub = submit_course(city, science)
    panel = draw_panel(sub, city.users["city_admin"], size=3)
    with nothing_changes(), pytest.raises(Conflict) as in_review:
        revise(city, sub, science)
    assert in_review.value.code == "not_revisable" and in_review.value.fields == {"status": "in_review"}
    from kehou.catalog.services import review

    score_all(panel)
    review.panel_decide(actor=city.users["city_admin"], panel=panel, now=NOW)  # admitted
    with nothing_changes(), pytest.raises(Conflict) as admitted:
        revise(city, sub, science)
    assert admitted.value.code == "not_revisable" and admitted.value.fields == {"status": "admitted"}


def test_a_revision_is_checked_like_a_submission_and_a_refused_one_keeps_nothing(city: City, science: Category) -> None:
    sub = submit_course(city, science)
    for bad, code in (({"fee_per_hour_fen": 9000}, "fee_out_of_standard"), ({"grades": []}, "invalid_grades")):
        with nothing_changes(), pytest.raises(KehouError) as refused:
            revise(city, sub, science, **bad)
        assert refused.value.code == code
    dossier_fields = dossier(city, science, own_teacher(city))
    with nothing_changes(), pytest.raises(KehouError) as wrong:
        submissions.submission_revise(
            actor=city.users["school_admin"], submission=sub, fields=dossier_fields, note="", now=NOW
        )
    assert wrong.value.code == "wrong_kind"


def test_only_the_submitter_revises(city: City, science: Category) -> None:
    # A school's submission: another school's admin, the district and the city cannot revise it
    sub = submit_course(city, science)
    a2_admin = f.UserFactory()
    f.grant(a2_admin, "school_admin", school=city.a2)
    for actor in (a2_admin, city.users["district_admin"], city.users["city_admin"], city.users["teacher"]):
        with nothing_changes(), pytest.raises(NotFound):
            revise(city, sub, science, actor=actor)


def test_only_the_outside_teacher_or_their_organisation_revises_theirs(city: City, science: Category) -> None:
    # Given two independent outside teachers (no organisation), and a teacher of an organisation
    me, stranger = outside_teacher(), outside_teacher()
    org_teacher = outside_teacher(organisation(city.district_a))
    sub = submissions.submission_create(
        actor=me, school=None, library="city", fields=course_fields(science, [me.teacher_profile.pk]), now=NOW
    )
    fields = course_fields(science, [me.teacher_profile.pk], name="改名")
    # Then neither the other independent teacher nor the organisation's teacher may revise it (not even to name
    # themselves as its teacher)
    for actor in (stranger, org_teacher):
        theirs = course_fields(science, [actor.teacher_profile.pk], name="改名")
        with nothing_changes(), pytest.raises(NotFound):
            submissions.submission_revise(actor=actor, submission=sub, fields=theirs, note="", now=NOW)
    # And a school admin is no outside teacher at all
    with nothing_changes(), pytest.raises(KehouError):
        submissions.submission_revise(actor=city.users["school_admin"], submission=sub, fields=fields, note="", now=NOW)
    # But they may
    assert submissions.submission_revise(actor=me, submission=sub, fields=fields, note="", now=NOW).number == 2


def test_an_organisations_colleague_may_revise_its_submission(city: City, science: Category) -> None:
    org = organisation(city.district_a)
    me, colleague = outside_teacher(org), outside_teacher(org)
    fields = course_fields(science, [me.teacher_profile.pk])
    sub = submissions.submission_create(actor=me, school=None, library="city", fields=fields, now=NOW)
    assert submissions.submission_revise(actor=colleague, submission=sub, fields=fields, note="", now=NOW).number == 2
    assert TeacherProfile.objects.filter(organisation=org).count() == 2
