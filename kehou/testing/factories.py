"""Factories shared by every app's tests."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

import factory
from django.utils import timezone

from kehou.orgs.models import OperatorAuthorisation, OperatorCompany, Organisation, Region, School, Term
from kehou.people.models import ExpertProfile, Guardian, Pupil, Role, RoleAssignment, TeacherProfile, User
from kehou.people.validators import id_check_digit

_phone = itertools.count(13800000000)
_student = itertools.count(1)


def next_phone() -> str:
    return str(next(_phone))


def next_student_number() -> str:
    """A valid G student number: area 360102, born 2015-05-01, sequence, correct check digit."""
    n = next(_student)
    born = date(2015, 1, 1) + timedelta(days=n // 1000)
    body = f"360102{born:%Y%m%d}{n % 1000:03d}"
    return "G" + body + id_check_digit(body)


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"3601{50 + n:02d}")
    name = factory.Sequence(lambda n: f"测试区{n}")
    kind = Region.Kind.DISTRICT
    parent = factory.LazyFunction(
        lambda: Region.objects.get_or_create(code="360100", defaults={"name": "南昌市", "kind": "city"})[0]
    )


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = School

    code = factory.Sequence(lambda n: f"36010{n:05d}")
    name = factory.Sequence(lambda n: f"测试小学{n}")
    stage = School.Stage.PRIMARY
    authority = School.Authority.DISTRICT
    district = factory.SubFactory(RegionFactory)
    latitude = "28.682000"
    longitude = "115.858000"
    joined_at = factory.LazyFunction(timezone.now)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"用户{n}")
    phone = factory.LazyFunction(next_phone)
    password = factory.PostGenerationMethodCall("set_password", "Kehou!2026")

    @factory.post_generation
    def _save(obj: User, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            obj.save()


def grant(user: User, role: str, **binding: Any) -> RoleAssignment:
    return RoleAssignment.objects.create(user=user, role=role, granted_at=timezone.now(), **binding)


class PupilFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pupil

    student_number = factory.LazyFunction(next_student_number)
    name = factory.Sequence(lambda n: f"学生{n}")
    gender = "M"
    birth_date = date(2015, 5, 1)
    school = factory.SubFactory(SchoolFactory)
    grade = 3
    class_name = "1班"
    created_at = factory.LazyFunction(timezone.now)


def guardian_of(pupil: Pupil, user: User | None = None, relation: str = "mother") -> User:
    user = user or UserFactory()
    Guardian.objects.create(pupil=pupil, user=user, relation=relation)
    if not RoleAssignment.objects.filter(user=user, role=Role.PARENT).exists():
        grant(user, Role.PARENT)
    return user


def operator_for(*schools: School, name: str = "") -> OperatorCompany:
    n = OperatorCompany.objects.count() + 1
    op = OperatorCompany.objects.create(name=name or f"运营公司{n}", credit_code=f"91360100MA{n:08d}")
    for s in schools:
        OperatorAuthorisation.objects.create(operator=op, school=s, granted_at=timezone.now())
    return op


def teacher_at(*schools: School, kind: str = "staff", organisation: Organisation | None = None) -> User:
    user = UserFactory()
    profile = TeacherProfile.objects.create(user=user, kind=kind, organisation=organisation)
    profile.schools.set(schools)
    grant(user, Role.TEACHER)
    return user


def expert(specialities: list[str] | None = None) -> User:
    user = UserFactory()
    ExpertProfile.objects.create(user=user, specialities=specialities or ["科技"], affiliation="江西师范大学")
    grant(user, Role.EXPERT)
    return user


def term(name: str = "2026-2027学年第一学期") -> Term:
    return Term.objects.get_or_create(
        name=name, defaults={"starts_on": date(2026, 9, 1), "ends_on": date(2027, 1, 22)}
    )[0]
