"""Errors have stable codes and one shape, and bad input is never a 500 (DESIGN.md rule 6)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from kehou.conftest import PASSWORD, City
from kehou.core.tests.test_scope_walk import Pattern, by_kind
from kehou.testing import factories as f

TOKEN_URL = "/api/v1/auth/token"


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "fields"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["fields"], dict)
    return body["error"]


@pytest.fixture
def account(db: Any) -> Any:
    return f.UserFactory(username="li")


@pytest.fixture
def signed_in(account: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(account)
    return client


def post_raw(body: bytes | str, content_type: str = "application/json") -> Any:
    return APIClient().generic("POST", TOKEN_URL, body, content_type=content_type)


# --- the body -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("body", ["{", '{"username": "li", ', "nul\x00", '{"username": "li"} trailing', "\xff\xfe"])
def test_malformed_json_is_400_malformed_request(account: Any, body: str) -> None:
    assert_error(post_raw(body.encode("latin-1")), 400, "malformed_request")


@pytest.mark.parametrize("body", ["[]", '["li", "pw"]', '"li"', "42", "null"])
def test_a_json_body_that_is_not_an_object_is_400_invalid(account: Any, body: str) -> None:
    error = assert_error(post_raw(body), 400, "invalid")
    assert error["fields"], error


def test_wrong_types_are_400_invalid_with_the_fields(account: Any) -> None:
    response = APIClient().post(TOKEN_URL, {"username": ["li"], "password": {"a": 1}}, format="json")
    error = assert_error(response, 400, "invalid")
    assert set(error["fields"]) == {"username", "password"}
    assert error["fields"]["username"][0]["code"] == "invalid"


def test_missing_fields_are_400_invalid_with_the_fields(account: Any) -> None:
    error = assert_error(APIClient().post(TOKEN_URL, {}, format="json"), 400, "invalid")
    assert {name: items[0]["code"] for name, items in error["fields"].items()} == {
        "username": "required",
        "password": "required",
    }


def test_too_long_values_are_400_invalid(account: Any) -> None:
    response = APIClient().post(TOKEN_URL, {"username": "x" * 151, "password": PASSWORD}, format="json")
    error = assert_error(response, 400, "invalid")
    assert error["fields"]["username"][0]["code"] == "max_length"


def test_unknown_fields_are_400_unknown_field(account: Any) -> None:
    response = APIClient().post(
        TOKEN_URL, {"username": "li", "password": PASSWORD, "remember": True, "otp": "1"}, format="json"
    )
    error = assert_error(response, 400, "unknown_field")
    assert set(error["fields"]) == {"remember", "otp"}
    assert error["fields"]["otp"][0]["code"] == "unknown_field"


def test_an_oversize_body_is_413_body_too_large(account: Any) -> None:
    padding = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    body = json.dumps({"username": "li", "password": padding})
    assert_error(post_raw(body), 413, "body_too_large")


def test_an_oversize_body_to_a_page_form_is_refused(account: Any) -> None:
    padding = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = Client().post("/login/", {"username": "li", "password": padding})
    # Not the 400 of a failed login: the size limit answers before the form is read
    assert_error(response, 413, "body_too_large")


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "multipart/form-data; boundary=x"])
def test_unsupported_media_type_is_415(account: Any, content_type: str) -> None:
    response = post_raw('{"username": "li", "password": "x"}', content_type=content_type)
    assert_error(response, 415, "unsupported_media_type")


# --- URLs and methods ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url", ["/api/v1/nothing/", "/api/v1/schools/abc/", "/api/v1/schools/1/x/", "/api/nothing", "/api/v2/schools/"]
)
def test_unknown_api_urls_are_json_404(signed_in: APIClient, url: str) -> None:
    assert_error(signed_in.get(url), 404, "not_found")
    assert_error(APIClient().get(url), 404, "not_found")
    assert_error(signed_in.post(url, {}, format="json"), 404, "not_found")


def test_unknown_pages_are_html_404(account: Any) -> None:
    client = Client()
    client.force_login(account, backend="kehou.people.auth.PhoneOrUsernameBackend")
    for url in ("/nothing/", "/schools/abc/", "/pupils/1x/", "/schools/99999999999999999999999/"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("put", TOKEN_URL),
        ("get", TOKEN_URL),
        ("post", "/api/v1/schools/"),
        ("delete", "/api/v1/schools/1/"),
        ("patch", "/api/v1/students/1/"),
        ("post", "/api/v1/me/"),
    ],
)
def test_method_not_allowed_is_405(signed_in: APIClient, method: str, url: str) -> None:
    response = getattr(signed_in, method)(url, {}, format="json")
    assert_error(response, 405, "method_not_allowed")


def test_not_authenticated_is_401_in_the_one_shape(db: Any) -> None:
    error = assert_error(APIClient().get("/api/v1/schools/"), 401, "not_authenticated")
    assert error["fields"] == {}


# --- nothing is ever a 500 ----------------------------------------------------------------------------------
GARBAGE = [
    "page=abc",
    "page=0",
    "page=-1",
    "page=999999999",
    "page=99999999999999999999999999",
    "page=²",
    "page_size=100000",
    "page_size=-5",
    "page_size=abc",
    "page_size=²",
    "grade=abc",
    "grade=²",
    "grade=-3",
    "grade=99999999999999999999999",
    "school=abc",
    "school=99999999999999999999999",
    "school=²",
    "district=%3Cscript%3E",
    "district=99999999999999999999999",
    "stage=nonsense",
    "joined=maybe",
    "kind=%00",
    "search=%00",
    "q=%00",
    "search=%25%5F%5C",
    "q=" + "长" * 2000,
    "class_name=%00",
    "action=%00",
    "object_type=%00",
    "actor=%00",
    "since=0001-01-01",
    "until=0001-01-01",
    "since=9999-12-31",
    "until=9999-12-31",
    "since=2026-02-30",
    "since=%00",
    "format=xlsx&grade=abc",
    "format=csv",
    "format=%00",
    "page=2&page=x",
]


def test_garbage_query_parameters_are_never_a_500(city: City) -> None:
    lists = [p for p in by_kind("scoped") if not p.is_detail and "get" in p.methods()]
    assert len(lists) >= 5
    api = APIClient(raise_request_exception=False)
    api.force_authenticate(city.users["city_admin"])
    pages = Client(raise_request_exception=False)
    pages.force_login(city.users["city_admin"], backend="kehou.people.auth.PhoneOrUsernameBackend")
    failures = []
    for p in lists:
        url = p.url(format="json")
        client = api if p.is_api else pages
        for query in GARBAGE:
            response = client.get(f"{url}?{query}")
            if response.status_code >= 500:
                failures.append(f"GET {url}?{query} → {response.status_code}")
            elif p.is_api and response.status_code >= 400:
                assert_error(response, response.status_code, response.json()["error"]["code"])
    assert not failures, "\n".join(failures)


def test_huge_page_numbers_and_page_sizes(city: City) -> None:
    api = APIClient()
    api.force_authenticate(city.users["city_admin"])
    assert_error(api.get("/api/v1/schools/?page=999999999"), 404, "not_found")
    capped = api.get("/api/v1/schools/?page_size=100000")
    assert capped.status_code == 200
    assert capped.json()["count"] == 3
    pages = Client()
    pages.force_login(city.users["city_admin"], backend="kehou.people.auth.PhoneOrUsernameBackend")
    response = pages.get("/schools/?page=999999999")
    assert response.status_code == 200  # the last page
    assert city.a1.name in response.content.decode()


def _detail_patterns() -> list[Pattern]:
    return [p for p in by_kind("scoped") if p.is_detail and "get" in p.methods()]


def test_non_numeric_and_out_of_range_ids_are_404_not_500(city: City) -> None:
    api = APIClient(raise_request_exception=False)
    api.force_authenticate(city.users["city_admin"])
    pages = Client(raise_request_exception=False)
    pages.force_login(city.users["city_admin"], backend="kehou.people.auth.PhoneOrUsernameBackend")
    failures = []
    for p in _detail_patterns():
        for value in ("abc", "1.5", "-1", "99999999999999999999999", "%00", "１"):
            url = p.url(**{k: value for k in p.object_kwargs}, format="json")
            response = (api if p.is_api else pages).get(url)
            if response.status_code != 404:
                failures.append(f"GET {url} → {response.status_code}")
            elif p.is_api:
                assert_error(response, 404, "not_found")
    assert not failures, "\n".join(failures)


@pytest.mark.django_db
def test_a_nul_character_in_a_posted_form_is_a_400_not_a_500(city: Any) -> None:
    from kehou.conftest import page_as

    client = page_as(city.users["parent"])
    body = "reason=a%00b"  # a browser's form post is url-encoded
    response = client.post("/parent/notifications/", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
