"""The students API contract: scoped, paginated JSON with filters, used with a bearer token."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from kehou.conftest import PASSWORD, City
from kehou.core.masking import mask_student_number
from kehou.people.models import Pupil
from kehou.testing import factories as f


def bearer_for(username: str) -> APIClient:
    response = APIClient().post("/api/v1/auth/token", {"username": username, "password": PASSWORD}, format="json")
    assert response.status_code == 201, response.content
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['token']}")
    return client


def names(response: Any) -> list[str]:
    """The listed pupils, by their real names (bureaus and operators read masked names: docs/privacy.md)."""
    assert response.status_code == 200, response.content
    real = dict(Pupil.objects.values_list("pk", "name"))
    return [real[p["id"]] for p in response.json()["results"]]


@pytest.fixture
def school_api(city: City) -> APIClient:
    return bearer_for("school_a1")


@pytest.fixture
def classes(city: City) -> None:
    """A1: grade 3 class 1 (甲学生), grade 3 class 2, grade 5 class 1; A2 and B1 one pupil each (grade 3 class 1)."""
    f.PupilFactory(school=city.a1, name="甲二班", grade=3, class_name="2班")
    f.PupilFactory(school=city.a1, name="甲五年", grade=5, class_name="1班")


def test_list_contract(city: City, school_api: APIClient) -> None:
    guardian = city.users["parent"]
    response = school_api.get("/api/v1/students/")
    assert response.status_code == 200
    body = response.json()
    assert {"count", "next", "previous", "results"} <= set(body)
    assert body["count"] == 1
    [row] = body["results"]
    assert set(row) == {
        "id",
        "student_number",
        "name",
        "gender",
        "birth_date",
        "school",
        "grade",
        "class_name",
        "guardians",
    }
    p = city.pupil_a1
    assert row["id"] == p.pk
    assert row["student_number"] == p.student_number  # the own school sees it in full
    assert (row["name"], row["gender"], row["birth_date"], row["grade"], row["class_name"]) == (
        "甲学生",
        "M",
        "2015-05-01",
        3,
        "1班",
    )
    assert row["school"] == {
        "id": city.a1.pk,
        "code": "3601020001",
        "name": "东湖甲小学",
        "district": {"code": "360102", "name": "东湖区"},
    }
    assert row["guardians"] == [
        {"id": p.guardians.get().pk, "name": guardian.full_name, "relation": "mother", "phone": guardian.phone}
    ]


def test_detail(city: City, school_api: APIClient) -> None:
    listed = school_api.get("/api/v1/students/").json()["results"][0]
    response = school_api.get(f"/api/v1/students/{city.pupil_a1.pk}/")
    assert response.status_code == 200
    assert response.json() == listed


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("city", ["甲学生", "乙学生", "丙学生"]),
        ("district_a", ["甲学生", "乙学生"]),
        ("school_a1", ["甲学生"]),
        ("operator", ["甲学生"]),
        ("nobody", []),
    ],
)
def test_list_is_scoped(city: City, username: str, expected: list[str]) -> None:
    response = bearer_for(username).get("/api/v1/students/")
    assert names(response) == expected
    assert response.json()["count"] == len(expected)


def test_parent_sees_own_child_only(city: City) -> None:
    parent = city.users["parent"]
    api = APIClient()
    api.force_authenticate(parent)
    assert names(api.get("/api/v1/students/")) == ["甲学生"]
    assert api.get(f"/api/v1/students/{city.pupil_a2.pk}/").status_code == 404


def test_detail_outside_the_scope_is_404(city: City, school_api: APIClient) -> None:
    for pupil in (city.pupil_a2, city.pupil_b1):
        response = school_api.get(f"/api/v1/students/{pupil.pk}/")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_city_admin_sees_masked_numbers(city: City) -> None:
    rows = bearer_for("city").get("/api/v1/students/").json()["results"]
    assert [r["student_number"] for r in rows] == [
        mask_student_number(p.student_number) for p in (city.pupil_a1, city.pupil_a2, city.pupil_b1)
    ]


def test_filters(city: City, classes: None) -> None:
    api = bearer_for("city")
    get = lambda q: names(api.get(f"/api/v1/students/?{q}"))  # noqa: E731
    assert get("grade=5") == ["甲五年"]
    assert get("grade=3&class_name=2班") == ["甲二班"]
    assert get(f"school={city.a1.pk}") == ["甲学生", "甲二班", "甲五年"]
    assert get(f"school={city.a1.pk}&grade=3&class_name=1班") == ["甲学生"]
    assert get("district=360103") == ["丙学生"]
    assert get("search=甲") == ["甲学生", "甲二班", "甲五年"]
    assert get(f"search={city.pupil_b1.student_number}") == ["丙学生"]
    assert get(f"search={city.pupil_b1.student_number.lower()}") == ["丙学生"]
    assert get("grade=abc") == ["甲学生", "甲二班", "甲五年", "乙学生", "丙学生"]  # ignored, not an error
    assert get("school=999999") == []


def test_search_by_student_number_works_only_inside_the_scope(city: City) -> None:
    api = bearer_for("district_a")
    assert names(api.get(f"/api/v1/students/?search={city.pupil_b1.student_number}")) == []
    assert names(api.get(f"/api/v1/students/?school={city.b1.pk}")) == []


def test_an_out_of_range_id_filter_is_400(city: City) -> None:
    response = bearer_for("city").get("/api/v1/students/?school=99999999999999999999")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert list(response.json()["error"]["fields"]) == ["school"]


def test_pagination(city: City, classes: None) -> None:
    api = bearer_for("city")
    response = api.get("/api/v1/students/?page_size=2&page=2")
    assert response.json()["count"] == 5
    assert names(response) == ["甲五年", "乙学生"]
