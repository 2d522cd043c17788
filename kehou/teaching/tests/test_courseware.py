"""Courseware (课件): uploads checked by content with limits and server-made names; Office packages made safe (zip
bombs, macros, encryption refused; external links stripped); conversion in its own processes, with a time limit,
cached by the content's hash; pages served as PNG in a sandbox; presenting, and the remote turning pages."""

from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kehou.conftest import City, api_as
from kehou.core.audit_actions import AuditAction
from kehou.core.models import AuditEntry
from kehou.notify import events
from kehou.teaching import convert, files, samples
from kehou.teaching.models import Courseware, Presentation, Rendition
from kehou.teaching.services.courseware import rendition_convert
from kehou.testing import factories as f

pytestmark = pytest.mark.django_db
URL = "/api/v1/teaching/courseware/"
HAS_SOFFICE = convert.soffice() is not None


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": root}},
    }
    return root


def upload(user: Any, school: Any, data: bytes, name: str, **extra: Any) -> Any:
    body = {"file": SimpleUploadedFile(name, data, content_type="application/octet-stream"), "school": school.pk}
    return api_as(user).post(URL, {**body, **extra}, format="multipart")


def convert_all() -> list[str]:
    return [rendition_convert(rendition_id=r.pk, now=r.created_at) for r in Rendition.objects.filter(status="queued")]


def nothing_stored(media: Path) -> bool:
    return not any(p.is_file() for p in media.rglob("*"))


# --- what a file is ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "课件.pdf"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "课件.pdf"),
        (b"MZ\x90\x00" + b"\x00" * 60, "课件.pptx"),
        (files.OLE2 + b"\x00" * 100, "旧课件.ppt"),
        (b"", "空.pdf"),
    ],
)
def test_a_file_that_lies_about_its_type_is_refused_and_nothing_is_kept(
    city: City, media: Path, data: bytes, name: str
) -> None:
    r = upload(city.users["teacher"], city.a1, data, name)
    assert r.status_code == 400, r.content
    assert r.json()["error"]["code"] in ("invalid_file_type", "invalid")
    assert not Courseware.objects.exists() and not Rendition.objects.exists() and nothing_stored(media)


def test_a_zip_that_is_no_office_file_is_refused(city: City, media: Path) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("index.html", "<script>alert(1)</script>")
    r = upload(city.users["teacher"], city.a1, out.getvalue(), "课件.pptx")
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_file_type"
    assert nothing_stored(media)


def _package(parts: dict[str, bytes], *, compress: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compress) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return out.getvalue()


BASE = {"[Content_Types].xml": b"<Types/>", "ppt/presentation.xml": b"<p/>"}


@pytest.mark.parametrize(
    "parts",
    [
        {**BASE, "ppt/media/bomb.bin": b"\x00" * (40 * 1024 * 1024)},  # compresses ~1000:1
        {**BASE, "ppt/vbaProject.bin": b"macro"},
        {**BASE, "../../etc/cron.d/x": b"x"},
    ],
    ids=["zip-bomb", "macros", "path-outside"],
)
def test_an_unsound_office_package_is_refused(city: City, media: Path, parts: dict[str, bytes]) -> None:
    r = upload(city.users["teacher"], city.a1, _package(parts), "课件.pptx")
    assert r.status_code == 400, r.content
    assert r.json()["error"]["code"] == "courseware_unsafe"
    assert not Courseware.objects.exists() and nothing_stored(media)


def test_a_package_that_unpacks_past_its_limit_is_refused(city: City, settings: Any) -> None:
    settings.KEHOU_TEACHING = {**settings.KEHOU_TEACHING, "UNPACKED_MAX_BYTES": 100_000}
    data = _package({**BASE, "ppt/media/a.bin": os.urandom(150_000)}, compress=zipfile.ZIP_STORED)
    r = upload(city.users["teacher"], city.a1, data, "课件.pptx")
    assert r.status_code == 400 and r.json()["error"]["code"] == "courseware_unsafe"


def test_an_encrypted_package_is_refused() -> None:
    data = bytearray(_package(BASE, compress=zipfile.ZIP_STORED))
    # set the "encrypted" flag of every entry, local and central (what a password-protected ZIP carries)
    for sig, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        i = data.find(sig)
        while i != -1:
            data[i + offset] |= 0x1
            i = data.find(sig, i + 4)
    with pytest.raises(Exception) as caught:
        files.office_clean(io.BytesIO(bytes(data)), unpacked_max=10**8)
    assert getattr(caught.value, "code", "") == "courseware_unsafe"


