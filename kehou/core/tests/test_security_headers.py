"""Issue 14: Content-Security-Policy (no inline script but by nonce), Permissions-Policy, and Cache-Control: no-store
on everything a signed-in person or an API client gets; the API docs work under the policy and offline."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from kehou.conftest import PASSWORD, City, page_as

TEMPLATES = Path(settings.BASE_DIR) / "kehou" / "templates"


def policy(response: Any) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in (part.strip() for part in header.split(";")) if d}


def nonce_of(response: Any) -> str:
    (source,) = [s for s in policy(response)["script-src"] if s.startswith("'nonce-")]
    return source[len("'nonce-") : -1]


@pytest.mark.parametrize("path", ["/login/", "/api/v1/me/", "/api/schema/", "/api/docs/", "/no-such-page/"])
def test_every_answer_has_a_content_security_policy_without_inline_script(db: Any, path: str) -> None:
    response = Client().get(path)
    directives = policy(response)
    assert directives["default-src"] == ["'self'"]
    assert "'unsafe-inline'" not in directives["script-src"] and "'unsafe-eval'" not in directives["script-src"]
    assert directives["object-src"] == ["'none'"] and directives["base-uri"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert not any("http" in s or s == "*" for d in directives.values() for s in d)  # nothing from elsewhere


def test_the_nonce_is_new_each_time_and_the_pages_inline_script_carries_it(db: Any) -> None:
    first, second = Client().get("/login/"), Client().get("/login/")
    assert nonce_of(first) != nonce_of(second) and len(nonce_of(first)) >= 22
    html = first.content.decode()
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert inline, "base.html's inline script"
    assert all(f'nonce="{nonce_of(first)}"' in attrs for attrs in inline)


def test_permissions_policy_denies_devices_and_payment_and_keeps_geolocation_for_the_site(db: Any) -> None:
    header = Client().get("/login/")["Permissions-Policy"]
    features = dict(item.strip().split("=", 1) for item in header.split(","))
    assert features["geolocation"] == "(self)"
    for feature in ("camera", "microphone", "payment", "usb", "serial", "bluetooth", "display-capture"):
        assert features[feature] == "()", feature


def test_signed_in_pages_and_api_answers_are_not_stored(city: City) -> None:
    client = page_as(city.users["school_admin"])
    for path in ("/", f"/schools/{city.a1.pk}/", "/pupils/", "/api/v1/me/", f"/api/v1/students/?school={city.a1.pk}"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" in response["Cache-Control"], path
    # An API client with a token, the token itself, and an API refusal: not stored either
    issued = APIClient().post("/api/v1/auth/token", {"username": "school_a1", "password": PASSWORD}, format="json")
    assert issued.status_code == 201 and "no-store" in issued["Cache-Control"]
    bearer = APIClient()
    bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.json()['token']}")
    assert "no-store" in bearer.get("/api/v1/students/")["Cache-Control"]
    assert "no-store" in APIClient().get("/api/v1/students/")["Cache-Control"]
    # The personal data on a pupil's page
    pupil = client.get(f"/pupils/{city.pupil_a1.pk}/")
    assert pupil.status_code == 200 and "no-store" in pupil["Cache-Control"]


def test_no_template_has_an_inline_script_without_the_nonce_or_an_inline_event_handler() -> None:
    offenders = []
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        for match in re.finditer(r"<script\b([^>]*)>", text):
            if "src=" not in match.group(1) and "nonce=" not in match.group(1):
                offenders.append(f"{template.relative_to(TEMPLATES)}: {match.group(0)}")
        if re.search(r"\son[a-z]+\s*=", text) or "javascript:" in text:
            offenders.append(f"{template.relative_to(TEMPLATES)}: inline event handler")
    assert not offenders, offenders


def test_the_api_docs_run_under_the_policy_and_redoc_is_gone(db: Any) -> None:
    docs = Client().get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*nonce=)[^>]*>", html), "inline script without the nonce"
    for src in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert src.startswith("/"), src  # served from here: works offline
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', html)
    assert scripts and all(Client().get(s).status_code == 200 for s in scripts)
    assert Client().get("/api/redoc/").status_code == 404
