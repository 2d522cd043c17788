"""What each role reads of a minor, decided in one place (people.selectors.pupil_shown; docs/privacy.md) and
applied alike in the API, the pages and the exports (issue 14: bureaus and operators read pupils in full)."""

from __future__ import annotations

import pytest

from kehou.conftest import City, api_as, page_as
from kehou.core.tests.test_scope_walk import xlsx_text

pytestmark = pytest.mark.django_db


def student(city: City, role: str) -> dict:
    response = api_as(city.users[role]).get(f"/api/v1/students/{city.pupil_a1.pk}/")
    assert response.status_code == 200, (role, response.content)
    return response.json()


def test_the_school_and_the_guardian_read_the_pupil_in_full(city: City) -> None:
    for role in ("school_admin", "parent"):
        body = student(city, role)
        assert body["name"] == "甲学生"
        assert body["birth_date"] == city.pupil_a1.birth_date.isoformat()
        assert body["student_number"] == city.pupil_a1.student_number
        assert body["guardians"] and "*" not in body["guardians"][0]["phone"]


def test_an_operator_reads_a_masked_name_and_no_birth_date_gender_or_guardians(city: City) -> None:
    body = student(city, "operator_staff")
    assert body["name"] == "甲**"
    assert body["birth_date"] is None and body["gender"] is None
    assert all("*" in g["phone"] and "*" in g["name"] for g in body["guardians"])
    assert body["student_number"] != city.pupil_a1.student_number
    page = page_as(city.users["operator_staff"]).get(f"/pupils/{city.pupil_a1.pk}/").content.decode()
    export = xlsx_text(page_as(city.users["operator_staff"]).get("/pupils/?format=xlsx").getvalue())
    assert "甲学生" not in page and city.pupil_a1.birth_date.isoformat() not in page
    assert "甲学生" not in export and "甲**" in export  # the sheet's text, not its deflated bytes


def test_the_bureaus_read_a_masked_name_and_gender_but_no_birth_date_or_guardians(city: City) -> None:
    for role in ("district_admin", "city_admin"):
        body = student(city, role)
        assert body["name"] == "甲**" and body["gender"] == city.pupil_a1.gender
        assert body["birth_date"] is None
        assert all("*" in g["phone"] and "*" in g["name"] for g in body["guardians"])
    classes = api_as(city.users["city_admin"]).get(f"/api/v1/children/{city.pupil_a1.pk}/classes").json()
    assert classes["pupil"]["name"] == "甲**"
    listing = page_as(city.users["city_admin"]).get("/pupils/").content.decode()
    assert "甲学生" not in listing
