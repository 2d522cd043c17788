"""API of the city bureau, the district bureaus and the school admins: review queue, panels (draw, verify, decide),
libraries (list, detail, adopt, pick, status), filings and standards. Each endpoint: the happy path, and other
roles refused with nothing changed."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from kehou.catalog import draw
from kehou.catalog.models import (
    Category,
    FeeStandard,
    Filing,
    LibraryEntry,
    Panel,
    PanelMember,
    ReviewPolicy,
    Submission,
)
from kehou.catalog.services import libraries, review, submissions
from kehou.catalog.tests.factories import setup_catalog
from kehou.conftest import City, api_as
from kehou.core.errors import KehouError
from kehou.core.models import AuditEntry
from kehou.orgs.models import School
from kehou.people.models import Role, TeacherProfile, User
from kehou.testing import factories as f

pytestmark = pytest.mark.django_db

SHEET = {str(n): 9 for n in range(1, 21)}


# --- helpers (also used by test_pages_admin) --------------------------------------------------------------------
def state() -> dict[str, Any]:
    """Everything a denied request must leave as it was."""
    return {
        "submissions": sorted(Submission.objects.values_list("pk", "status", "version_count")),
        "panels": sorted(Panel.objects.values_list("pk", "status")),
        "members": PanelMember.objects.count(),
        "entries": sorted(LibraryEntry.objects.values_list("pk", "status")),
        "filings": sorted(Filing.objects.values_list("pk", "status")),
        "fees": sorted(FeeStandard.objects.values_list("pk", "min_fee_fen", "max_fee_fen", "teacher_pay_fen")),
        "policies": sorted(ReviewPolicy.objects.values_list("pk", "panel_size", "admit_threshold_bp")),
        "audit": AuditEntry.objects.count(),
    }


def submit(
    city: City, category: Category, *, library: str = "city", school: School | None = None, name: str = "机器人编程"
) -> Submission:
    """A course submitted by a school (A1 unless told) for its own staff teacher."""
    school = school or city.a1
    if school == city.a1:
        admin, teacher = city.users["school_admin"], TeacherProfile.objects.get(user=city.users["teacher"])
    else:
        admin = f.UserFactory()
        f.grant(admin, Role.SCHOOL_ADMIN, school=school)
        teacher = TeacherProfile.objects.get(user=f.teacher_at(school))
    return submissions.submission_create(
        actor=admin,
        school=school,
        library=library,
        now=timezone.now(),
        fields=submissions.CourseFields(
            name=name,
            category=category,
            introduction="用积木机器人学编程",
            grades=[3, 4, 5],
            minutes_per_hour=45,
            hours_per_term=16,
            fee_per_hour_fen=3000,
            teacher_ids=[teacher.pk],
        ),
    )


def scored_panel(submission: Submission, admin: User, *, seed: str = "seed-1") -> Panel:
    panel = review.panel_draw(actor=admin, submission=submission, now=timezone.now(), seed=seed)
    for member in panel.members.select_related("expert__user"):
        review.score_submit(
            actor=member.expert.user,
            member=member,
            item_scores=SHEET,
            vetoed_items=[],
            comment="好",
            now=timezone.now(),
        )
    return panel


def admitted(city: City, category: Category, *, library: str = "city", name: str = "机器人编程") -> LibraryEntry:
    sub = submit(city, category, library=library, name=name)
    admin = city.users["city_admin"] if library == "city" else city.users["district_admin"]
    panel = scored_panel(sub, admin)
    review.panel_decide(actor=admin, panel=panel, now=timezone.now())
    return LibraryEntry.objects.get(item__submission=sub)


def district_b_entry(city: City, category: Category) -> LibraryEntry:
    """A course of school B1 admitted into district B's library."""
    sub = submit(city, category, library="district", school=city.b1, name="西湖足球")
    admin = f.UserFactory()
    f.grant(admin, Role.DISTRICT_ADMIN, district=city.district_b)
    panel = scored_panel(sub, admin)
    review.panel_decide(actor=admin, panel=panel, now=timezone.now())
    return LibraryEntry.objects.get(item__submission=sub)


def error_code(response: Any) -> str:
    return response.json()["error"]["code"]


@pytest.fixture
def cat(city: City) -> dict[str, Any]:
    return setup_catalog()


