"""The submitters' and experts' API: contract, scope, errors, and the OpenAPI schema."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kehou.catalog.models import ExpertRecusal, PanelMember, ProofFile, Score, Submission, SubmissionVersion
from kehou.catalog.tests.factories import (
    SUBMIT_NOW,
    decided,
    drawn_panel,
    no_writes,
    setup_catalog,
    submitted_course,
    tiny_pdf,
)
from kehou.conftest import City, api_as
from kehou.core.models import AuditEntry
from kehou.orgs.models import Organisation
from kehou.people.models import TeacherProfile
from kehou.testing import factories as f

pytestmark = pytest.mark.django_db

LIST = "/api/v1/submissions/"


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": root}},
    }
    return root


@pytest.fixture
def cat(city: City) -> dict[str, Any]:
    return setup_catalog(experts=5)


def staff(city: City) -> TeacherProfile:
    return TeacherProfile.objects.get(user=city.users["teacher"])


def course(city: City, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "course",
        "library": "city",
        "school": city.a1.pk,
        "name": "机器人编程",
        "category": "science",
        "introduction": "用积木机器人学编程",
        "grades": [3, 4, 5],
        "minutes_per_hour": 45,
        "hours_per_term": 16,
        "fee_per_hour_fen": 3000,
        "teacher_ids": [staff(city).pk],
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


def dossier(city: City, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "teacher",
        "library": "city",
        "school": city.a1.pk,
        "teacher_id": staff(city).pk,
        "category": "science",
        "identity_number": "360102198001011234",
        "qualifications": "小学一级教师",
        "subjects": "科学",
        "certificates": "教师资格证",
        "background_checked_on": "2026-01-05",
        "background_check_result": "无犯罪记录",
    }
    body.update(changes)
    return body


def code(response: Any) -> str:
    return response.json()["error"]["code"]


# --- creating ----------------------------------------------------------------------------------------------
def test_a_school_admin_submits_a_course_for_its_teacher(city: City, cat: Any) -> None:
    client = api_as(city.users["school_admin"])
    response = client.post(
        LIST, course(city, materials_description="陶泥一套", materials_price_fen=2500), format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["kind"] == "course" and body["status"] == "submitted" and body["version_count"] == 1
    assert body["library"] == {"code": "360100", "name": "南昌市", "level": "city"}
    assert body["submitter"]["school"] == {"id": city.a1.pk, "name": city.a1.name}
    assert body["category"] == {"code": "science", "name": "科技"}
    [v1] = body["versions"]
    assert v1["dossier"] is None
    assert v1["course"]["fee_per_hour_fen"] == 3000
    assert v1["course"]["materials_price_fen"] == 2500  # priced separately from the course fee
    assert v1["course"]["teachers"] == [{"id": staff(city).pk, "name": city.users["teacher"].full_name}]
    assert (body["may_add_proofs"], body["may_revise"], body["panels"], body["decisions"]) == (True, True, [], [])
    assert AuditEntry.objects.filter(action="submission.created", object_id=str(body["id"])).exists()
    # It is in the school's list, and not in another school's
    assert [s["id"] for s in client.get(LIST).json()["results"]] == [body["id"]]
    a2_admin = f.UserFactory()
    f.grant(a2_admin, "school_admin", school=city.a2)
    assert api_as(a2_admin).get(LIST).json()["results"] == []
    assert api_as(a2_admin).get(f"{LIST}{body['id']}/").status_code == 404


def test_a_school_admin_submits_a_teacher_dossier(city: City, cat: Any) -> None:
    response = api_as(city.users["school_admin"]).post(LIST, dossier(city), format="json")
    assert response.status_code == 201, response.json()
    v1 = response.json()["versions"][0]
    assert v1["course"] is None
    assert v1["dossier"]["identity_number"] == "360102198001011234"  # the submitter sees it in full
    assert v1["dossier"]["background_checked_on"] == "2026-01-05"
    assert response.json()["title"] == city.users["teacher"].full_name


def test_an_outside_teacher_submits_their_own_course_without_a_school(city: City, cat: Any) -> None:
    org = Organisation.objects.create(name="东湖科技社", credit_code="52360100MJ0000008X", district=city.district_a)
    teacher = f.teacher_at(kind="outside", organisation=org)
    mine = TeacherProfile.objects.get(user=teacher)
    client = api_as(teacher)
    response = client.post(LIST, course(city, school=..., library="district", teacher_ids=[mine.pk]), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["submitter"] == {"school": None, "organisation": {"id": org.pk, "name": org.name}}
    assert body["library"]["level"] == "district" and body["library"]["code"] == city.district_a.code
    assert [s["id"] for s in client.get(LIST).json()["results"]] == [body["id"]]
    # A staff teacher is not a submitter
    refused = api_as(city.users["teacher"]).post(LIST, course(city, school=None), format="json")
    assert (refused.status_code, code(refused)) == (403, "not_a_submitter")


# --- bad input -----------------------------------------------------------------------------------------------
def test_unknown_fields_are_refused_and_no_writes(city: City, cat: Any) -> None:
    with no_writes():
        response = api_as(city.users["school_admin"]).post(
            LIST, course(city, status="admitted", fee="30"), format="json"
        )
    assert response.status_code == 400
    assert code(response) == "unknown_field"
    assert set(response.json()["error"]["fields"]) == {"status", "fee"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"fee_per_hour_fen": "3000"}, "fee_per_hour_fen"),
        ({"fee_per_hour_fen": 30.5}, "fee_per_hour_fen"),
        ({"fee_per_hour_fen": True}, "fee_per_hour_fen"),
        ({"fee_per_hour_fen": -1}, "fee_per_hour_fen"),
        ({"grades": "3,4"}, "grades"),
        ({"grades": ["3"]}, "grades"),
        ({"teacher_ids": 5}, "teacher_ids"),
        ({"school": "1"}, "school"),
        ({"minutes_per_hour": None}, "minutes_per_hour"),
        ({"library": "province"}, "library"),
        ({"category": "astrology"}, "category"),
        ({"name": "x" * 81}, "name"),
        ({"materials_price_fen": "25"}, "materials_price_fen"),
    ],
)
def test_wrong_types_are_refused_with_the_field_named(
    city: City, cat: Any, changes: dict[str, Any], field: str
) -> None:
    with no_writes():
        response = api_as(city.users["school_admin"]).post(LIST, course(city, **changes), format="json")
    assert response.status_code == 400
    assert code(response) == "invalid"
    assert field in response.json()["error"]["fields"]


@pytest.mark.parametrize("body", [[], "course", {"kind": "robot"}, {"name": "改名"}])
def test_a_body_without_a_known_kind_is_refused(city: City, cat: Any, body: Any) -> None:
    with no_writes():
        response = api_as(city.users["school_admin"]).post(LIST, body, format="json")
    assert response.status_code == 400


def test_a_fee_outside_the_standard_is_refused(city: City, cat: Any) -> None:
    with no_writes():
        response = api_as(city.users["school_admin"]).post(LIST, course(city, fee_per_hour_fen=5001), format="json")
    assert response.status_code == 400
    assert code(response) == "fee_out_of_standard"
    assert response.json()["error"]["fields"]["max_fee_fen"] == 5000


def test_out_of_scope_ids_answer_404_and_no_writes(city: City, cat: Any) -> None:
    client = api_as(city.users["school_admin"])
    with no_writes():
        other_school = client.post(LIST, course(city, school=city.a2.pk), format="json")
        no_school = client.post(LIST, course(city, school=987654), format="json")
    assert other_school.status_code == no_school.status_code == 404
    assert other_school.json() == no_school.json()
    # A teacher of another school is not the school's to put forward
    a2_teacher = TeacherProfile.objects.get(user=f.teacher_at(city.a2))
    with no_writes():
        response = client.post(LIST, course(city, teacher_ids=[a2_teacher.pk]), format="json")
    assert (response.status_code, code(response)) == (400, "teacher_not_yours")


# --- reading -------------------------------------------------------------------------------------------------
def test_list_filters(city: City, cat: Any) -> None:
    submitted_course(city, name="机器人编程")
    submitted_course(city, name="篮球", category="sports", library="district")
    client = api_as(city.users["school_admin"])

    def titles(query: str) -> list[str]:
        return sorted(s["title"] for s in client.get(LIST + query).json()["results"])

    assert titles("") == ["机器人编程", "篮球"]
    assert titles("?library=city") == ["机器人编程"]
    assert titles("?library=district") == ["篮球"]
    assert titles(f"?library={city.district_a.code}") == ["篮球"]
    assert titles("?search=篮") == ["篮球"]
    assert titles("?kind=teacher") == []
    assert titles("?status=submitted") == ["机器人编程", "篮球"]
    assert titles("?status=admitted") == []


def test_after_a_decision_the_submitter_sees_comments_and_mean_with_experts_anonymised(city: City, cat: Any) -> None:
    sub = submitted_course(city)
    panel = drawn_panel(sub, city.users["city_admin"], size=3)
    client = api_as(city.users["school_admin"])
    during = client.get(f"{LIST}{sub.pk}/").json()
    assert during["status"] == "in_review"
    assert during["panels"] == [
        {
            "round": 1,
            "version_number": 1,
            "status": "open",
            "size": 3,
            "scored": 0,
            "drawn_at": during["panels"][0]["drawn_at"],
        }
    ]
    assert during["decisions"] == []
    decided(panel, city.users["city_admin"], value=7, comment="请补充教学计划")
    response = client.get(f"{LIST}{sub.pk}/")
    body = response.json()
    assert body["status"] == "returned"
    assert body["may_revise"] is True
    [decision] = body["decisions"]
    assert decision["outcome"] == "returned"
    assert decision["mean_bp"] == 7000
    assert [re.sub(r"\s", "", c["expert"]) for c in decision["comments"]] == ["专家1", "专家2", "专家3"]
    assert [c["comment"] for c in decision["comments"]] == ["请补充教学计划1", "请补充教学计划2", "请补充教学计划3"]
    text = json.dumps(body, ensure_ascii=False)
    for member in panel.members.select_related("expert__user"):
        assert member.expert.user.full_name not in text
        assert member.expert.user.username not in text


def test_revise_adds_a_version_and_keeps_the_old_one(city: City, cat: Any) -> None:
    sub = submitted_course(city)
    decided(drawn_panel(sub, city.users["city_admin"]), city.users["city_admin"], value=7)
    client = api_as(city.users["school_admin"])
    body = course(city, fee_per_hour_fen=2800, name="机器人编程（修订）", note="按专家意见补充")
    for key in ("kind", "library", "school"):
        body.pop(key)
    response = client.post(f"{LIST}{sub.pk}/revise", body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["status"], data["version_count"], data["title"]) == ("submitted", 2, "机器人编程（修订）")
    assert [v["number"] for v in data["versions"]] == [1, 2]
    assert data["versions"][0]["course"]["fee_per_hour_fen"] == 3000
    assert data["versions"][1]["course"]["fee_per_hour_fen"] == 2800
    assert data["versions"][1]["change_note"] == "按专家意见补充"


def test_revise_refuses_unknown_fields_wrong_state_and_other_schools(city: City, cat: Any) -> None:
    sub = submitted_course(city)
    drawn_panel(sub, city.users["city_admin"])
    body = course(city)
    for key in ("kind", "library", "school"):
        body.pop(key)
    client = api_as(city.users["school_admin"])
    with no_writes():
        unknown = client.post(f"{LIST}{sub.pk}/revise", {**body, "kind": "course"}, format="json")
        in_review = client.post(f"{LIST}{sub.pk}/revise", body, format="json")
    assert (unknown.status_code, code(unknown)) == (400, "unknown_field")
    assert (in_review.status_code, code(in_review)) == (409, "not_revisable")
    a2_admin = f.UserFactory()
    f.grant(a2_admin, "school_admin", school=city.a2)
    with no_writes():
        response = api_as(a2_admin).post(f"{LIST}{sub.pk}/revise", body, format="json")
        missing = api_as(a2_admin).post(f"{LIST}999999/revise", body, format="json")
    assert response.status_code == missing.status_code == 404
    assert response.json() == missing.json()


# --- proofs through the API ----------------------------------------------------------------------------------
def post_proof(client: Any, sub: Submission, data: bytes, name: str = "证明.pdf", **extra: Any) -> Any:
    payload = {"kind": "course_plan", "file": SimpleUploadedFile(name, data, content_type="application/pdf"), **extra}
    return client.post(f"{LIST}{sub.pk}/proofs", payload, format="multipart")


def test_proof_upload_through_the_api(city: City, cat: Any) -> None:
    sub = submitted_course(city)
    client = api_as(city.users["school_admin"])
    response = post_proof(client, sub, tiny_pdf(), name="方案.pdf")
    assert response.status_code == 201, response.json()
    proof = response.json()
    assert proof["original_name"] == "方案.pdf" and proof["content_type"] == "application/pdf"
    assert proof["download_url"] == f"/api/v1/proofs/{proof['id']}/download"
    detail = client.get(f"{LIST}{sub.pk}/").json()
    assert [p["id"] for p in detail["versions"][0]["proofs"]] == [proof["id"]]
    # Refusals: a renamed file, unknown fields, JSON instead of a file, another school
    renamed = post_proof(client, sub, b"PK\x03\x04" + b"\x00" * 40, name="证书.pdf")
    assert (renamed.status_code, code(renamed)) == (400, "invalid_file_type")
    unknown = post_proof(client, sub, tiny_pdf(), version="1")
    assert (unknown.status_code, code(unknown)) == (400, "unknown_field")
    as_json = client.post(f"{LIST}{sub.pk}/proofs", {"kind": "other"}, format="json")
    assert (as_json.status_code, code(as_json)) == (415, "unsupported_media_type")
    a2_admin = f.UserFactory()
    f.grant(a2_admin, "school_admin", school=city.a2)
    assert post_proof(api_as(a2_admin), sub, tiny_pdf()).status_code == 404
    bureau = post_proof(api_as(city.users["city_admin"]), sub, tiny_pdf())
    assert (bureau.status_code, code(bureau)) == (403, "not_submitter")
    assert ProofFile.objects.count() == 1


def test_an_oversized_upload_is_refused_before_it_is_read(city: City, cat: Any, settings: Any) -> None:
    sub = submitted_course(city)
    settings.KEHOU_PROOF_MAX_BYTES = 1000
    response = post_proof(api_as(city.users["school_admin"]), sub, b"%PDF-1.4\n" + b"0" * 70_000)
    assert (response.status_code, code(response)) == (413, "file_too_large")
    small_but_over = post_proof(api_as(city.users["school_admin"]), sub, tiny_pdf() + b"%" * 1000)
    assert (small_but_over.status_code, code(small_but_over)) == (413, "file_too_large")
    assert ProofFile.objects.count() == 0


# --- experts -------------------------------------------------------------------------------------------------
@pytest.fixture
def seat(city: City, cat: Any) -> PanelMember:
    # The fixture's expert plays the outsider below: their recusal from A1 keeps the (id-dependent) draw off them
    ExpertRecusal.objects.create(
        expert=city.users["expert"].expert_profile, school=city.a1, reason="回避", declared_at=SUBMIT_NOW
    )
    sub = submitted_course(city)
    post_proof(api_as(city.users["school_admin"]), sub, tiny_pdf())
    panel = drawn_panel(sub, city.users["city_admin"], size=3)
    return panel.members.order_by("draw_position").select_related("expert__user").first()  # type: ignore[return-value]


def sheet(value: int = 8) -> dict[str, Any]:
    return {"item_scores": {str(n): value for n in range(1, 21)}, "vetoed_items": [], "comment": "课程设计合理"}


def test_an_expert_sees_their_seats_and_the_score_sheet(city: City, seat: PanelMember) -> None:
    client = api_as(seat.expert.user)
    [listed] = client.get("/api/v1/panel-seats/").json()["results"]
    assert listed["id"] == seat.pk and listed["state"] == "pending" and listed["scored"] is False
    assert listed["submission"]["title"] == "少儿陶艺" and listed["submission"]["version_number"] == 1
    assert client.get("/api/v1/panel-seats/?state=scored").json()["results"] == []
    detail = client.get(f"/api/v1/panel-seats/{seat.pk}/").json()
    assert len(detail["standards"]) == 20
    assert detail["standards"][0] == {
        "number": 1,
        "title": "标准1",
        "description": "",
        "weight": 5,
        "max_score": 10,
        "is_veto": True,
    }
    assert detail["version"]["course"]["fee_per_hour_fen"] == 3000
    [proof] = detail["version"]["proofs"]
    assert client.get(proof["download_url"]).status_code == 200
    assert (detail["may_score"], detail["may_decline"], detail["score"]) == (True, True, None)
    # Other people's seats are not listed, and cannot be opened
    assert api_as(city.users["expert"]).get("/api/v1/panel-seats/").json()["results"] == []
    assert api_as(city.users["expert"]).get(f"/api/v1/panel-seats/{seat.pk}/").status_code == 404
    assert api_as(city.users["school_admin"]).get(f"/api/v1/panel-seats/{seat.pk}/").status_code == 404
    # The bureau that drew the panel may look, not score
    bureau = api_as(city.users["city_admin"]).get(f"/api/v1/panel-seats/{seat.pk}/").json()
    assert (bureau["may_score"], bureau["may_decline"]) == (False, False)


def test_scoring_once_then_twice_is_409(city: City, seat: PanelMember) -> None:
    client = api_as(seat.expert.user)
    response = client.post(f"/api/v1/panel-seats/{seat.pk}/score", sheet(8), format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["total_bp"] == 8000
    with no_writes():
        again = client.post(f"/api/v1/panel-seats/{seat.pk}/score", sheet(9), format="json")
    assert (again.status_code, code(again)) == (409, "already_scored")
    assert Score.objects.get(member=seat).total_bp == 8000
    listed = client.get("/api/v1/panel-seats/?state=scored").json()["results"]
    assert [s["id"] for s in listed] == [seat.pk]
    detail = client.get(f"/api/v1/panel-seats/{seat.pk}/").json()
    assert detail["score"]["total_bp"] == 8000 and detail["may_score"] is False


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({**sheet(), "item_scores": {str(n): 8 for n in range(1, 20)}}, 400, "invalid_score_sheet"),
        ({**sheet(), "item_scores": {**sheet()["item_scores"], "3": 11}}, 400, "invalid_score_sheet"),
        ({**sheet(), "item_scores": {**sheet()["item_scores"], "3": "8"}}, 400, "invalid"),
        ({**sheet(), "vetoed_items": [5]}, 400, "invalid_score_sheet"),
        ({**sheet(), "comment": "  "}, 400, "invalid_score_sheet"),
        ({**sheet(), "total": 10000}, 400, "unknown_field"),
        ({"item_scores": sheet()["item_scores"]}, 400, "invalid"),
    ],
)
def test_a_bad_score_sheet_is_refused(seat: PanelMember, body: dict[str, Any], status: int, error: str) -> None:
    with no_writes():
        response = api_as(seat.expert.user).post(f"/api/v1/panel-seats/{seat.pk}/score", body, format="json")
    assert (response.status_code, code(response)) == (status, error)


def test_a_veto_is_recorded(seat: PanelMember) -> None:
    body = {**sheet(9), "vetoed_items": [2]}
    assert api_as(seat.expert.user).post(f"/api/v1/panel-seats/{seat.pk}/score", body, format="json").status_code == 201
    assert Score.objects.get(member=seat).vetoed_items == [2]


def test_only_the_seats_expert_scores_or_declines(city: City, seat: PanelMember) -> None:
    other = PanelMember.objects.filter(panel=seat.panel).exclude(pk=seat.pk).select_related("expert__user").first()
    assert other is not None
    for client in (api_as(other.expert.user), api_as(city.users["expert"]), api_as(city.users["city_admin"])):
        with no_writes():
            score = client.post(f"/api/v1/panel-seats/{seat.pk}/score", sheet(), format="json")
            decline = client.post(f"/api/v1/panel-seats/{seat.pk}/decline", {"reason": "x"}, format="json")
        assert score.status_code == decline.status_code == 404


def test_declining_hands_the_seat_to_the_next_in_the_draw(seat: PanelMember) -> None:
    client = api_as(seat.expert.user)
    with no_writes():
        blank = client.post(f"/api/v1/panel-seats/{seat.pk}/decline", {"reason": " "}, format="json")
        unknown = client.post(f"/api/v1/panel-seats/{seat.pk}/decline", {"reason": "x", "to": 3}, format="json")
    assert (blank.status_code, code(blank)) == (400, "reason_required")
    assert (unknown.status_code, code(unknown)) == (400, "unknown_field")
    response = client.post(f"/api/v1/panel-seats/{seat.pk}/decline", {"reason": "与申报学校有合作"}, format="json")
    assert response.status_code == 200
    assert response.json() == {"seat": seat.pk, "state": "declined"}
    seat.refresh_from_db()
    assert seat.status == PanelMember.Status.DECLINED
    assert PanelMember.objects.filter(replaces=seat).exists()
    again = client.post(f"/api/v1/panel-seats/{seat.pk}/score", sheet(), format="json")
    assert (again.status_code, code(again)) == (409, "member_declined")


def test_dossier_identity_is_masked_for_experts(city: City, cat: Any) -> None:
    response = api_as(city.users["school_admin"]).post(LIST, dossier(city), format="json")
    sub = Submission.objects.get(pk=response.json()["id"])
    panel = drawn_panel(sub, city.users["city_admin"], size=3)
    member = panel.members.select_related("expert__user").first()
    assert member is not None
    client = api_as(member.expert.user)
    seat_identity = client.get(f"/api/v1/panel-seats/{member.pk}/").json()["version"]["dossier"]["identity_number"]
    detail_identity = client.get(f"{LIST}{sub.pk}/").json()["versions"][0]["dossier"]["identity_number"]
    assert seat_identity == detail_identity == "360***********1234"
    city_view = api_as(city.users["city_admin"]).get(f"{LIST}{sub.pk}/").json()
    assert city_view["versions"][0]["dossier"]["identity_number"] == "360102198001011234"


# --- the schema ----------------------------------------------------------------------------------------------
def test_the_schema_documents_the_submitter_and_expert_endpoints(db: Any) -> None:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]
    for path, method in [
        ("/api/v1/submissions/", "get"),
        ("/api/v1/submissions/", "post"),
        ("/api/v1/submissions/{id}/", "get"),
        ("/api/v1/submissions/{id}/revise", "post"),
        ("/api/v1/submissions/{id}/proofs", "post"),
        ("/api/v1/proofs/{id}/download", "get"),
        ("/api/v1/panel-seats/", "get"),
        ("/api/v1/panel-seats/{id}/", "get"),
        ("/api/v1/panel-seats/{id}/score", "post"),
        ("/api/v1/panel-seats/{id}/decline", "post"),
    ]:
        assert method in paths[path], (path, method)
    create = paths["/api/v1/submissions/"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert create == {"$ref": "#/components/schemas/SubmissionCreateRequest"}
    components = schema["components"]["schemas"]
    assert components["SubmissionCreateRequest"]["discriminator"]["propertyName"] == "kind"
    upload = paths["/api/v1/submissions/{id}/proofs"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert upload["schema"]["properties"]["file"]["format"] == "binary"
    assert "SubmissionVersion" not in [c for c in components if c == SubmissionVersion.__name__]
