"""Proof files: checked by content, size-limited, stored under server-made names with their SHA-256, kept for the
current version of an open submission only, and downloaded as attachments by those who submit or review them."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from kehou.catalog.models import ProofFile, Submission
from kehou.catalog.services import proofs, submissions
from kehou.catalog.services.proofs import JPEG, PDF, PNG, proof_attach, sanitise_name, sniff
from kehou.catalog.tests.factories import (
    SUBMIT_NOW,
    course_body,
    decided,
    drawn_panel,
    setup_catalog,
    submitted_course,
    tiny_jpeg,
    tiny_pdf,
    tiny_png,
)
from kehou.conftest import City, api_as
from kehou.core.errors import Conflict, Forbidden, KehouError, NotFound
from kehou.core.models import AuditEntry
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


def upload(data: bytes, name: str = "证明.pdf", content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def attach(city: City, sub: Submission, data: bytes, name: str = "证明.pdf", actor: Any = None) -> ProofFile:
    return proof_attach(
        actor=actor or city.users["school_admin"],
        version=sub.versions.get(number=sub.version_count),
        kind=ProofFile.Kind.COURSE_PLAN,
        uploaded_file=upload(data, name),
        now=SUBMIT_NOW,
    )


def stored_files(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


def zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


# --- recognising the content -----------------------------------------------------------------------------------
def test_sniff_knows_pdf_png_and_jpeg_by_their_first_bytes() -> None:
    assert sniff(tiny_pdf()[:16]) is PDF
    assert sniff(tiny_png()[:16]) is PNG
    assert sniff(tiny_jpeg()[:16]) is JPEG
    for head in (b"", b"%PDF", b"%PDF-x.y", b"PK\x03\x04", b"<html>", b"MZ\x90\x00", b"GIF89a", b"\xff\xd8\xff\x00"):
        assert sniff(head) is None, head


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("证书.pdf", "证书.pdf"),
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\王\\资格证.PDF", "资格证.pdf"),
        ("photo.exe", "photo.png"),
        ('a<b>:"c"|?*.pdf', "a_b_c.pdf"),
        ("bad\x00name\r\n.pdf", "badname.pdf"),
        ("", "proof.png"),
        (".pdf", "pdf.png"),
        ("x" * 300 + ".pdf", "x" * 196 + ".png"),
    ],
)
def test_the_original_name_is_kept_only_as_sanitised_metadata(given: str, expected: str) -> None:
    file_type = PDF if expected.endswith(".pdf") else PNG
    assert sanitise_name(given, file_type) == expected


# --- attaching -------------------------------------------------------------------------------------------------
def test_submitter_attaches_a_pdf_stored_under_a_server_made_name(city: City, cat: Any, media: Path) -> None:
    # Given a course submitted by school A1
    sub = submitted_course(city)
    data = tiny_pdf("course plan")
    # When its admin attaches a PDF named by the user's computer
    proof = attach(city, sub, data, name="../我的 课程方案.pdf")
    # Then it is stored under proofs/<year>/<month>/<uuid>.pdf, with its hash, size and detected type
    assert re.fullmatch(r"proofs/2026/04/[0-9a-f]{32}\.pdf", proof.file.name)
    assert (media / proof.file.name).read_bytes() == data
    assert proof.sha256 == hashlib.sha256(data).hexdigest()
    assert proof.size == len(data)
    assert proof.content_type == "application/pdf"
    assert proof.original_name == "我的 课程方案.pdf"
    assert proof.version.number == 1
    # And the audit log records it
    entry = AuditEntry.objects.get(action="proof.attached")
    assert entry.after["sha256"] == proof.sha256
    assert entry.school_id == city.a1.pk


def test_images_are_accepted_and_named_after_their_real_type(city: City, cat: Any, media: Path) -> None:
    sub = submitted_course(city)
    png = attach(city, sub, tiny_png(), name="scan.pdf")  # a PNG with a .pdf name is a PNG
    jpeg = attach(city, sub, tiny_jpeg(), name="photo")
    assert (png.content_type, png.file.name[-4:], png.original_name) == ("image/png", ".png", "scan.png")
    assert (jpeg.content_type, jpeg.file.name[-4:], jpeg.original_name) == ("image/jpeg", ".jpg", "photo.jpg")


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (zip_bytes(), "证书.pdf"),  # a .docx/.zip renamed
        (b"<!doctype html><script>alert(1)</script>", "证书.pdf"),
        (b"MZ\x90\x00\x03" + b"\x00" * 100, "证书.jpg"),
        (b"GIF89a\x01\x00\x01\x00", "证书.png"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "证书.png"),
        (b"", "证书.pdf"),
    ],
)
def test_files_that_are_not_pdf_or_images_are_refused_whatever_their_name(
    city: City, cat: Any, media: Path, data: bytes, name: str
) -> None:
    sub = submitted_course(city)
    audit_before = AuditEntry.objects.count()
    with pytest.raises(KehouError) as info:
        attach(city, sub, data, name=name)
    assert info.value.code == "invalid_file_type"
    assert ProofFile.objects.count() == 0
    assert stored_files(media) == []
    assert AuditEntry.objects.count() == audit_before


def test_a_file_over_the_limit_is_refused(city: City, cat: Any, media: Path, settings: Any) -> None:
    sub = submitted_course(city)
    data = tiny_pdf()
    settings.KEHOU_PROOF_MAX_BYTES = len(data) - 1
    with pytest.raises(KehouError) as info:
        attach(city, sub, data)
    assert (info.value.code, info.value.status) == ("file_too_large", 413)
    # The size is counted while reading, whatever the upload object claims.
    stream = io.BytesIO(data)
    stream.name = "x.pdf"
    with pytest.raises(KehouError) as info:
        proof_attach(
            actor=city.users["school_admin"],
            version=sub.versions.get(),
            kind="other",
            uploaded_file=stream,
            now=SUBMIT_NOW,
        )
    assert info.value.code == "file_too_large"
    assert ProofFile.objects.count() == 0
    assert stored_files(media) == []
    settings.KEHOU_PROOF_MAX_BYTES = len(data)
    assert attach(city, sub, data).size == len(data)


def test_default_limit_is_ten_mebibytes(settings: Any) -> None:
    del settings.KEHOU_PROOF_MAX_BYTES
    assert proofs.max_bytes() == 10 * 1024 * 1024


def test_an_unknown_kind_is_refused(city: City, cat: Any) -> None:
    sub = submitted_course(city)
    with pytest.raises(KehouError) as info:
        proof_attach(
            actor=city.users["school_admin"],
            version=sub.versions.get(),
            kind="selfie",
            uploaded_file=upload(tiny_pdf()),
            now=SUBMIT_NOW,
        )
    assert info.value.code == "invalid_kind"


# --- who and when ----------------------------------------------------------------------------------------------
def test_only_the_submitter_side_attaches(city: City, cat: Any, media: Path) -> None:
    sub = submitted_course(city)
    # The bureaus see the submission but do not submit for the school: 403.
    for role in ("district_admin", "city_admin"):
        with pytest.raises(Forbidden) as info:
            attach(city, sub, tiny_pdf(), actor=city.users[role])
        assert info.value.code == "not_submitter"
    # Everyone else is told the submission does not exist.
    other_admin = f.UserFactory()
    f.grant(other_admin, "school_admin", school=city.a2)
    for actor in (other_admin, city.users["teacher"], city.users["parent"], city.users["expert"], city.users["nobody"]):
        with pytest.raises(NotFound):
            attach(city, sub, tiny_pdf(), actor=actor)
    assert ProofFile.objects.count() == 0
    assert stored_files(media) == []


def test_an_outside_teacher_and_their_organisation_attach_to_their_own(city: City, cat: Any) -> None:
    from kehou.orgs.models import Organisation

    org = Organisation.objects.create(name="东湖科技社", credit_code="52360100MJ0000009X", district=city.district_a)
    teacher = f.teacher_at(kind="outside", organisation=org)
    colleague = f.teacher_at(kind="outside", organisation=org)
    stranger = f.teacher_at(kind="outside")
    profile = TeacherProfile.objects.get(user=teacher)
    sub = submissions.submission_create(
        actor=teacher,
        school=None,
        library="district",
        now=SUBMIT_NOW,
        fields=course_body(cat["categories"]["science"], [profile.pk]),
    )
    assert attach(city, sub, tiny_pdf(), actor=teacher).uploaded_by == teacher
    assert attach(city, sub, tiny_png(), actor=colleague).uploaded_by == colleague
    with pytest.raises(NotFound):
        attach(city, sub, tiny_pdf(), actor=stranger)


def test_proofs_are_added_while_submitted_or_returned_and_to_the_current_version_only(
    city: City, cat: Any, media: Path
) -> None:
    sub = submitted_course(city)
    first = sub.versions.get()
    panel = drawn_panel(sub, city.users["city_admin"])
    # In review: closed
    with pytest.raises(Conflict) as info:
        attach(city, sub, tiny_pdf())
    assert info.value.code == "not_open_for_proofs"
    # Returned for revision: open again
    decided(panel, city.users["city_admin"], value=7)
    sub.refresh_from_db()
    assert sub.status == Submission.Status.RETURNED
    attach(city, sub, tiny_pdf())
    # After a revision, the old version takes no more proofs
    submissions.submission_revise(
        actor=city.users["school_admin"],
        submission=sub,
        fields=course_body(cat["categories"]["science"], [TeacherProfile.objects.get(user=city.users["teacher"]).pk]),
        note="补充材料",
        now=SUBMIT_NOW,
    )
    with pytest.raises(Conflict) as info:
        proof_attach(
            actor=city.users["school_admin"],
            version=first,
            kind="other",
            uploaded_file=upload(tiny_pdf()),
            now=SUBMIT_NOW,
        )
    assert info.value.code == "not_current_version"
    assert ProofFile.objects.count() == 1
    assert len(stored_files(media)) == 1


# --- downloading -----------------------------------------------------------------------------------------------
def download(client: APIClient, proof: ProofFile) -> Any:
    return client.get(f"/api/v1/proofs/{proof.pk}/download")


def test_the_submitter_downloads_an_attachment_with_safe_headers(city: City, cat: Any) -> None:
    sub = submitted_course(city)
    data = tiny_pdf()
    proof = attach(city, sub, data, name="课程方案.pdf")
    response = download(api_as(city.users["school_admin"]), proof)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''%E8%AF%BE%E7%A8%8B%E6%96%B9%E6%A1%88.pdf" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    assert "sandbox" in response["Content-Security-Policy"]


def test_an_image_is_served_with_its_detected_type(city: City, cat: Any) -> None:
    proof = attach(city, submitted_course(city), tiny_png(), name="scan.pdf")
    response = download(api_as(city.users["school_admin"]), proof)
    assert response["Content-Type"] == "image/png"
    assert 'filename="scan.png"' in response["Content-Disposition"]


def test_the_library_bureau_and_the_panel_experts_download_and_nobody_else(city: City, cat: Any) -> None:
    # Given a course of school A1 submitted to district A's library, with a proof and a drawn panel
    sub = submitted_course(city, library="district")
    proof = attach(city, sub, tiny_pdf())
    panel = drawn_panel(sub, city.users["district_admin"], size=3)
    members = list(panel.members.select_related("expert__user"))
    # Then the district bureau that owns the library, the city bureau, and each expert of the panel download it
    for user in [city.users["district_admin"], city.users["city_admin"], *(m.expert.user for m in members)]:
        assert download(api_as(user), proof).status_code == 200, user
    # And everyone else gets the same 404 as for a proof that does not exist
    missing = api_as(city.users["city_admin"]).get("/api/v1/proofs/999999/download")
    assert missing.status_code == 404
    a2_admin = f.UserFactory()
    f.grant(a2_admin, "school_admin", school=city.a2)
    b_admin = f.UserFactory()
    f.grant(b_admin, "district_admin", district=city.district_b)
    outsiders = [a2_admin, b_admin, city.users["teacher"], city.users["parent"]]
    outsiders += [city.users["nobody"], city.users["operator_staff"]]
    # The fixture's expert is an outsider only when the draw (which depends on database ids) left them out
    if city.users["expert"].expert_profile.pk not in {m.expert_id for m in members}:
        outsiders.append(city.users["expert"])
    for user in outsiders:
        response = download(api_as(user), proof)
        assert response.status_code == 404, user
        assert response.json() == missing.json()
    # An expert who declines stops seeing the proofs
    leaving = members[0]
    from kehou.catalog.services import review

    review.member_decline(actor=leaving.expert.user, member=leaving, reason="回避", now=SUBMIT_NOW)
    assert download(api_as(leaving.expert.user), proof).status_code == 404
    assert APIClient().get(f"/api/v1/proofs/{proof.pk}/download").status_code == 401


def test_a_district_following_its_schools_city_submissions_sees_the_submission_not_its_proofs(
    city: City, cat: Any
) -> None:
    sub = submitted_course(city, library="city")
    proof = attach(city, sub, tiny_pdf())
    client = api_as(city.users["district_admin"])
    assert client.get(f"/api/v1/submissions/{sub.pk}/").status_code == 200
    assert download(client, proof).status_code == 404


def test_a_proof_whose_file_is_gone_answers_404(city: City, cat: Any, media: Path) -> None:
    proof = attach(city, submitted_course(city), tiny_pdf())
    (media / proof.file.name).unlink()
    response = download(api_as(city.users["school_admin"]), proof)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