# --- review queue --------------------------------------------------------------------------------------------
def test_review_queue_is_scoped_to_the_bureaus(city, cat):
    science = cat["categories"]["science"]
    to_city = submit(city, science)
    to_district_a = submit(city, science, library="district", name="东湖书法")
    to_district_b = submit(city, science, library="district", school=city.b1, name="西湖足球")
    # The city bureau follows every submission
    ids = {s["id"] for s in api_as(city.users["city_admin"]).get("/api/v1/review/submissions/").json()["results"]}
    assert ids == {to_city.pk, to_district_a.pk, to_district_b.pk}
    # A district bureau: its own library's and its schools' submissions to the city, not district B's
    rows = api_as(city.users["district_admin"]).get("/api/v1/review/submissions/").json()["results"]
    assert {s["id"] for s in rows} == {to_city.pk, to_district_a.pk}
    may_draw = {s["id"]: s["may_draw"] for s in rows}
    assert may_draw == {to_city.pk: False, to_district_a.pk: True}
    # Filters
    city_api = api_as(city.users["city_admin"])
    only_city = city_api.get("/api/v1/review/submissions/", {"library": cat["city"].code}).json()["results"]
    assert [s["id"] for s in only_city] == [to_city.pk]
    assert city_api.get("/api/v1/review/submissions/", {"status": "in_review"}).json()["count"] == 0
    assert city_api.get("/api/v1/review/submissions/", {"search": "书法"}).json()["count"] == 1
    # Other roles have no review queue
    for role in ("school_admin", "teacher", "expert", "parent", "operator_staff"):
        assert api_as(city.users[role]).get("/api/v1/review/submissions/").json()["count"] == 0, role


# --- draw ----------------------------------------------------------------------------------------------------
def test_city_draws_a_panel_with_seed_pool_and_named_members(city, cat):
    sub = submit(city, cat["categories"]["science"])
    response = api_as(city.users["city_admin"]).post(f"/api/v1/review/submissions/{sub.pk}/draw", {}, format="json")
    assert response.status_code == 201, response.content
    panel = response.json()
    assert len(panel["seed"]) == 32
    # The pool: the 8 science experts and the fixture's own expert, all of speciality 科技
    assert panel["pool"] == sorted(panel["pool"]) and len(panel["pool"]) == 9
    members = panel["members"]
    assert [m["draw_position"] for m in members] == [0, 1, 2, 3, 4]
    assert [m["expert"]["id"] for m in members] == draw.first(panel["seed"], panel["pool"], 5)
    assert all(m["expert"]["name"] for m in members)
    assert panel["scored"] == {"scored": 0, "size": 5}
    sub.refresh_from_db()
    assert sub.status == Submission.Status.IN_REVIEW


def test_draw_takes_a_size_and_refuses_a_panel_that_cannot_be_filled(city, cat):
    sub = submit(city, cat["categories"]["science"])
    admin = api_as(city.users["city_admin"])
    before = state()
    too_big = admin.post(f"/api/v1/review/submissions/{sub.pk}/draw", {"size": 10}, format="json")
    assert too_big.status_code == 409 and error_code(too_big) == "panel_unfillable"
    assert too_big.json()["error"]["fields"] == {"eligible": 9, "needed": 10}
    zero = admin.post(f"/api/v1/review/submissions/{sub.pk}/draw", {"size": 0}, format="json")
    assert zero.status_code == 400
    assert state() == before
    three = admin.post(f"/api/v1/review/submissions/{sub.pk}/draw", {"size": 3}, format="json")
    assert three.status_code == 201 and len(three.json()["members"]) == 3
    again = admin.post(f"/api/v1/review/submissions/{sub.pk}/draw", {}, format="json")
    assert again.status_code == 409 and error_code(again) == "not_awaiting_review"


def test_draw_is_refused_to_other_bureaus_and_roles(city, cat):
    science = cat["categories"]["science"]
    to_city = submit(city, science)
    to_b = submit(city, science, library="district", school=city.b1, name="西湖足球")
    before = state()
    # The district bureau follows its school's city submission but the city library's panel is the city's
    refused = api_as(city.users["district_admin"]).post(f"/api/v1/review/submissions/{to_city.pk}/draw")
    assert refused.status_code == 403 and error_code(refused) == "not_city_admin"
    # Another district's submission is not there at all
    hidden = api_as(city.users["district_admin"]).post(f"/api/v1/review/submissions/{to_b.pk}/draw")
    assert hidden.status_code == 404 and error_code(hidden) == "not_found"
    for role in ("teacher", "expert", "parent", "operator_staff", "nobody"):
        assert api_as(city.users[role]).post(f"/api/v1/review/submissions/{to_city.pk}/draw").status_code == 404
    assert state() == before


