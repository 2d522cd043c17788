"""The classroom screen's QR login: waiting → scanned → approved → used, or expired / rejected; a code works once; a
leaked login id is useless without the screen's secret; another teacher's confirmation, forged and expired codes are
refused with stable codes; the screen's session reaches teaching only; starts, wrong secrets and scans are limited."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

import pytest
from django.test import Client

from kehou.conftest import City, api_as, page_as
from kehou.core import clock
from kehou.core.models import AuditEntry
from kehou.teaching.models import ScreenLogin

pytestmark = pytest.mark.django_db


def start(client: Client, **body: Any) -> dict[str, Any]:
    r = (
        client.post("/api/v1/qr-login/", body, content_type="application/json")
        if body
        else client.post("/api/v1/qr-login/", content_type="application/json")
    )
    assert r.status_code == 201, r.content
    return r.json()


def token_of(data: dict[str, Any]) -> str:
    return urlparse(data["qr_payload"]).path.rsplit("/", 1)[1]


def poll(client: Client, data: dict[str, Any], secret: str | None = None) -> Any:
    return client.get(f"/api/v1/qr-login/{data['id']}/", HTTP_X_SCREEN_SECRET=secret or data["secret"])


def test_the_two_device_login_end_to_end(city: City) -> None:
    screen = Client()
    data = start(screen, screen_name="三(2)班教室")
    assert data["qr_svg"].startswith("data:image/svg+xml") and len(data["match_number"]) == 2
    assert data["qr_payload"].startswith("http://testserver/teach/qr/")
    assert poll(screen, data).json()["status"] == "waiting"
    phone = page_as(city.users["teacher"])
    page = phone.get(f"/teach/qr/{token_of(data)}")
    assert page.status_code == 200 and data["match_number"].encode() in page.content
    assert "三(2)班教室".encode() in page.content and b"127.0.0.1" in page.content
    state = poll(screen, data).json()
    assert state["status"] == "scanned" and state["teacher"]
    r = phone.post(f"/teach/logins/{data['id']}/confirm")
    assert r.status_code == 302
    assert poll(screen, data).json()["status"] == "approved"
    # the screen's secret is needed to turn it into a session
    thief = Client()
    assert thief.post(f"/api/v1/qr-login/{data['id']}/session", HTTP_X_SCREEN_SECRET="guess").status_code == 404
    r = screen.post(f"/api/v1/qr-login/{data['id']}/session", HTTP_X_SCREEN_SECRET=data["secret"])
    assert r.status_code == 200 and r.json()["redirect"] == "/teach/"
    home = screen.get("/teach/")
    assert home.status_code == 200 and b"data-screen-session" in home.content
    # once (asked from another browser holding the secret: the screen's own session is teaching-only now)
    again = Client().post(f"/api/v1/qr-login/{data['id']}/session", HTTP_X_SCREEN_SECRET=data["secret"])
    assert again.status_code == 409 and again.json()["error"]["code"] == "qr_login_used"
    actions = list(AuditEntry.objects.filter(action__startswith="teaching.").values_list("action", flat=True))
    assert sorted(actions) == sorted(
        [
            "teaching.qr_login_scan",
            "teaching.qr_login_approve",
            "teaching.qr_login_use",
            "teaching.qr_login_wrong_secret",
        ]
    )


def test_the_screens_session_is_teaching_only(city: City) -> None:
    screen = Client()
    data = start(screen)
    phone = api_as(city.users["teacher"])
    assert phone.post("/api/v1/qr-login/scan", {"token": token_of(data)}, format="json").status_code == 200
    assert phone.post(f"/api/v1/qr-login/{data['id']}/confirm").status_code == 200
    screen.post(f"/api/v1/qr-login/{data['id']}/session", HTTP_X_SCREEN_SECRET=data["secret"])
    for path in ("/pay/", "/pupils/", "/classes/", "/payments/", "/timetable/", "/"):
        r = screen.get(path)
        assert r.status_code == 302 and r["Location"] == "/teach/", path
    for path in ("/api/v1/pay-lines/", "/api/v1/students/", "/api/v1/orders/", "/api/v1/payee/"):
        r = screen.get(path)
        assert r.status_code == 403 and r.json()["error"]["code"] == "teaching_only", path
    # the screen cannot approve another screen's login with the teacher's session
    other = start(Client())
    r = screen.post("/api/v1/qr-login/scan", {"token": token_of(other)}, content_type="application/json")
    assert r.status_code in (403, 404)
    assert ScreenLogin.objects.get(public_id=other["id"]).status == "waiting"
    assert screen.get("/teach/").status_code == 200


def test_a_wrong_secret_is_a_404_and_enough_of_them_expire_the_login(city: City) -> None:
    screen = Client()
    data = start(screen)
    for _ in range(4):
        r = poll(screen, data, "wrong")
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert screen.get(f"/api/v1/qr-login/{data['id']}/").status_code == 404  # no secret at all
    assert ScreenLogin.objects.get(public_id=data["id"]).status == "expired"
    assert poll(screen, data).json()["status"] == "expired"
    assert poll(screen, {"id": "nope", "secret": data["secret"]}).status_code == 404


def test_codes_expire_work_once_and_belong_to_the_first_scanner(city: City, monkeypatch: pytest.MonkeyPatch) -> None:
    from kehou.testing import factories as f

    teacher, other = api_as(city.users["teacher"]), api_as(f.teacher_at(city.a1))
    data = start(Client())
    token = token_of(data)
    r = teacher.post("/api/v1/qr-login/scan", {"token": "forged" + token[6:]}, format="json")
    assert r.status_code == 400 and r.json()["error"]["code"] == "qr_login_invalid"
    assert teacher.post("/api/v1/qr-login/scan", {"token": token}, format="json").status_code == 200
    r = other.post("/api/v1/qr-login/scan", {"token": token}, format="json")
    assert r.status_code == 409 and r.json()["error"]["code"] == "qr_login_taken"
    # another teacher's confirmation is refused as if the login did not exist, and changes nothing
    assert other.post(f"/api/v1/qr-login/{data['id']}/confirm").status_code == 404
    assert ScreenLogin.objects.get(public_id=data["id"]).status == "scanned"
    r = api_as(city.users["parent"]).post("/api/v1/qr-login/scan", {"token": token}, format="json")
    assert r.status_code == 403 and r.json()["error"]["code"] == "not_teacher"
    assert teacher.post(f"/api/v1/qr-login/{data['id']}/reject").status_code == 200
    r = teacher.post(f"/api/v1/qr-login/{data['id']}/confirm")
    assert r.status_code == 409 and r.json()["error"]["code"] == "qr_login_used"
    r = teacher.post("/api/v1/qr-login/scan", {"token": token}, format="json")
    assert r.status_code == 409 and r.json()["error"]["code"] == "qr_login_used"
    # expiry
    late = start(Client())
    real = clock.now()
    monkeypatch.setattr(clock, "now", lambda: real + timedelta(minutes=4))
    r = teacher.post("/api/v1/qr-login/scan", {"token": token_of(late)}, format="json")
    assert r.status_code == 409 and r.json()["error"]["code"] == "qr_login_expired"


def test_starts_and_scans_are_rate_limited(city: City, settings: Any) -> None:
    settings.KEHOU_TEACHING = {**settings.KEHOU_TEACHING, "START_RATE": "3/minute", "SCAN_RATE": "2/minute"}
    screen = Client()
    for _ in range(3):
        start(screen)
    r = screen.post("/api/v1/qr-login/", content_type="application/json")
    assert r.status_code == 429 and r.json()["error"]["code"] == "qr_login_throttled" and r["Retry-After"]
    teacher = api_as(city.users["teacher"])
    for _ in range(2):
        teacher.post("/api/v1/qr-login/scan", {"token": "x" * 20}, format="json")
    r = teacher.post("/api/v1/qr-login/scan", {"token": "x" * 20}, format="json")
    assert r.status_code == 429


def test_bad_bodies_are_refused(city: City) -> None:
    screen = Client()
    r = screen.post("/api/v1/qr-login/", {"screen_name": "x", "extra": 1}, content_type="application/json")
    assert r.status_code == 400 and r.json()["error"]["code"] == "unknown_field"
    r = screen.post("/api/v1/qr-login/", "[1]", content_type="application/json")
    assert r.status_code == 400
    r = screen.post("/api/v1/qr-login/", {"screen_name": "长" * 61}, content_type="application/json")
    assert r.status_code == 400 and not ScreenLogin.objects.exists()
    data = start(screen, screen_name="  <script>alert(1)</script>  ")
    assert ScreenLogin.objects.get(public_id=data["id"]).screen_name == "<script>alert(1)</script>"
    phone = page_as(city.users["teacher"])
    page = phone.get(f"/teach/qr/{token_of(data)}")
    assert b"<script>alert(1)" not in page.content


def test_the_screen_page_needs_no_account(city: City) -> None:
    r = Client().get("/teach/screen/")
    assert r.status_code == 200 and b"data-screen-login" in r.content and b"screen_login.js" in r.content