def test_external_links_are_stripped_before_conversion(city: City) -> None:
    deck = samples.deck(3, external_link="http://198.51.100.7/track.png")
    r = upload(city.users["teacher"], city.a1, deck, "外链课件.pptx", title="外链")
    assert r.status_code == 201, r.content
    assert r.json()["external_links_removed"] == 1 and r.json()["kind"] == "slides"
    stored = Courseware.objects.get().file
    with zipfile.ZipFile(stored.open("rb")) as z:
        rels = b"".join(z.read(n) for n in z.namelist() if n.endswith(".rels"))
    assert b"198.51.100.7" not in rels and b'TargetMode="External"' not in rels


def test_size_limits(city: City, settings: Any) -> None:
    settings.KEHOU_TEACHING = {**settings.KEHOU_TEACHING, "DOC_MAX_BYTES": 1000, "MEDIA_MAX_BYTES": 200_000}
    r = upload(city.users["teacher"], city.a1, samples.pdf(1), "大.pdf")
    assert r.status_code == 413 and r.json()["error"]["code"] == "file_too_large"
    r = upload(city.users["teacher"], city.a1, samples.wav(1.0), "朗读.wav")  # 32 KB of sound: under its own limit
    assert r.status_code == 201 and r.json()["kind"] == "audio" and r.json()["ready"] is True


# --- who uploads ------------------------------------------------------------------------------------------------


def test_only_a_teacher_of_the_school_uploads(city: City, media: Path) -> None:
    r = upload(city.users["school_admin"], city.a1, samples.png(), "图.png")
    assert r.status_code == 403 and r.json()["error"]["code"] == "not_teacher"
    r = upload(city.users["teacher"], city.a2, samples.png(), "图.png")
    assert r.status_code == 400 and r.json()["error"]["code"] == "courseware_invalid"
    r = upload(city.users["parent"], city.a1, samples.png(), "图.png")
    assert r.status_code == 403
    assert not Courseware.objects.exists() and nothing_stored(media)


def test_sharing_decides_who_sees_courseware(city: City) -> None:
    teacher, colleague, outsider = city.users["teacher"], f.teacher_at(city.a1), f.teacher_at(city.a2)
    mine = upload(teacher, city.a1, samples.png(), "私.png").json()["id"]
    shared = upload(teacher, city.a1, samples.png(colour=(10, 20, 200)), "共享.png", sharing="school").json()["id"]

    def seen(user: Any) -> set[int]:
        return {row["id"] for row in api_as(user).get(URL).json()["results"]}

    assert seen(teacher) == {mine, shared}
    assert seen(colleague) == {shared}
    assert seen(outsider) == set() and seen(city.users["parent"]) == set()
    assert api_as(outsider).get(f"{URL}{shared}/").status_code == 404
    assert api_as(outsider).get(f"{URL}{shared}/file").status_code == 404


# --- conversion -------------------------------------------------------------------------------------------------