def test_district_bureau_draws_for_its_own_library(city, cat):
    sub = submit(city, cat["categories"]["science"], library="district", name="东湖书法")
    response = api_as(city.users["district_admin"]).post(f"/api/v1/review/submissions/{sub.pk}/draw")
    assert response.status_code == 201
    assert response.json()["region"]["code"] == city.district_a.code


# --- panel, verify, decide -----------------------------------------------------------------------------------
def test_panel_detail_shows_names_and_scores_to_the_bureau_only(city, cat):
    sub = submit(city, cat["categories"]["science"])
    panel = scored_panel(sub, city.users["city_admin"])
    url = f"/api/v1/panels/{panel.pk}/"
    bureau = api_as(city.users["city_admin"]).get(url).json()
    assert bureau["seed"] == "seed-1" and bureau["scored"] == {"scored": 5, "size": 5}
    assert all(m["expert"]["name"] and m["score"]["comment"] == "好" for m in bureau["members"])
    assert bureau["members"][0]["score"]["item_scores"] == SHEET
    assert bureau["may_decide"] is True and bureau["decision"] is None
    # The submitting school sees the seats, without names and, before the decision, without scores
    school = api_as(city.users["school_admin"]).get(url).json()
    assert all(m["expert"] is None and m["score"] is None and m["scored"] for m in school["members"])
    assert school["may_decide"] is False
    # After the decision the totals and comments are shown, still without names
    review.panel_decide(actor=city.users["city_admin"], panel=panel, now=timezone.now())
    school = api_as(city.users["school_admin"]).get(url).json()
    assert school["decision"]["outcome"] == "admitted"
    assert all(m["expert"] is None and m["score"]["total_bp"] == 9000 for m in school["members"])
    assert "item_scores" not in school["members"][0]["score"]
    assert school["library_entry"] == LibraryEntry.objects.get(item__submission=sub).pk


def test_panel_of_another_district_is_not_found(city, cat):
    sub = submit(city, cat["categories"]["science"], library="district", school=city.b1, name="西湖足球")
    admin_b = f.UserFactory()
    f.grant(admin_b, Role.DISTRICT_ADMIN, district=city.district_b)
    panel = review.panel_draw(actor=admin_b, submission=sub, now=timezone.now())
    for role in ("district_admin", "school_admin", "teacher", "parent", "nobody"):
        for url in (f"/api/v1/panels/{panel.pk}/", f"/api/v1/panels/{panel.pk}/verify"):
            assert api_as(city.users[role]).get(url).status_code == 404, (role, url)
    assert api_as(admin_b).get(f"/api/v1/panels/{panel.pk}/").status_code == 200


def test_verify_re_runs_the_draw(city, cat):
    sub = submit(city, cat["categories"]["science"])
    panel = review.panel_draw(actor=city.users["city_admin"], submission=sub, now=timezone.now(), seed="abc")
    body = api_as(city.users["city_admin"]).get(f"/api/v1/panels/{panel.pk}/verify").json()
    assert body["seed"] == "abc" and body["pool"] == panel.pool and body["reproduced"] is True
    assert body["order"] == draw.draw_order("abc", panel.pool)
    assert body["members"] == body["order"][:5]
    # Tampering with the recorded seat is detected
    PanelMember.objects.filter(panel=panel, draw_position=0).update(expert_id=body["order"][6])
    assert api_as(city.users["city_admin"]).get(f"/api/v1/panels/{panel.pk}/verify").json()["reproduced"] is False


