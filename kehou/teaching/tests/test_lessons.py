"""Lesson preparation (备课): a teacher prepares and shares at a level; who reads is the scope's rule (the author;
the group; the school's teachers and administrators; the district for school-shared); only the author edits (new
versions); a reader copies, and the copy records origin and version; bad input changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from kehou.conftest import City, api_as, page_as
from kehou.teaching.models import LessonPlan, TeachingGroup
from kehou.testing import factories as f

pytestmark = pytest.mark.django_db
STEPS = [{"text": "导入：欣赏一段演奏", "minutes": 5}, {"text": "分组练习", "minutes": 25}]


def body(**extra: Any) -> dict[str, Any]:
    return {"title": "口风琴入门第一课", "goals": "认识口风琴的构造", "steps": STEPS, **extra}


@pytest.fixture
def people(city: City) -> Any:
    author = city.users["teacher"]  # teaches at a1
    colleague = f.teacher_at(city.a1)
    outsider = f.teacher_at(city.a2)
    r = api_as(city.users["school_admin"]).post(
        f"/api/v1/schools/{city.a1.pk}/teaching-groups",
        {"name": "艺术教研组", "teachers": [author.teacher_profile.pk]},
        format="json",
    )
    assert r.status_code == 201, r.content
    return author, colleague, outsider, TeachingGroup.objects.get()


def visible(user: Any) -> set[int]:
    return {row["id"] for row in api_as(user).get("/api/v1/teaching/lessons/").json()["results"]}


def test_sharing_levels_decide_who_reads(city: City, people: Any) -> None:
    author, colleague, outsider, group = people
    client = api_as(author)
    ids = {}
    for sharing in ("private", "group", "school"):
        extra = {"group": group.pk} if sharing == "group" else {}
        r = client.post("/api/v1/teaching/lessons/", body(sharing=sharing, school=city.a1.pk, **extra), format="json")
        assert r.status_code == 201, r.content
        ids[sharing] = r.json()["id"]
    assert visible(author) == set(ids.values())
    assert visible(colleague) == {ids["school"]}  # at the school, not in the group
    group.members.add(colleague.teacher_profile)
    assert visible(colleague) == {ids["group"], ids["school"]}
    assert visible(outsider) == set()
    assert visible(city.users["school_admin"]) == {ids["group"], ids["school"]}
    assert visible(city.users["district_admin"]) == {ids["school"]}
    assert visible(city.users["parent"]) == set() and visible(city.users["operator_staff"]) == set()
    assert api_as(outsider).get(f"/api/v1/teaching/lessons/{ids['school']}/").status_code == 404


def test_only_the_author_edits_and_a_reader_copies(city: City, people: Any) -> None:
    author, colleague, _outsider, _group = people
    r = api_as(author).post("/api/v1/teaching/lessons/", body(sharing="school", school=city.a1.pk), format="json")
    plan = r.json()["id"]
    r = api_as(author).put(
        f"/api/v1/teaching/lessons/{plan}/", body(title="第一课（修订）", sharing="school"), format="json"
    )
    assert r.status_code == 200 and r.json()["version"] == 2
    r = api_as(colleague).put(f"/api/v1/teaching/lessons/{plan}/", body(sharing="school"), format="json")
    assert r.status_code == 403 and r.json()["error"]["code"] == "not_lesson_owner"
    r = api_as(colleague).post(f"/api/v1/teaching/lessons/{plan}/copy")
    assert r.status_code == 201
    copy = r.json()
    assert copy["origin"] == plan and copy["origin_version"] == 2 and copy["sharing"] == "private"
    assert copy["title"] == "第一课（修订）" and copy["author"]
    assert LessonPlan.objects.get(pk=plan).version == 2
    # a school admin reads it but prepares and copies nothing (not a teacher)
    r = api_as(city.users["school_admin"]).post(f"/api/v1/teaching/lessons/{plan}/copy")
    assert r.status_code == 403 and r.json()["error"]["code"] == "not_teacher"


@pytest.mark.parametrize(
    "bad",
    [
        {"title": ""},
        {"goals": ""},
        {"steps": []},
        {"steps": [{"text": "x", "minutes": 0}]},
        {"steps": [{"text": "x", "minutes": 121}]},
        {"steps": [{"text": "", "minutes": 5}]},
        {"steps": [{"text": "x", "minutes": "5"}]},
        {"steps": "not a list"},
        {"sharing": "group"},  # no group
        {"sharing": "city"},
    ],
)
def test_bad_lessons_are_refused_and_nothing_is_saved(city: City, people: Any, bad: dict[str, Any]) -> None:
    author = people[0]
    r = api_as(author).post("/api/v1/teaching/lessons/", {**body(school=city.a1.pk), **bad}, format="json")
    assert r.status_code == 400
    assert not LessonPlan.objects.exists()


def test_a_school_the_teacher_does_not_teach_at_and_a_foreign_group_are_refused(city: City, people: Any) -> None:
    author, _colleague, outsider, group = people
    r = api_as(author).post("/api/v1/teaching/lessons/", body(school=city.b1.pk), format="json")
    assert r.status_code == 400 and r.json()["error"]["code"] == "lesson_invalid"
    r = api_as(outsider).post(
        "/api/v1/teaching/lessons/", body(school=city.a2.pk, sharing="group", group=group.pk), format="json"
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "lesson_invalid"
    r = api_as(city.users["district_admin"]).post(
        f"/api/v1/schools/{city.a1.pk}/teaching-groups", {"name": "x", "teachers": []}, format="json"
    )
    assert r.status_code == 403
    r = api_as(city.users["school_admin"]).post(
        f"/api/v1/schools/{city.a1.pk}/teaching-groups",
        {"name": "混组", "teachers": [outsider.teacher_profile.pk]},
        format="json",
    )
    assert r.status_code == 400 and TeachingGroup.objects.count() == 1
    assert not LessonPlan.objects.exists()


def test_the_pages_prepare_share_and_copy(city: City, people: Any) -> None:
    author, colleague, _outsider, _group = people
    page = page_as(author)
    r = page.post(
        "/teach/lessons/",
        {
            "title": "合奏排练",
            "school": city.a1.pk,
            "goals": "两声部合奏",
            "steps": "热身 | 5\n分声部练习 | 20\n合奏 | 15",
            "sharing": "school",
        },
    )
    assert r.status_code == 302
    plan = LessonPlan.objects.get()
    assert plan.steps[1] == {"text": "分声部练习", "minutes": 20}
    r = page.post("/teach/lessons/", {"title": "x", "school": city.a1.pk, "goals": "y", "steps": "没有分钟"})
    assert r.status_code == 200 and LessonPlan.objects.count() == 1
    other = page_as(colleague)
    shown = other.get("/teach/lessons/")
    assert "合奏排练".encode() in shown.content and b"data-shared-lessons" in shown.content
    r = other.post(f"/teach/lessons/{plan.pk}/", {"action": "copy"})
    assert r.status_code == 302
    copy = LessonPlan.objects.exclude(pk=plan.pk).get()
    assert copy.origin == plan and copy.owner == colleague
    assert b"data-edit-lesson" not in other.get(f"/teach/lessons/{plan.pk}/").content


# --- the fourth level: a district or city library, reviewed like courses ------------------------------------------


def test_a_lesson_submitted_to_the_district_library_is_reviewed_and_then_copied_by_anyone(city: City) -> None:
    from kehou.catalog.models import Submission
    from kehou.catalog.services import review
    from kehou.catalog.tests.factories import draw_panel, score_all, setup_catalog

    cat = setup_catalog(experts=5)
    art = cat["categories"]["art"] if "art" in cat["categories"] else next(iter(cat["categories"].values()))
    author = city.users["teacher"]
    plan = api_as(author).post("/api/v1/teaching/lessons/", body(sharing="school", school=city.a1.pk), format="json")
    plan_id = plan.json()["id"]
    url = f"/api/v1/teaching/lessons/{plan_id}/submit"
    # only its author submits; a colleague who reads it cannot
    colleague = f.teacher_at(city.a1)
    r = api_as(colleague).post(url, {"library": "district", "category": art.pk}, format="json")
    assert r.status_code == 403 and r.json()["error"]["code"] == "not_lesson_owner"
    r = api_as(author).post(url, {"library": "district", "category": 0}, format="json")
    assert r.status_code == 400 and r.json()["error"]["code"] == "lesson_invalid"
    assert not Submission.objects.exists()
    r = api_as(author).post(url, {"library": "district", "category": art.pk}, format="json")
    assert r.status_code == 200, r.content
    sub = r.json()["submission"]
    assert sub["status"] == "submitted" and sub["library"] == city.district_a.code
    submission = Submission.objects.get(pk=sub["id"])
    assert submission.kind == "lesson" and submission.submitter_school_id == city.a1.pk
    # the district bureau reviews it like a course, through the catalog's own API
    detail = api_as(city.users["district_admin"]).get(f"/api/v1/submissions/{submission.pk}/")
    assert detail.status_code == 200
    assert detail.json()["versions"][-1]["lesson"]["steps"] == STEPS
    # a returned lesson is submitted again from the teaching platform: a new version of the same submission
    panel = draw_panel(submission, city.users["district_admin"], size=3)
    r = api_as(author).post(url, {"library": "district", "category": art.pk}, format="json")
    assert r.status_code == 409 and r.json()["error"]["code"] == "lesson_in_review"
    score_all(panel)
    review.panel_decide(actor=city.users["district_admin"], panel=panel, now=submission.created_at)
    submission.refresh_from_db()
    assert submission.status == "admitted"
    # admitted: every teacher of the city reads and copies it (a teacher of another district too)
    stranger = f.teacher_at(city.b1)
    listed = api_as(stranger).get("/api/v1/teaching/library-lessons/").json()["results"]
    assert [x["title"] for x in listed] == ["口风琴入门第一课"] and listed[0]["steps"] == STEPS
    r = api_as(stranger).post(f"/api/v1/teaching/library-lessons/{listed[0]['id']}/copy")
    assert r.status_code == 201, r.content
    copy = r.json()
    assert copy["origin"] == plan_id and copy["origin_version"] == 1 and copy["origin_item"] == listed[0]["id"]
    assert copy["sharing"] == "private" and copy["school"] == city.b1.pk
    # a parent reads the library but copies nothing
    r = api_as(city.users["parent"]).post(f"/api/v1/teaching/library-lessons/{listed[0]['id']}/copy")
    assert r.status_code == 403 and r.json()["error"]["code"] == "not_teacher"


def test_a_lesson_cannot_be_revised_through_the_catalog(city: City) -> None:
    from kehou.catalog.tests.factories import setup_catalog

    cat = setup_catalog(experts=3)
    category = next(iter(cat["categories"].values()))
    author = city.users["teacher"]
    plan_id = api_as(author).post("/api/v1/teaching/lessons/", body(school=city.a1.pk), format="json").json()["id"]
    r = api_as(author).post(
        f"/api/v1/teaching/lessons/{plan_id}/submit", {"library": "city", "category": category.pk}, format="json"
    )
    sub = r.json()["submission"]["id"]
    r = api_as(author).post(f"/api/v1/submissions/{sub}/revise", {"note": "x"}, format="json")
    assert r.status_code == 400 and r.json()["error"]["code"] == "wrong_kind"
    assert LessonPlan.objects.get(pk=plan_id).submission.version_count == 1
    # the submission page's revise link leads back to the lesson
    r = page_as(author).get(f"/submissions/{sub}/revise/")
    assert r.status_code == 302 and r["Location"] == f"/teach/lessons/{plan_id}/"


def test_submitting_again_before_review_adds_a_version_with_the_lesson_as_it_is_now(city: City) -> None:
    from kehou.catalog.models import Submission
    from kehou.catalog.tests.factories import setup_catalog

    category = next(iter(setup_catalog(experts=3)["categories"].values()))
    author = city.users["teacher"]
    client = api_as(author)
    plan_id = client.post("/api/v1/teaching/lessons/", body(school=city.a1.pk), format="json").json()["id"]
    url = f"/api/v1/teaching/lessons/{plan_id}/submit"
    first = client.post(url, {"library": "district", "category": category.pk}, format="json").json()["submission"]
    client.put(f"/api/v1/teaching/lessons/{plan_id}/", body(title="第一课（修订）"), format="json")
    r = client.post(url, {"library": "district", "category": category.pk, "note": "改了标题"}, format="json")
    assert r.status_code == 200, r.content
    again = r.json()["submission"]
    assert again["id"] == first["id"] and again["version"] == 2
    sub = Submission.objects.get(pk=first["id"])
    assert sub.title == "第一课（修订）" and sub.versions.get(number=2).content["source_version"] == 2
    assert Submission.objects.count() == 1
