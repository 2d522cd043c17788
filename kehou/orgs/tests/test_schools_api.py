"""The schools API contract: scoped, paginated JSON with filters, used with a bearer token."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from kehou.conftest import PASSWORD, City
from kehou.orgs.models import School
from kehou.testing import factories as f


def bearer_for(username: str) -> APIClient:
    response = APIClient().post("/api/v1/auth/token", {"username": username, "password": PASSWORD}, format="json")
    assert response.status_code == 201, response.content
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['token']}")
    return client


@pytest.fixture
def city_api(city: City) -> APIClient:
    return bearer_for("city")


def codes(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [s["code"] for s in response.json()["results"]]


def test_list_is_paginated_json_with_the_school_contract(city: City, city_api: APIClient) -> None:
    response = city_api.get("/api/v1/schools/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert {"count", "next", "previous", "results"} <= set(body)
    assert body["count"] == 3
    first = body["results"][0]
    assert {"id", "code", "name", "district"} <= set(first)
    assert first == city_api.get(f"/api/v1/schools/{first['id']}/").json()
    a1 = next(s for s in body["results"] if s["code"] == "3601020001")
    assert a1["id"] == city.a1.pk
    assert a1["name"] == "东湖甲小学"
    assert a1["district"]["code"] == "360102"
    assert a1["district"]["name"] == "东湖区"
    assert a1["pupil_count"] == 1
    assert a1["has_joined"] is True


def test_list_is_ordered_by_district_then_code(city: City, city_api: APIClient) -> None:
    assert codes(city_api.get("/api/v1/schools/")) == ["3601020001", "3601020002", "3601030001"]


def test_pages(city: City, city_api: APIClient) -> None:
    page1 = city_api.get("/api/v1/schools/?page_size=2").json()
    assert [s["code"] for s in page1["results"]] == ["3601020001", "3601020002"]
    assert page1["next"] and page1["previous"] is None
    page2 = city_api.get("/api/v1/schools/?page_size=2&page=2").json()
    assert [s["code"] for s in page2["results"]] == ["3601030001"]
    assert page2["next"] is None


def test_detail(city: City, city_api: APIClient) -> None:
    response = city_api.get(f"/api/v1/schools/{city.b1.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["code"], body["name"]) == (city.b1.pk, "3601030001", "西湖丙小学")
    assert body["district"] == {"id": city.district_b.pk, "code": "360103", "name": "西湖区", "kind": "district"}


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("city", ["3601020001", "3601020002", "3601030001"]),
        ("district_a", ["3601020001", "3601020002"]),
        ("school_a1", ["3601020001"]),
        ("operator", ["3601020001"]),
        ("nobody", []),
    ],
)
def test_list_is_scoped(city: City, username: str, expected: list[str]) -> None:
    api = bearer_for(username)
    assert codes(api.get("/api/v1/schools/")) == expected
    assert api.get("/api/v1/schools/").json()["count"] == len(expected)


def test_detail_outside_the_scope_is_404(city: City) -> None:
    api = bearer_for("district_a")
    assert api.get(f"/api/v1/schools/{city.a2.pk}/").status_code == 200
    response = api.get(f"/api/v1/schools/{city.b1.pk}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_filters(city: City, city_api: APIClient) -> None:
    School.objects.filter(pk=city.a2.pk).update(stage=School.Stage.JUNIOR, joined_at=None)
    f.SchoolFactory(district=city.district_b, name="西湖实验学校", code="3601030002", stage=School.Stage.NINE_YEAR)
    get = lambda q: codes(city_api.get(f"/api/v1/schools/?{q}"))  # noqa: E731
    assert get("search=西湖") == ["3601030001", "3601030002"]
    assert get("search=甲") == ["3601020001"]
    assert get("search=360103") == ["3601030001", "3601030002"]
    assert get("search=0001") == []  # a code matches from its start only
    assert get("district=360102") == ["3601020001", "3601020002"]
    assert get("district=999999") == []
    assert get("stage=junior") == ["3601020002"]
    assert get("stage=nine_year") == ["3601030002"]
    assert get("joined=no") == ["3601020002"]
    assert get("joined=yes") == ["3601020001", "3601030001", "3601030002"]
    assert get("district=360103&stage=primary") == ["3601030001"]


def test_filters_stay_inside_the_scope(city: City) -> None:
    api = bearer_for("district_a")
    assert codes(api.get("/api/v1/schools/?district=360103")) == []
    assert codes(api.get("/api/v1/schools/?search=西湖")) == []


def test_districts_list(city: City, city_api: APIClient) -> None:
    School.objects.filter(pk=city.b1.pk).update(joined_at=None)
    rows = city_api.get("/api/v1/districts/").json()
    assert [(d["code"], d["school_count"], d["joined_count"], d["pupil_count"]) for d in rows] == [
        ("360102", 2, 2, 2),
        ("360103", 1, 0, 1),
    ]
    assert [d["code"] for d in bearer_for("district_a").get("/api/v1/districts/").json()] == ["360102"]


def test_session_authenticated_reads_work_without_a_token(city: City) -> None:
    # The pages' own fetch() calls use the session cookie instead of a token.
    client = Client()
    client.force_login(city.users["school_admin"], backend="kehou.people.auth.PhoneOrUsernameBackend")
    response = client.get("/api/v1/schools/")
    assert response.status_code == 200
    assert [s["code"] for s in response.json()["results"]] == ["3601020001"]
