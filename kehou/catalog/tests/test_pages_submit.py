"""Pages of the submitters (我的申报) and the experts (评审任务): each role renders and submits, service errors come
back with the message and the person's input, money is typed in yuan and stored in fen."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import load_workbook

from kehou.catalog.models import PanelMember, ProofFile, Score, Submission
from kehou.catalog.tests.factories import (
    decided,
    drawn_panel,
    no_writes,
    setup_catalog,
    submitted_course,
    tiny_pdf,
    tiny_png,
)
from kehou.conftest import City, page_as
from kehou.orgs.models import Organisation
from kehou.people.models import TeacherProfile
from kehou.testing import factories as f

pytestmark = pytest.mark.django_db


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


def html(response: Any) -> str:
    return response.content.decode()


def nav(response: Any) -> list[str]:
    match = re.search(r'<nav class="menu".*?</nav>', html(response), re.S)
    assert match
    return re.findall(r">([^<]+)</a>", match.group(0))


def staff(city: City) -> TeacherProfile:
    return TeacherProfile.objects.get(user=city.users["teacher"])


def course_form(city: City, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "school": city.a1.pk,
        "library": "city",
        "name": "航模制作",
        "category": "science",
        "introduction": "动手做航模",
        "grades": ["4", "5"],
        "minutes_per_hour": "45",
        "hours_per_term": "16",
        "fee": "30.50",
        "teacher_ids": [str(staff(city).pk)],
        "materials_description": "",
        "materials_price": "",
    }
    data.update(changes)
    return data


# --- the school administrator ----------------------------------------------------------------------------------
def test_school_admin_submits_a_course_from_the_page(city: City, cat: Any) -> None:
    client = page_as(city.users["school_admin"])
    listing = client.get("/submissions/")
    assert listing.status_code == 200
    assert "我的申报" in nav(listing)
    assert "新建特色课程" in html(listing)
    # The form offers the school's own teachers only, the categories, and the grades
    a2_teacher = f.teacher_at(city.a2)
    a2_teacher.full_name = "乙校老师"
    a2_teacher.save(update_fields=["full_name"])
    form = client.get("/submissions/new/course/")
    page = html(form)
    assert form.status_code == 200
    assert city.users["teacher"].full_name in page
    assert "乙校老师" not in page
    assert '<option value="science"' in page and "科技" in page
    assert 'name="grades"' in page and "四年级" in page
    assert 'data-section="materials"' in page  # materials are a separate, optional part
    # When the admin submits with the fee in yuan and materials priced separately
    response = client.post(
        "/submissions/new/course/", course_form(city, materials_description="航模套件", materials_price="12")
    )
    assert response.status_code == 302
    sub = Submission.objects.get()
    assert response["Location"] == f"/submissions/{sub.pk}/"
    version = sub.versions.get()
    assert (version.fee_per_hour_fen, version.materials_price_fen) == (3050, 1200)
    assert version.grades == [4, 5]
    assert list(version.teachers.all()) == [staff(city)]
    assert sub.submitter_school == city.a1 and sub.library_region.is_city
    # The detail shows the version, the status and the upload form; the list shows the submission
    detail = client.get(response["Location"])
    assert detail.status_code == 200
    assert "航模制作" in html(detail) and "已提交" in html(detail) and "¥30.50" in html(detail)
    assert 'data-section="upload"' in html(detail)
    assert "航模制作" in html(client.get("/submissions/"))


@pytest.mark.parametrize(
    ("typed", "fen"),
    [("30", 3000), ("30.5", 3050), ("¥29.99", 2999), ("0.29", 29), ("0.1", 10), ("10元", 1000), ("1,234.50", 123450)],
)
def test_yuan_is_parsed_to_exact_fen_without_float(typed: str, fen: int) -> None:
    from kehou.catalog.forms import YuanField

    assert YuanField().clean(typed) == fen


def test_the_fee_typed_in_yuan_is_stored_in_fen(city: City, cat: Any) -> None:
    response = page_as(city.users["school_admin"]).post("/submissions/new/course/", course_form(city, fee="29.99"))
    assert response.status_code == 302
    assert Submission.objects.get().versions.get().fee_per_hour_fen == 2999


@pytest.mark.parametrize("fee", ["abc", "1.234", "-5", "3,0.0.1", "1e3", ""])
def test_a_bad_amount_is_a_form_error_and_the_input_is_kept(city: City, cat: Any, fee: str) -> None:
    client = page_as(city.users["school_admin"])
    with no_writes():
        response = client.post("/submissions/new/course/", course_form(city, fee=fee, name="保留的名称"))
    assert response.status_code == 400
    assert 'value="保留的名称"' in html(response)
    assert 'class="error"' in html(response)


def test_a_fee_outside_the_standard_comes_back_with_the_message_and_the_input(city: City, cat: Any) -> None:
    client = page_as(city.users["school_admin"])
    with no_writes():
        response = client.post("/submissions/new/course/", course_form(city, fee="60", name="贵的课"))
    assert response.status_code == 400
    page = html(response)
    assert 'data-error="fee_out_of_standard"' in page
    assert 'value="贵的课"' in page and 'value="60"' in page
    assert re.search(r'value="4"[^>]*checked|checked[^>]*value="4"', page)  # the ticked grades stay ticked


def test_a_teacher_that_is_not_the_schools_is_refused(city: City, cat: Any) -> None:
    other = TeacherProfile.objects.get(user=f.teacher_at(city.a2))
    with no_writes():
        response = page_as(city.users["school_admin"]).post(
            "/submissions/new/course/", course_form(city, teacher_ids=[str(other.pk)])
        )
    assert response.status_code == 400  # not among the choices


def test_upload_a_proof_on_the_page_and_refuse_a_renamed_file(city: City, cat: Any) -> None:
    sub = submitted_course(city)
    client = page_as(city.users["school_admin"])
    url = f"/submissions/{sub.pk}/"
    ok = client.post(url, {"kind": "certificate", "file": SimpleUploadedFile("资格证.png", tiny_png())})
    assert ok.status_code == 302
    proof = ProofFile.objects.get()
    page = html(client.get(url))
    assert "资格证.png" in page and f"/api/v1/proofs/{proof.pk}/download" in page
    html_file = SimpleUploadedFile(
        "证明.pdf", b"<html><script>alert(1)</script></html>", content_type="application/pdf"
    )
    refused = client.post(url, {"kind": "background", "file": html_file})
    assert refused.status_code == 400
    assert 'data-error="invalid_file_type"' in html(refused)
    assert re.search(r'<option value="background" selected>', html(refused))  # the choice is kept
    assert ProofFile.objects.count() == 1


def test_an_oversized_page_upload_is_refused_before_reading(city: City, cat: Any, settings: Any) -> None:
    sub = submitted_course(city)
    settings.KEHOU_PROOF_MAX_BYTES = 1000
    big = SimpleUploadedFile("big.pdf", b"%PDF-1.4\n" + b"0" * 70_000)
    response = page_as(city.users["school_admin"]).post(f"/submissions/{sub.pk}/", {"kind": "other", "file": big})
    assert response.status_code == 413
    assert 'data-error="file_too_large"' in html(response)
    assert ProofFile.objects.count() == 0


def test_the_upload_is_csrf_protected(city: City, cat: Any) -> None:
    sub = submitted_course(city)
    client = Client(enforce_csrf_checks=True)
    client.force_login(city.users["school_admin"], backend="kehou.people.auth.PhoneOrUsernameBackend")
    response = client.post(
        f"/submissions/{sub.pk}/", {"kind": "other", "file": SimpleUploadedFile("a.pdf", tiny_pdf())}
    )
    assert response.status_code == 403
    assert ProofFile.objects.count() == 0
    # With the token it goes through
    page = client.get(f"/submissions/{sub.pk}/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html(page)).group(1)  # type: ignore[union-attr]
    data = {"kind": "other", "file": SimpleUploadedFile("a.pdf", tiny_pdf()), "csrfmiddlewaretoken": token}
    assert client.post(f"/submissions/{sub.pk}/", data).status_code == 302


def test_the_list_filters_and_exports(city: City, cat: Any) -> None:
    submitted_course(city, name="航模制作")
    submitted_course(city, name="足球", category="sports", library="district")
    client = page_as(city.users["school_admin"])
    assert "足球" not in html(client.get("/submissions/?library=city"))
    assert "足球" in html(client.get("/submissions/?library=district&kind=course&status=submitted"))
    export = client.get("/submissions/?format=xlsx")
    assert export.status_code == 200 and "attachment" in export["Content-Disposition"]
    rows = list(load_workbook(io.BytesIO(export.getvalue())).active.iter_rows(values_only=True))
    assert rows[0][1:4] == ("状态", "类型", "类别")
    assert sorted(r[0] for r in rows[1:]) == ["航模制作", "足球"]


def test_after_a_decision_the_detail_shows_anonymised_comments_and_a_revise_button(city: City, cat: Any) -> None:
    sub = submitted_course(city)
    panel = drawn_panel(sub, city.users["city_admin"])
    decided(panel, city.users["city_admin"], value=7, comment="请补充安全预案")
    client = page_as(city.users["school_admin"])
    page = html(client.get(f"/submissions/{sub.pk}/"))
    assert "退回修改" in page and "70.00" in page
    assert re.search(r"专家\s?1", page) and "请补充安全预案1" in page
    for member in panel.members.select_related("expert__user"):
        assert member.expert.user.full_name not in page
    assert 'data-action="revise"' in page
    # The revise form comes filled in from the current version
    form = client.get(f"/submissions/{sub.pk}/revise/")
    assert form.status_code == 200
    assert 'value="少儿陶艺"' in html(form) and 'value="30.00"' in html(form)
    data = course_form(city, name="少儿陶艺（修订）", fee="28", note="补充安全预案")
    data.pop("library")
    response = client.post(f"/submissions/{sub.pk}/revise/", data)
    assert response.status_code == 302
    sub.refresh_from_db()
    assert (sub.version_count, sub.status) == (2, "submitted")
    assert sub.versions.get(number=2).fee_per_hour_fen == 2800
    timeline = html(client.get(f"/submissions/{sub.pk}/"))
    assert 'data-version="2"' in timeline and 'data-version="1"' in timeline and "补充安全预案" in timeline


def test_revising_in_review_comes_back_with_the_message(city: City, cat: Any) -> None:
    sub = submitted_course(city)
    drawn_panel(sub, city.users["city_admin"])
    client = page_as(city.users["school_admin"])
    assert 'data-notice="cannot-submit"' in html(client.get(f"/submissions/{sub.pk}/revise/"))
    data = course_form(city, note="x")
    data.pop("library")
    with no_writes():
        response = client.post(f"/submissions/{sub.pk}/revise/", data)
    assert response.status_code == 409


# --- the outside teacher ---------------------------------------------------------------------------------------
def test_an_outside_teacher_submits_a_dossier_and_a_course(city: City, cat: Any) -> None:
    org = Organisation.objects.create(name="东湖体育社", credit_code="52360100MJ0000007X", district=city.district_a)
    user = f.teacher_at(kind="outside", organisation=org)
    me = TeacherProfile.objects.get(user=user)
    client = page_as(user)
    listing = client.get("/submissions/")
    assert "我的申报" in nav(listing)
    form = client.get("/submissions/new/teacher/")
    assert form.status_code == 200 and user.full_name in html(form) and "社会资源" in html(form)
    response = client.post(
        "/submissions/new/teacher/",
        {
            "library": "district",
            "teacher_id": str(me.pk),
            "category": "sports",
            "identity_number": "360102199001011234",
            "subjects": "篮球",
            "qualifications": "国家二级运动员",
            "certificates": "",
            "background_checked_on": "2026-02-01",
            "background_check_result": "无犯罪记录",
        },
    )
    assert response.status_code == 302, html(response)
    sub = Submission.objects.get(kind="teacher")
    assert sub.submitter_organisation == org and sub.library_region == city.district_a
    assert sub.versions.get().background_checked_on.isoformat() == "2026-02-01"
    course = client.post("/submissions/new/course/", course_form(city, school="", teacher_ids=[str(me.pk)]))
    assert course.status_code == 302
    assert Submission.objects.filter(kind="course", submitter_user=user).exists()
    page = html(client.get(f"/submissions/{sub.pk}/"))
    assert "360102199001011234" in page  # the submitter sees their own identity number


# --- people who do not submit ----------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["parent", "teacher", "expert", "district_admin", "nobody"])
def test_people_who_do_not_submit_see_a_notice_and_cannot_post(city: City, cat: Any, role: str) -> None:
    client = page_as(city.users[role])
    form = client.get("/submissions/new/course/")
    assert form.status_code == 200
    assert 'data-notice="cannot-submit"' in html(form)
    assert "我的申报" not in nav(form)
    with no_writes():
        response = client.post("/submissions/new/course/", course_form(city))
    assert response.status_code in (400, 403)


# --- the expert ------------------------------------------------------------------------------------------------
@pytest.fixture
def seat(city: City, cat: Any) -> PanelMember:
    sub = submitted_course(city)
    page_as(city.users["school_admin"]).post(
        f"/submissions/{sub.pk}/", {"kind": "course_plan", "file": SimpleUploadedFile("方案.pdf", tiny_pdf())}
    )
    panel = drawn_panel(sub, city.users["city_admin"], size=3)
    return panel.members.order_by("draw_position").select_related("expert__user").first()  # type: ignore[return-value]


def score_data(value: int = 8, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {f"item_{n}": str(value) for n in range(1, 21)}
    data.update({"action": "score", "comment": "设计合理"}, **changes)
    return data


def test_expert_finds_the_task_and_the_score_sheet(city: City, seat: PanelMember) -> None:
    client = page_as(seat.expert.user)
    listing = client.get("/review-tasks/")
    assert listing.status_code == 200
    assert "评审任务" in nav(listing) and "我的申报" not in nav(listing)
    assert "少儿陶艺" in html(listing) and "待评分" in html(listing)
    assert "少儿陶艺" in html(client.get("/review-tasks/?state=pending"))
    assert "少儿陶艺" not in html(client.get("/review-tasks/?state=scored"))
    export = client.get("/review-tasks/?format=xlsx")
    assert export.status_code == 200
    sheet = client.get(f"/review-tasks/{seat.pk}/")
    page = html(sheet)
    assert sheet.status_code == 200
    assert len(re.findall(r'name="item_\d+"', page)) == 20
    assert sorted(re.findall(r'name="veto_(\d+)"', page)) == ["1", "2"]  # veto items only
    assert 'max="10"' in page and 'name="comment"' in page and 'name="reason"' in page
    assert "方案.pdf" in page and "/api/v1/proofs/" in page


def test_expert_scores_once_and_a_second_try_says_so(city: City, seat: PanelMember) -> None:
    client = page_as(seat.expert.user)
    response = client.post(f"/review-tasks/{seat.pk}/", score_data(8, veto_2="on"))
    assert response.status_code == 302
    score = Score.objects.get(member=seat)
    assert (score.total_bp, score.vetoed_items, score.comment) == (8000, [2], "设计合理")
    page = html(client.get(f"/review-tasks/{seat.pk}/"))
    assert 'data-section="my-score"' in page and "80.00" in page and 'name="item_1"' not in page
    with no_writes():
        again = client.post(f"/review-tasks/{seat.pk}/", score_data(9))
    assert again.status_code == 409
    assert 'data-error="already_scored"' in html(again)


def test_a_bad_score_keeps_the_input(seat: PanelMember) -> None:
    client = page_as(seat.expert.user)
    with no_writes():
        response = client.post(f"/review-tasks/{seat.pk}/", score_data(8, item_3="11", comment="保留的意见"))
    assert response.status_code == 400
    page = html(response)
    assert "保留的意见" in page and 'value="11"' in page and 'value="8"' in page


def test_expert_declines_with_a_reason(city: City, seat: PanelMember) -> None:
    client = page_as(seat.expert.user)
    with no_writes():
        blank = client.post(f"/review-tasks/{seat.pk}/", {"action": "decline", "reason": ""})
    assert blank.status_code == 400
    response = client.post(f"/review-tasks/{seat.pk}/", {"action": "decline", "reason": "与申报学校有合作"})
    assert response.status_code == 302 and response["Location"] == "/review-tasks/"
    seat.refresh_from_db()
    assert seat.status == "declined" and seat.decline_reason == "与申报学校有合作"
    assert PanelMember.objects.filter(replaces=seat).exists()
    assert "已谢绝" in html(client.get("/review-tasks/"))


def test_other_people_cannot_open_or_post_a_seat(city: City, seat: PanelMember) -> None:
    for role in ("expert", "school_admin", "parent"):
        client = page_as(city.users[role])
        assert client.get(f"/review-tasks/{seat.pk}/").status_code == 404
        with no_writes():
            assert client.post(f"/review-tasks/{seat.pk}/", score_data()).status_code == 404
    # The bureau that drew the panel sees the seat read-only
    bureau = page_as(city.users["city_admin"]).get(f"/review-tasks/{seat.pk}/")
    assert bureau.status_code == 200 and 'name="item_1"' not in html(bureau)


# --- the Django admin: read-mostly -----------------------------------------------------------------------------
def test_the_admin_shows_catalog_rows_and_changes_none(city: City, seat: PanelMember) -> None:
    client = page_as(city.users["superuser"])
    sub = seat.panel.submission
    proof = ProofFile.objects.get()
    for url in (
        "/admin/catalog/submission/",
        f"/admin/catalog/submission/{sub.pk}/change/",
        f"/admin/catalog/submissionversion/{sub.versions.get().pk}/change/",
        "/admin/catalog/prooffile/",
        f"/admin/catalog/prooffile/{proof.pk}/change/",
        f"/admin/catalog/panel/{seat.panel_id}/change/",
        "/admin/catalog/panelmember/",
        "/admin/catalog/qualityitem/",
        "/admin/catalog/feestandard/",
        "/admin/catalog/category/add/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert proof.file.name not in html(response)  # the stored name is never shown or linked
    assert client.get("/admin/catalog/submission/add/").status_code == 403
    with no_writes():
        assert client.post(f"/admin/catalog/submission/{sub.pk}/change/", {"title": "改名"}).status_code == 403
        assert client.post(f"/admin/catalog/submission/{sub.pk}/delete/", {"post": "yes"}).status_code == 403


def test_the_fee_standard_error_speaks_yuan_and_shows_no_code(city: City, cat: Any) -> None:
    # Issue 14: the form takes yuan but said "须在 3000 至 5000 分之间。 fee_out_of_standard"
    client = page_as(city.users["school_admin"])
    page = html(client.post("/submissions/new/course/", course_form(city, fee="60", name="贵的课")))
    assert "10.00" in page and "50.00" in page
    assert "分之间" not in page and " fen." not in page and ">fee_out_of_standard<" not in page
    assert "fee_out_of_standard</span>" not in page
