import pytest

from kehou.conftest import api_as


@pytest.mark.django_db
def test_school_admin_lists_only_own_school(city):
    response = api_as(city.users["school_admin"]).get("/api/v1/schools/")
    assert response.status_code == 200
    assert [s["code"] for s in response.json()["results"]] == [city.a1.code]
