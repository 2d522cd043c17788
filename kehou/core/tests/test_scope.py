"""Scope: what each role may see, as a unit, and the masking of personal data in the API, pages and exports."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import Q
from django.utils import timezone

from kehou.conftest import City, api_as, page_as
from kehou.core.masking import mask_phone, mask_student_number
from kehou.core.scope import EMPTY, Scope, scope_for
from kehou.core.tests.test_scope_walk import xlsx_text
from kehou.orgs.models import CalendarDay, OperatorAuthorisation, Region, School
from kehou.people.models import Pupil, Role, TeacherProfile
from kehou.testing import factories as f


def school_names(scope: Scope) -> set[str]:
    return set(scope.filter(School.objects.all()).values_list("name", flat=True))


def pupil_names(scope: Scope) -> set[str]:
    return set(scope.filter(Pupil.objects.all()).values_list("name", flat=True))


def district_codes(scope: Scope) -> set[str]:
    return set(scope.filter(Region.objects.exclude(kind="city")).values_list("code", flat=True))


A1, A2, B1 = "东湖甲小学", "东湖乙小学", "西湖丙小学"
PA1, PA2, PB1 = "甲学生", "乙学生", "丙学生"

# role → (schools, pupils, districts) it sees in the city fixture
EXPECTED: dict[str, tuple[set[str], set[str], set[str]]] = {
    "city_admin": ({A1, A2, B1}, {PA1, PA2, PB1}, {"360102", "360103"}),
    "superuser": ({A1, A2, B1}, {PA1, PA2, PB1}, {"360102", "360103"}),
    "district_admin": ({A1, A2}, {PA1, PA2}, {"360102"}),
    "school_admin": ({A1}, {PA1}, set()),
    "teacher": ({A1}, set(), set()),
    "parent": ({A1}, {PA1}, set()),
    "operator_staff": ({A1}, {PA1}, set()),
    "expert": (set(), set(), set()),
    "nobody": (set(), set(), set()),
}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_filter_per_role(city: City, role: str) -> None:
    scope = scope_for(city.users[role])
    schools, pupils, districts = EXPECTED[role]
    assert school_names(scope) == schools
    assert pupil_names(scope) == pupils
    assert district_codes(scope) == districts


@pytest.mark.parametrize("role", list(EXPECTED))
def test_q_for_matches_filter(city: City, role: str) -> None:
    scope = scope_for(city.users[role])
    q = scope.q_for(School)
    assert isinstance(q, Q)
    assert set(School.objects.filter(q).values_list("name", flat=True)) == EXPECTED[role][0]


def test_q_for_is_empty_for_everything_and_matches_nothing_for_nobody(city: City) -> None:
    assert scope_for(city.users["city_admin"]).q_for(Pupil) == Q()
    assert not Pupil.objects.filter(EMPTY.q_for(Pupil)).exists()
    assert EMPTY.filter(School.objects.all()).count() == 0


def test_anonymous_users_have_the_empty_scope() -> None:
    from django.contrib.auth.models import AnonymousUser

    assert scope_for(AnonymousUser()) is EMPTY
    assert scope_for(None) is EMPTY


def test_roles_and_ids_are_built_from_assignments(city: City) -> None:
    scope = scope_for(city.users["district_admin"])
    assert scope.roles == {Role.DISTRICT_ADMIN}
    assert scope.district_ids == {city.district_a.pk}
    assert not scope.everything
    assert scope_for(city.users["superuser"]).everything
    assert "superuser" in scope_for(city.users["superuser"]).roles


def test_a_model_without_kehou_scope_cannot_be_read_through_a_scope(city: City) -> None:
    scope = scope_for(city.users["city_admin"])
    for model in (CalendarDay, OperatorAuthorisation):
        with pytest.raises(TypeError, match="kehou_scope"):
            scope.q_for(model)
        with pytest.raises(TypeError, match="kehou_scope"):
            scope.filter(model.objects.all())


def test_filter_never_duplicates_rows_through_many_valued_paths(city: City) -> None:
    # An outside teacher at A1 and A2 is one row for the district admin (who sees both schools).
    teacher = f.teacher_at(city.a1, city.a2, kind="outside", organisation=None)
    scope = scope_for(city.users["district_admin"])
    rows = list(scope.filter(TeacherProfile.objects.filter(user=teacher)))
    assert len(rows) == 1


def test_a_person_with_two_roles_sees_the_union(city: City) -> None:
    # The school admin of A1 is also the parent of a pupil at B1.
    admin = city.users["school_admin"]
    f.guardian_of(city.pupil_b1, user=admin)
    scope = scope_for(admin)
    assert scope.roles == {Role.SCHOOL_ADMIN, Role.PARENT}
    assert pupil_names(scope) == {PA1, PB1}
    assert school_names(scope) == {A1, B1}  # B1 as the child's school
    assert PA2 not in pupil_names(scope)
    # Personal data: in full for A1's pupils (own school) and for the own child at B1; not for A2.
    assert scope.may_see_personal_data(school_id=city.a1.pk, pupil_id=city.pupil_a1.pk)
    assert scope.may_see_personal_data(school_id=city.b1.pk, pupil_id=city.pupil_b1.pk)
    assert not scope.may_see_personal_data(school_id=city.a2.pk, pupil_id=city.pupil_a2.pk)


def test_operator_sees_its_authorised_schools_only(city: City) -> None:
    operator_user = city.users["operator_staff"]
    assert school_names(scope_for(operator_user)) == {A1}
    # Another operator is authorised for B1: that does not widen the first operator's scope.
    other = f.operator_for(city.b1, name="另一运营")
    other_user = f.UserFactory()
    f.grant(other_user, Role.OPERATOR_STAFF, operator=other)
    assert school_names(scope_for(other_user)) == {B1}
    # Once authorised for A2 too, the operator sees it (a fresh scope is built per request).
    operator = city.users["operator_staff"].role_assignments.get().operator
    OperatorAuthorisation.objects.create(operator=operator, school=city.a2, granted_at=timezone.now())
    fresh = type(operator_user).objects.get(pk=operator_user.pk)
    assert school_names(scope_for(fresh)) == {A1, A2}
    assert pupil_names(scope_for(fresh)) == {PA1, PA2}


def test_teacher_sees_own_profile_and_schools(city: City) -> None:
    teacher = city.users["teacher"]
    scope = scope_for(teacher)
    assert list(scope.filter(TeacherProfile.objects.all())) == [teacher.teacher_profile]
    assert school_names(scope) == {A1}


@pytest.mark.parametrize(
    ("role", "a1", "a2"),
    [
        ("superuser", True, True),
        ("city_admin", False, False),
        ("district_admin", False, False),
        ("school_admin", True, False),
        ("teacher", False, False),
        ("parent", True, False),
        ("operator_staff", False, False),
        ("expert", False, False),
        ("nobody", False, False),
    ],
)
def test_may_see_personal_data(city: City, role: str, a1: bool, a2: bool) -> None:
    scope = scope_for(city.users[role])
    assert scope.may_see_personal_data(school_id=city.a1.pk, pupil_id=city.pupil_a1.pk) is a1
    assert scope.may_see_personal_data(school_id=city.a2.pk, pupil_id=city.pupil_a2.pk) is a2


def test_parent_sees_personal_data_of_own_child_only(city: City) -> None:
    scope = scope_for(city.users["parent"])
    other_child_same_school = f.PupilFactory(school=city.a1, name="同校生")
    assert scope.may_see_personal_data(school_id=city.a1.pk, pupil_id=city.pupil_a1.pk)
    assert not scope.may_see_personal_data(school_id=city.a1.pk, pupil_id=other_child_same_school.pk)
    assert not scope.may_see_personal_data(school_id=city.a1.pk)


# --- masking in the API, the page and its export -----------------------------------------------------------------
MASKED_ROLES = ("city_admin", "district_admin", "operator_staff", "teacher")
UNMASKED_ROLES = ("school_admin", "parent")


@pytest.fixture
def guardian_phone(city: City) -> str:
    return city.users["parent"].phone


def _bodies(city: City, role: str) -> dict[str, str]:
    user = city.users[role]
    api = api_as(user)
    page = page_as(user)
    return {
        "api list": api.get("/api/v1/students/").content.decode(),
        "api detail": api.get(f"/api/v1/students/{city.pupil_a1.pk}/").content.decode(),
        "page list": page.get("/pupils/").content.decode(),
        "page detail": page.get(f"/pupils/{city.pupil_a1.pk}/").content.decode(),
        "export": xlsx_text(page.get("/pupils/?format=xlsx").getvalue()),
    }


@pytest.mark.parametrize("role", MASKED_ROLES)
def test_student_numbers_and_guardian_phones_are_masked(city: City, guardian_phone: str, role: str) -> None:
    number = city.pupil_a1.student_number
    for where, body in _bodies(city, role).items():
        assert number not in body, (role, where)
        assert guardian_phone not in body, (role, where)
    if role in ("city_admin", "district_admin", "operator_staff"):  # these roles do see the pupil, masked
        bodies = _bodies(city, role)
        for where in ("api list", "page list", "export", "api detail", "page detail"):
            assert mask_student_number(number) in bodies[where], (role, where)
        for where in ("api list", "page list", "export", "api detail", "page detail"):
            assert mask_phone(guardian_phone) in bodies[where], (role, where)


@pytest.mark.parametrize("role", UNMASKED_ROLES)
def test_own_school_admin_and_own_guardians_see_personal_data(city: City, guardian_phone: str, role: str) -> None:
    number = city.pupil_a1.student_number
    for where, body in _bodies(city, role).items():
        assert number in body, (role, where)
        assert guardian_phone in body, (role, where)


def test_api_student_fields_are_masked_exactly(city: City, guardian_phone: str) -> None:
    row = api_as(city.users["district_admin"]).get(f"/api/v1/students/{city.pupil_a1.pk}/").json()
    assert row["student_number"] == mask_student_number(city.pupil_a1.student_number)
    assert row["student_number"] != city.pupil_a1.student_number
    assert [g["phone"] for g in row["guardians"]] == [mask_phone(guardian_phone)]
    own = api_as(city.users["school_admin"]).get(f"/api/v1/students/{city.pupil_a1.pk}/").json()
    assert own["student_number"] == city.pupil_a1.student_number
    assert [g["phone"] for g in own["guardians"]] == [guardian_phone]


def test_masking_helpers() -> None:
    assert mask_phone("13912345678") == "139****5678"
    assert mask_phone("") == ""
    assert mask_student_number("G360102201500000011") == "G36************0011"
    assert mask_student_number("12345") == "*****"


def test_scope_is_cached_per_user_object(city: City, db: Any) -> None:
    user = city.users["school_admin"]
    assert scope_for(user) is scope_for(user)