def test_a_pdf_is_drawn_page_by_page_and_pages_are_served_sandboxed(city: City) -> None:
    r = upload(city.users["teacher"], city.a1, samples.pdf(3), "学习单.pdf", title="学习单")
    assert r.status_code == 201 and r.json()["conversion"]["status"] == "queued" and r.json()["ready"] is False
    assert convert_all() == ["ready"]
    item = api_as(city.users["teacher"]).get(f"{URL}{r.json()['id']}/").json()
    assert item["pages"] == 3 and item["ready"] and item["conversion"]["status"] == "ready"
    page = api_as(city.users["teacher"]).get(item["page_url"].replace("{n}", "2"))
    assert page.status_code == 200 and page["Content-Type"] == "image/png"
    assert b"".join(page.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"
    assert "sandbox" in page["Content-Security-Policy"] and page["X-Content-Type-Options"] == "nosniff"
    assert api_as(city.users["teacher"]).get(item["page_url"].replace("{n}", "4")).status_code == 404
    # the uploaded PDF itself is only ever an attachment
    original = api_as(city.users["teacher"]).get(item["file_url"])
    assert original["Content-Disposition"].startswith("attachment") and "sandbox" in original["Content-Security-Policy"]
    assert AuditEntry.objects.filter(action=AuditAction.COURSEWARE_CONVERTED).exists()


def test_an_image_is_drawn_again_without_its_metadata(city: City) -> None:
    r = upload(city.users["teacher"], city.a1, samples.png(3200, 1800), "大图.png")
    assert convert_all() == ["ready"]
    item = Courseware.objects.get(pk=r.json()["id"])
    from django.core.files.storage import default_storage
    from PIL import Image

    with default_storage.open(item.rendition.page_name(1), "rb") as page, Image.open(page) as image:
        assert image.width == 1600  # scaled to the page width


def test_the_same_content_is_converted_once(city: City, db_tasks: None) -> None:
    data = samples.pdf(2)
    first = upload(city.users["teacher"], city.a1, data, "一.pdf").json()
    assert convert_all() == ["ready"]
    colleague = f.teacher_at(city.a1)
    second = upload(colleague, city.a1, data, "二.pdf").json()
    assert second["ready"] is True and second["pages"] == 2  # ready at once, from the cache
    assert Rendition.objects.count() == 1
    assert first["sha256"] == second["sha256"]


def test_a_corrupt_pdf_fails_with_a_code_and_is_not_presentable(city: City) -> None:
    r = upload(city.users["teacher"], city.a1, b"%PDF-1.4\n" + os.urandom(2000), "坏.pdf")
    assert r.status_code == 201
    assert convert_all() == ["pdf_unreadable"]
    item = api_as(city.users["teacher"]).get(f"{URL}{r.json()['id']}/").json()
    assert item["conversion"]["status"] == "failed" and item["conversion"]["error_code"] == "pdf_unreadable"
    r = api_as(city.users["teacher"]).post("/api/v1/teaching/presentations/", {"courseware": item["id"]}, format="json")
    assert r.status_code == 409 and r.json()["error"]["code"] == "courseware_not_ready"


def _fake_soffice(tmp_path: Path, script: str) -> str:
    program = tmp_path / "soffice"
    program.write_text("#!/bin/sh\n" + script)
    program.chmod(program.stat().st_mode | stat.S_IEXEC)
    return str(program)


def test_a_conversion_that_hangs_is_killed_and_the_worker_goes_on(city: City, settings: Any, tmp_path: Path) -> None:
    hang = _fake_soffice(tmp_path, f"echo $$ > {tmp_path}/pid\nsleep 300\n")
    settings.KEHOU_TEACHING = {**settings.KEHOU_TEACHING, "SOFFICE": hang, "CONVERT_SECONDS": 2}
    upload(city.users["teacher"], city.a1, samples.deck(2), "卡住.pptx")
    assert convert_all() == ["conversion_timeout"]
    rendition = Rendition.objects.get()
    assert rendition.status == "failed" and rendition.error_code == "conversion_timeout"
    pid = int((tmp_path / "pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # killed with its process group
    # the same worker converts the next one
    upload(city.users["teacher"], city.a1, samples.pdf(1), "下一个.pdf")
    assert convert_all() == ["ready"]


def test_no_converter_is_a_clear_failure_tried_again_on_upload(city: City, settings: Any, tmp_path: Path) -> None:
    settings.KEHOU_TEACHING = {**settings.KEHOU_TEACHING, "SOFFICE": str(tmp_path / "missing")}
    data = samples.deck(2)
    upload(city.users["teacher"], city.a1, data, "课件.pptx")
    assert convert_all() == ["converter_missing"]
    upload(city.users["teacher"], city.a1, data, "课件.pptx")  # the same content again: queued again
    assert Rendition.objects.get().status == "queued"


@pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice is not installed")
def test_a_powerpoint_deck_is_converted_by_libreoffice(city: City) -> None:
    r = upload(city.users["teacher"], city.a1, samples.deck(5), "色彩.pptx", title="色彩的秘密")
    assert r.status_code == 201 and r.json()["kind"] == "slides"
    assert convert_all() == ["ready"]
    rendition = Rendition.objects.get()
    assert rendition.pages == 5 and rendition.seconds and rendition.seconds > 0


@pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice is not installed")
def test_a_word_document_is_converted(city: City) -> None:
    upload(city.users["teacher"], city.a1, samples.document(), "练习.docx")
    assert convert_all() == ["ready"]
    assert Courseware.objects.get().kind == "document"


# --- presenting and the remote ----------------------------------------------------------------------------------


@pytest.fixture
def deck(city: City) -> int:
    r = upload(city.users["teacher"], city.a1, samples.pdf(4), "学习单.pdf", title="学习单")
    convert_all()
    return int(r.json()["id"])


def test_the_remote_turns_pages_and_the_screen_is_told(
    city: City, deck: int, monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    sent: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(events, "_broadcast_now", lambda topic, data: sent.append((topic, data)))
    client = api_as(city.users["teacher"])
    r = client.post("/api/v1/teaching/presentations/", {"courseware": deck, "screen_name": "三(2)班"}, format="json")
    assert r.status_code == 201 and r.json()["page"] == 1 and r.json()["pages"] == 4
    show = r.json()["id"]
    go = f"/api/v1/teaching/presentations/{show}/go"
    for action, page, expected in (("next", None, 2), ("next", None, 3), ("prev", None, 2), ("goto", 4, 4)):
        with django_capture_on_commit_callbacks(execute=True):
            r = client.post(go, {"action": action, **({"page": page} if page else {})}, format="json")
        assert r.status_code == 200 and r.json()["page"] == expected, r.content
    assert [(topic, data["page"]) for topic, data in sent] == [(f"presentation:{show}", n) for n in (2, 3, 2, 4)]
    r = client.post(go, {"action": "next"}, format="json")
    assert r.json()["page"] == 4  # stays on the last page
    r = client.post(go, {"action": "goto", "page": 9}, format="json")
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid"
    assert Presentation.objects.get().page == 4
    assert client.get(f"/api/v1/teaching/presentations/{show}/").json()["page"] == 4


def test_only_its_teacher_drives_a_presentation(city: City, deck: int) -> None:
    client = api_as(city.users["teacher"])
    show = client.post("/api/v1/teaching/presentations/", {"courseware": deck}, format="json").json()["id"]
    go = f"/api/v1/teaching/presentations/{show}/go"
    for other in (f.teacher_at(city.a1), city.users["school_admin"], city.users["parent"]):
        r = api_as(other).post(go, {"action": "next"}, format="json")
        assert r.status_code == 404
    assert Presentation.objects.get().page == 1
    from kehou.teaching.services.courseware import may_follow

    assert may_follow(city.users["teacher"].pk, show) and not may_follow(city.users["school_admin"].pk, show)
    r = client.post(go, {"action": "end"}, format="json")
    assert r.json()["ended"] is True
    r = client.post(go, {"action": "next"}, format="json")
    assert r.status_code == 409 and r.json()["error"]["code"] == "presentation_ended"
    assert client.get("/api/v1/teaching/presentations/").json()["results"] == []


def test_a_colleague_cannot_present_private_courseware(city: City, deck: int) -> None:
    r = api_as(f.teacher_at(city.a1)).post("/api/v1/teaching/presentations/", {"courseware": deck}, format="json")
    assert r.status_code == 404


# --- what an outside review found (each failed before its fix) ----------------------------------------------------


def _docx_with_document(xml: bytes) -> bytes:
    base = zipfile.ZipFile(io.BytesIO(samples.document()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name in base.namelist():
            z.writestr(name, xml if name == "word/document.xml" else base.read(name))
    return out.getvalue()


def test_a_document_part_too_large_for_a_document_is_refused(city: City, settings: Any, media: Path) -> None:
    settings.KEHOU_TEACHING = {**settings.KEHOU_TEACHING, "PART_MAX_BYTES": 200_000}
    paragraphs = b"".join(b"<w:p><w:r><w:t>%d</w:t></w:r></w:p>" % (i * 7919 % 100_003) for i in range(20_000))
    r = upload(
        city.users["teacher"],
        city.a1,
        _docx_with_document(b"<w:document><w:body>" + paragraphs + b"</w:body></w:document>"),
        "大文档.docx",
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "courseware_unsafe"
    assert nothing_stored(media)


@pytest.mark.parametrize("where", ["relationship", "content-type"])
def test_macros_under_another_name_are_refused(city: City, where: str) -> None:
    vba = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
    parts = {
        "[Content_Types].xml": b'<Types><Override PartName="/word/document.xml" ContentType="application/'
        b'vnd.ms-word.document.macroEnabled.main+xml"/></Types>'
        if where == "content-type"
        else b"<Types/>",
        "word/document.xml": b"<w:document/>",
        "word/_rels/document.xml.rels": (
            f'<Relationships xmlns="{files.RELS_NS}"><Relationship Id="rId9" Type="{vba}" Target="p.bin"/>'
            "</Relationships>"
        ).encode()
        if where == "relationship"
        else f'<Relationships xmlns="{files.RELS_NS}"/>'.encode(),
        "word/p.bin": b"\x00" * 64,
    }
    r = upload(city.users["teacher"], city.a1, _package(parts), "宏.docx")
    assert r.status_code == 400 and r.json()["error"]["code"] == "courseware_unsafe"


def test_the_converters_memory_is_capped(city: City, settings: Any) -> None:
    if not HAS_SOFFICE:
        pytest.skip("LibreOffice is not installed")
    settings.KEHOU_TEACHING = {**settings.KEHOU_TEACHING, "CONVERT_MEMORY_MB": 64}
    upload(city.users["teacher"], city.a1, samples.deck(2), "课件.pptx")
    assert convert_all() in (["conversion_failed"], ["conversion_timeout"])


def test_pages_that_would_fill_the_disk_fail_as_too_large(city: City, settings: Any) -> None:
    settings.KEHOU_TEACHING = {**settings.KEHOU_TEACHING, "PAGES_MAX_BYTES": 1}
    upload(city.users["teacher"], city.a1, samples.pdf(3), "学习单.pdf")
    assert convert_all() == ["too_large"]


def test_an_unexpected_error_fails_the_conversion_and_a_dead_worker_is_swept(city: City, monkeypatch: Any) -> None:
    from datetime import timedelta

    from kehou.teaching.services import courseware as cw

    upload(city.users["teacher"], city.a1, samples.pdf(1), "一.pdf")
    rendition = Rendition.objects.get()

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "bad output")

    monkeypatch.setattr(convert, "convert", boom)
    assert cw.rendition_convert(rendition_id=rendition.pk, now=rendition.created_at) == "conversion_failed"
    rendition.refresh_from_db()
    assert rendition.status == "failed" and rendition.error_code == "conversion_failed"
    monkeypatch.undo()
    # a worker that died mid-conversion: the sweep queues it again once it is stale
    Rendition.objects.filter(pk=rendition.pk).update(status="converting", started_at=rendition.created_at)
    assert cw.renditions_sweep(now=rendition.created_at + timedelta(seconds=30)) == 0
    assert cw.renditions_sweep(now=rendition.created_at + timedelta(hours=1)) == 1
    assert Rendition.objects.get(pk=rendition.pk).status == "queued"


def test_superscript_digits_and_control_characters_are_plain_bad_input(city: City) -> None:
    from kehou.conftest import page_as

    client = page_as(city.users["teacher"])
    file = SimpleUploadedFile("a\x00b\u202egnp.png", samples.png())
    r = client.post("/teach/courseware/", {"file": file, "school": "²", "title": ""})
    assert r.status_code == 302 and not Courseware.objects.exists()  # back to the form with the message
    r = client.post("/teach/lessons/", {"title": "课", "goals": "目标", "steps": "热身 | ²", "school": "1" * 5000})
    assert r.status_code == 200
    r = upload(city.users["teacher"], city.a1, samples.png(), "a\x00b\u202egnp.png")
    assert r.status_code == 201 and Courseware.objects.get().title == "abgnp"


def _screen_of(user: Any) -> Any:
    from urllib.parse import urlparse

    from django.test import Client

    screen = Client()
    data = screen.post("/api/v1/qr-login/", content_type="application/json").json()
    token = urlparse(data["qr_payload"]).path.rsplit("/", 1)[1]
    phone = api_as(user)
    phone.post("/api/v1/qr-login/scan", {"token": token}, format="json")
    phone.post(f"/api/v1/qr-login/{data['id']}/confirm")
    assert screen.post(f"/api/v1/qr-login/{data['id']}/session", HTTP_X_SCREEN_SECRET=data["secret"]).status_code == 200
    return screen


def test_pages_revalidate_and_a_screen_takes_no_files_away(city: City, deck: int) -> None:
    from kehou.conftest import page_as

    url = f"{URL}{deck}/pages/1"
    first = page_as(city.users["teacher"]).get(url)
    assert first.status_code == 200 and first["Cache-Control"] == "private, no-cache" and first["ETag"]
    again = page_as(city.users["teacher"]).get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    screen = _screen_of(city.users["teacher"])
    assert screen.get(url).status_code == 200  # the screen shows pages
    r = screen.get(f"{URL}{deck}/file")
    assert r.status_code == 403 and r.json()["error"]["code"] == "teaching_only"


def test_a_screen_sets_no_sessions_lesson_through_the_page(city: City) -> None:
    from kehou.enrolment.models import ClassSession
    from kehou.teaching.models import SessionLesson

    screen = _screen_of(city.users["teacher"])
    session = ClassSession.objects.first()
    r = screen.post(f"/teach/sessions/{session.pk if session else 1}/lesson", {"lesson": "1"})
    assert r.status_code == 302 and r["Location"] == "/teach/" and not SessionLesson.objects.exists()