def test_decide_waits_for_every_score_then_decides_once(city, cat):
    sub = submit(city, cat["categories"]["science"])
    admin = api_as(city.users["city_admin"])
    panel = review.panel_draw(actor=city.users["city_admin"], submission=sub, now=timezone.now())
    early = admin.post(f"/api/v1/panels/{panel.pk}/decide")
    assert early.status_code == 409 and error_code(early) == "not_all_scored"
    for member in panel.members.select_related("expert__user"):
        review.score_submit(
            actor=member.expert.user,
            member=member,
            item_scores=SHEET,
            vetoed_items=[],
            comment="好",
            now=timezone.now(),
        )
    first = admin.post(f"/api/v1/panels/{panel.pk}/decide")
    second = api_as(city.users["superuser"]).post(f"/api/v1/panels/{panel.pk}/decide")
    assert first.status_code == 200
    assert first.json()["outcome"] == "admitted" and first.json()["mean_bp"] == 9000
    assert first.json()["reasons"]["rule"] == "mean_at_or_above_admit_threshold"
    assert second.status_code == 409 and error_code(second) == "already_decided"
    assert Panel.objects.get(pk=panel.pk).status == Panel.Status.DECIDED
    assert LibraryEntry.objects.filter(item__submission=sub).count() == 1


def test_decide_is_refused_to_others(city, cat):
    sub = submit(city, cat["categories"]["science"])
    panel = scored_panel(sub, city.users["city_admin"])
    before = state()
    refused = api_as(city.users["district_admin"]).post(f"/api/v1/panels/{panel.pk}/decide")
    assert refused.status_code == 403 and error_code(refused) == "not_city_admin"
    assert api_as(city.users["school_admin"]).post(f"/api/v1/panels/{panel.pk}/decide").status_code == 403
    for role in ("teacher", "parent", "operator_staff", "nobody"):
        assert api_as(city.users[role]).post(f"/api/v1/panels/{panel.pk}/decide").status_code == 404, role
    assert state() == before


# --- libraries -----------------------------------------------------------------------------------------------
def test_library_list_shows_the_derived_fields_and_filters(city, cat):
    science, arts = cat["categories"]["science"], cat["categories"]["arts"]
    for _ in range(5):
        f.expert(["艺术"])
    robots = admitted(city, science)
    admitted(city, arts, name="版画")
    body = api_as(city.users["school_admin"]).get("/api/v1/library/").json()
    assert body["count"] == 2
    row = next(r for r in body["results"] if r["id"] == robots.pk)
    assert row["level"] == "city" and row["status"] == "active" and row["usable"] is True
    item = row["item"]
    assert item["name"] == "机器人编程" and item["kind"] == "course" and item["category"]["code"] == "science"
    assert item["fee_per_hour_fen"] == 3000
    assert item["provider"] == {"kind": "school", "id": city.a1.pk, "name": city.a1.name}
    assert [t["name"] for t in item["teachers"]] == [city.users["teacher"].full_name]
    assert row["upstream"] is None
    client = api_as(city.users["city_admin"])
    assert client.get("/api/v1/library/", {"category": "arts"}).json()["count"] == 1
    assert client.get("/api/v1/library/", {"search": "机器"}).json()["count"] == 1
    assert client.get("/api/v1/library/", {"level": "district"}).json()["count"] == 0
    assert client.get("/api/v1/library/", {"kind": "teacher"}).json()["count"] == 0
    libraries.library_set_status(
        actor=city.users["city_admin"], entry=robots, status="suspended", reason="复查", now=timezone.now()
    )
    assert [r["id"] for r in client.get("/api/v1/library/", {"usable": "no"}).json()["results"]] == [robots.pk]
    assert client.get("/api/v1/library/", {"status": "suspended"}).json()["count"] == 1


def test_library_scope_district_and_school_levels(city, cat):
    science = cat["categories"]["science"]
    city_entry = admitted(city, science)
    district_a = libraries.library_adopt(
        actor=city.users["district_admin"], district=city.district_a, city_entry=city_entry, now=timezone.now()
    )
    school_a1 = libraries.library_pick(
        actor=city.users["school_admin"], school=city.a1, entry=district_a, now=timezone.now()
    )
    b_entry = district_b_entry(city, science)
    district = api_as(city.users["district_admin"])
    ids = {r["id"] for r in district.get("/api/v1/library/").json()["results"]}
    assert ids == {city_entry.pk, district_a.pk, school_a1.pk}
    assert b_entry.pk not in ids
    by_district = district.get("/api/v1/library/", {"district": city.district_a.code}).json()["results"]
    assert {r["id"] for r in by_district} == {district_a.pk, school_a1.pk}
    by_school = district.get("/api/v1/library/", {"school": city.a1.pk}).json()["results"]
    assert [r["id"] for r in by_school] == [school_a1.pk]
    assert by_school[0]["upstream"]["id"] == district_a.pk
    assert district.get(f"/api/v1/library/{b_entry.pk}/").status_code == 404
    assert api_as(city.users["school_admin"]).get(f"/api/v1/library/{b_entry.pk}/").status_code == 404
    assert api_as(city.users["city_admin"]).get(f"/api/v1/library/{b_entry.pk}/").status_code == 200


def test_library_detail_has_the_status_history(city, cat):
    entry = admitted(city, cat["categories"]["science"])
    libraries.library_set_status(
        actor=city.users["city_admin"], entry=entry, status="suspended", reason="复查", now=timezone.now()
    )
    body = api_as(city.users["school_admin"]).get(f"/api/v1/library/{entry.pk}/").json()
    assert body["status"] == "suspended" and body["usable"] is False
    assert [(e["from_status"], e["to_status"], e["reason"]) for e in body["events"]] == [
        ("active", "suspended", "复查")
    ]
    assert body["events"][0]["actor"] == city.users["city_admin"].full_name


def test_district_adopts_a_city_entry_and_files_it(city, cat):
    entry = admitted(city, cat["categories"]["science"])
    client = api_as(city.users["district_admin"])
    response = client.post(f"/api/v1/library/{entry.pk}/adopt", {}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["level"] == "district" and body["region"]["code"] == city.district_a.code
    assert body["upstream"]["id"] == entry.pk and body["source"] == "adopted"
    filing = Filing.objects.get(entry_id=body["id"])
    assert filing.status == "filed" and filing.district == city.district_a and filing.change == "added"
    again = client.post(f"/api/v1/library/{entry.pk}/adopt", {"district": city.district_a.code}, format="json")
    assert again.status_code == 409 and error_code(again) == "already_in_library"


def test_adopt_is_refused_to_other_districts_and_roles(city, cat):
    entry = admitted(city, cat["categories"]["science"])
    before = state()
    other = api_as(city.users["district_admin"]).post(
        f"/api/v1/library/{entry.pk}/adopt", {"district": city.district_b.code}, format="json"
    )
    assert other.status_code == 404
    school = api_as(city.users["school_admin"]).post(
        f"/api/v1/library/{entry.pk}/adopt", {"district": city.district_a.code}, format="json"
    )
    assert school.status_code == 404
    no_district = api_as(city.users["school_admin"]).post(f"/api/v1/library/{entry.pk}/adopt")
    assert no_district.status_code == 400 and error_code(no_district) == "district_required"
    for role in ("nobody",):
        assert api_as(city.users[role]).post(f"/api/v1/library/{entry.pk}/adopt").status_code == 404
    assert state() == before


def test_school_picks_from_its_district_library(city, cat):
    entry = admitted(city, cat["categories"]["science"])
    district_a = libraries.library_adopt(
        actor=city.users["district_admin"], district=city.district_a, city_entry=entry, now=timezone.now()
    )
    response = api_as(city.users["school_admin"]).post(f"/api/v1/library/{district_a.pk}/pick", {}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["level"] == "school" and body["school"]["id"] == city.a1.pk and body["usable"] is True
    assert Filing.objects.filter(entry_id=body["id"], school=city.a1, status="filed").exists()


def test_school_picking_from_another_districts_library_is_refused(city, cat):
    b_entry = district_b_entry(city, cat["categories"]["science"])
    city_entry = admitted(city, cat["categories"]["science"], name="版画")
    # An admin of schools in both districts sees district B's library, but school A1 may not pick from it
    both = f.UserFactory()
    f.grant(both, Role.SCHOOL_ADMIN, school=city.a1)
    f.grant(both, Role.SCHOOL_ADMIN, school=city.b1)
    before = state()
    refused = api_as(both).post(f"/api/v1/library/{b_entry.pk}/pick", {"school": city.a1.pk}, format="json")
    assert refused.status_code == 400 and error_code(refused) == "entry_not_available"
    # A district school picks from its district's library, not from the city's
    from_city = api_as(city.users["school_admin"]).post(f"/api/v1/library/{city_entry.pk}/pick")
    assert from_city.status_code == 400 and error_code(from_city) == "entry_not_available"
    # School A1's own admin does not even see district B's library
    hidden = api_as(city.users["school_admin"]).post(f"/api/v1/library/{b_entry.pk}/pick")
    assert hidden.status_code == 404
    # Nor may anyone pick for a school that is not theirs
    other = api_as(city.users["school_admin"]).post(
        f"/api/v1/library/{city_entry.pk}/pick", {"school": city.b1.pk}, format="json"
    )
    assert other.status_code == 404
    assert state() == before


def test_city_managed_school_picks_from_the_city_library(city, cat):
    city_entry = admitted(city, cat["categories"]["science"])
    School.objects.filter(pk=city.a1.pk).update(authority=School.Authority.CITY_BUREAU)
    response = api_as(city.users["school_admin"]).post(f"/api/v1/library/{city_entry.pk}/pick")
    assert response.status_code == 201
    assert response.json()["upstream"]["level"] == "city"


def test_status_change_stops_use_downstream_and_is_audited(city, cat):
    entry = admitted(city, cat["categories"]["science"])
    district_a = libraries.library_adopt(
        actor=city.users["district_admin"], district=city.district_a, city_entry=entry, now=timezone.now()
    )
    school_a1 = libraries.library_pick(
        actor=city.users["school_admin"], school=city.a1, entry=district_a, now=timezone.now()
    )
    client = api_as(city.users["city_admin"])
    before = state()
    no_reason = client.post(f"/api/v1/library/{entry.pk}/status", {"status": "suspended"}, format="json")
    assert no_reason.status_code == 400 and error_code(no_reason) == "reason_required"
    bad = client.post(f"/api/v1/library/{entry.pk}/status", {"status": "gone", "reason": "x"}, format="json")
    assert bad.status_code == 400 and error_code(bad) == "invalid_status"
    assert state() == before
    response = client.post(
        f"/api/v1/library/{entry.pk}/status", {"status": "suspended", "reason": "复查"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["downstream_affected"] == 2
    assert response.json()["entry"]["status"] == "suspended"
    school_view = api_as(city.users["school_admin"]).get(f"/api/v1/library/{school_a1.pk}/").json()
    assert school_view["status"] == "active" and school_view["usable"] is False
    assert AuditEntry.objects.filter(action="library.status_changed", object_id=str(entry.pk)).exists()
    # Withdrawn is final
    client.post(f"/api/v1/library/{entry.pk}/status", {"status": "withdrawn", "reason": "停办"}, format="json")
    final = client.post(f"/api/v1/library/{entry.pk}/status", {"status": "active", "reason": "恢复"}, format="json")
    assert final.status_code == 409 and error_code(final) == "entry_withdrawn"


def test_status_change_is_refused_to_other_levels_and_districts(city, cat):
    entry = admitted(city, cat["categories"]["science"])
    b_entry = district_b_entry(city, cat["categories"]["science"])
    before = state()
    body = {"status": "suspended", "reason": "复查"}
    city_level = api_as(city.users["district_admin"]).post(f"/api/v1/library/{entry.pk}/status", body, format="json")
    assert city_level.status_code == 403 and error_code(city_level) == "not_city_admin"
    other = api_as(city.users["district_admin"]).post(f"/api/v1/library/{b_entry.pk}/status", body, format="json")
    assert other.status_code == 404
    for role in ("school_admin", "teacher", "parent"):
        response = api_as(city.users[role]).post(f"/api/v1/library/{b_entry.pk}/status", body, format="json")
        assert response.status_code == 404, role
    assert state() == before


# --- filings -------------------------------------------------------------------------------------------------
def test_filings_are_listed_in_scope_and_acknowledged_once(city, cat):
    entry = admitted(city, cat["categories"]["science"])
    district_a = libraries.library_adopt(
        actor=city.users["district_admin"], district=city.district_a, city_entry=entry, now=timezone.now()
    )
    b_entry = district_b_entry(city, cat["categories"]["science"])
    admin_b = f.UserFactory()
    f.grant(admin_b, Role.DISTRICT_ADMIN, district=city.district_b)
    libraries.library_set_status(actor=admin_b, entry=b_entry, status="suspended", reason="整改", now=timezone.now())
    filing_a = Filing.objects.get(entry=district_a)
    filing_b = Filing.objects.get(entry=b_entry)
    city_api = api_as(city.users["city_admin"])
    assert {r["id"] for r in city_api.get("/api/v1/filings/").json()["results"]} == {filing_a.pk, filing_b.pk}
    only_b = city_api.get("/api/v1/filings/", {"district": city.district_b.code}).json()["results"]
    assert [(r["id"], r["change"], r["entry"]["item"]) for r in only_b] == [(filing_b.pk, "suspended", "西湖足球")]
    district_rows = api_as(city.users["district_admin"]).get("/api/v1/filings/").json()["results"]
    assert [r["id"] for r in district_rows] == [filing_a.pk]
    # The district cannot acknowledge, even its own; nothing changes
    before = state()
    assert api_as(city.users["district_admin"]).post(f"/api/v1/filings/{filing_a.pk}/acknowledge").status_code == 404
    assert api_as(city.users["district_admin"]).post(f"/api/v1/filings/{filing_b.pk}/acknowledge").status_code == 404
    assert api_as(city.users["school_admin"]).post(f"/api/v1/filings/{filing_a.pk}/acknowledge").status_code == 404
    assert state() == before
    # The city acknowledges once; the second time is a conflict
    first = city_api.post(f"/api/v1/filings/{filing_a.pk}/acknowledge")
    assert first.status_code == 200
    assert first.json()["status"] == "acknowledged" and first.json()["acknowledged_by"]
    second = city_api.post(f"/api/v1/filings/{filing_a.pk}/acknowledge")
    assert second.status_code == 409 and error_code(second) == "already_acknowledged"
    assert city_api.get("/api/v1/filings/", {"status": "filed"}).json()["count"] == 1


# --- standards -----------------------------------------------------------------------------------------------
def test_categories_and_quality_standards(city, cat):
    client = api_as(city.users["expert"])
    categories = client.get("/api/v1/categories/").json()
    assert [c["code"] for c in categories][:2] == ["science", "sports"]
    items = client.get("/api/v1/quality-standards/").json()
    assert len(items) == 20 and items[0]["is_veto"] is True and items[0]["weight"] == 5


def test_fee_standards_city_and_district_override(city, cat):
    city_api = api_as(city.users["city_admin"])
    body = {"category": "science", "min_fee_fen": 1500, "max_fee_fen": 4000, "teacher_pay_fen": 7000}
    response = city_api.post("/api/v1/fee-standards/", body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["region"]["kind"] == "city" and response.json()["max_fee_fen"] == 4000
    district = api_as(city.users["district_admin"])
    override = district.post("/api/v1/fee-standards/", body | {"max_fee_fen": 2500}, format="json")
    assert override.status_code == 200 and override.json()["region"]["code"] == city.district_a.code
    assert AuditEntry.objects.filter(action="fee_standard.set", district_id=city.district_a.pk).exists()
    rows = district.get("/api/v1/fee-standards/", {"category": "science"}).json()
    assert {(r["region"]["code"], r["max_fee_fen"]) for r in rows} == {("360100", 4000), (city.district_a.code, 2500)}
    # A course of 30 yuan an hour now fits the city's library but not district A's
    before = state()
    with pytest.raises(KehouError) as refused:
        submit(city, cat["categories"]["science"], library="district", name="贵课程")
    assert refused.value.code == "fee_out_of_standard"
    assert state() == before
    assert submit(city, cat["categories"]["science"], library="city", name="贵课程").status == "submitted"


def test_fee_standard_refusals(city, cat):
    before = state()
    district = api_as(city.users["district_admin"])
    body = {"category": "science", "min_fee_fen": 500, "max_fee_fen": 4000, "teacher_pay_fen": 7000}
    looser = district.post("/api/v1/fee-standards/", body, format="json")
    assert looser.status_code == 400 and error_code(looser) == "outside_city_standard"
    upside_down = district.post("/api/v1/fee-standards/", body | {"min_fee_fen": 4500}, format="json")
    assert upside_down.status_code == 400 and error_code(upside_down) == "invalid_fee_range"
    negative = district.post("/api/v1/fee-standards/", body | {"min_fee_fen": -1}, format="json")
    assert negative.status_code == 400 and error_code(negative) == "invalid_fee_standard"
    unknown = district.post("/api/v1/fee-standards/", body | {"category": "astrology"}, format="json")
    assert unknown.status_code == 400 and error_code(unknown) == "unknown_category"
    city_level = district.post(
        "/api/v1/fee-standards/", body | {"region": "360100", "min_fee_fen": 1000}, format="json"
    )
    assert city_level.status_code == 403 and error_code(city_level) == "not_city_admin"
    other = district.post(
        "/api/v1/fee-standards/", body | {"region": city.district_b.code, "min_fee_fen": 1000}, format="json"
    )
    assert other.status_code == 404
    school = api_as(city.users["school_admin"]).post(
        "/api/v1/fee-standards/", body | {"region": city.district_a.code, "min_fee_fen": 1000}, format="json"
    )
    assert school.status_code == 404
    stray = district.post("/api/v1/fee-standards/", body | {"name": "改名"}, format="json")
    assert stray.status_code == 400 and error_code(stray) == "unknown_field"
    assert state() == before


def test_fee_standards_are_listed_for_the_viewers_own_districts(city, cat):
    science = cat["categories"]["science"]
    FeeStandard.objects.create(
        region=city.district_b,
        category=science,
        min_fee_fen=1000,
        max_fee_fen=2000,
        teacher_pay_fen=5000,
        set_at=timezone.now(),
    )
    rows = api_as(city.users["district_admin"]).get("/api/v1/fee-standards/").json()
    assert {r["region"]["kind"] for r in rows} == {"city"}
    assert len(api_as(city.users["city_admin"]).get("/api/v1/fee-standards/").json()) == 7
    assert api_as(city.users["nobody"]).get("/api/v1/fee-standards/").json() == []


def test_review_policies(city, cat):
    city_api = api_as(city.users["city_admin"])
    response = city_api.post(
        "/api/v1/review-policies/",
        {"panel_size": 7, "admit_threshold_bp": 8000, "return_threshold_bp": 6000},
        format="json",
    )
    assert response.status_code == 200 and response.json()["panel_size"] == 7
    district = api_as(city.users["district_admin"])
    before = state()
    looser = district.post(
        "/api/v1/review-policies/",
        {"panel_size": 3, "admit_threshold_bp": 7000, "return_threshold_bp": 6000},
        format="json",
    )
    assert looser.status_code == 400 and error_code(looser) == "looser_than_city"
    crossed = district.post(
        "/api/v1/review-policies/",
        {"panel_size": 3, "admit_threshold_bp": 8500, "return_threshold_bp": 9000},
        format="json",
    )
    assert crossed.status_code == 400 and error_code(crossed) == "invalid_thresholds"
    assert state() == before
    stricter = district.post(
        "/api/v1/review-policies/",
        {"panel_size": 3, "admit_threshold_bp": 8500, "return_threshold_bp": 6000},
        format="json",
    )
    assert stricter.status_code == 200
    # The district's own panels now have 3 members
    sub = submit(city, cat["categories"]["science"], library="district", name="东湖书法")
    panel = district.post(f"/api/v1/review/submissions/{sub.pk}/draw").json()
    assert len(panel["members"]) == 3
    codes = {r["region"]["code"] for r in district.get("/api/v1/review-policies/").json()}
    assert codes == {"360100", city.district_a.code}


# --- the contract ----------------------------------------------------------------------------------------------
def test_anonymous_callers_get_401(city, cat):
    from rest_framework.test import APIClient

    for url in ("/api/v1/review/submissions/", "/api/v1/library/", "/api/v1/filings/", "/api/v1/fee-standards/"):
        response = APIClient().get(url)
        assert response.status_code == 401 and error_code(response) == "not_authenticated"


def test_openapi_schema_lists_the_admin_endpoints(db):
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    for path, method in (
        ("/api/v1/review/submissions/", "get"),
        ("/api/v1/review/submissions/{id}/draw", "post"),
        ("/api/v1/panels/{id}/", "get"),
        ("/api/v1/panels/{id}/verify", "get"),
        ("/api/v1/panels/{id}/decide", "post"),
        ("/api/v1/library/", "get"),
        ("/api/v1/library/{id}/", "get"),
        ("/api/v1/library/{id}/adopt", "post"),
        ("/api/v1/library/{id}/pick", "post"),
        ("/api/v1/library/{id}/status", "post"),
        ("/api/v1/filings/", "get"),
        ("/api/v1/filings/{id}/acknowledge", "post"),
        ("/api/v1/categories/", "get"),
        ("/api/v1/quality-standards/", "get"),
        ("/api/v1/fee-standards/", "get"),
        ("/api/v1/fee-standards/", "post"),
        ("/api/v1/review-policies/", "post"),
    ):
        assert method in paths[path], (path, method)
