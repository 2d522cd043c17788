"""Shared fixtures: a small two-district city with one account of every role.

``city`` holds district A (schools A1, A2) and district B (school B1). Every role's account is bound inside
district A / school A1; the objects of district B and school A2 are "another district" and "another school".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from kehou.orgs.models import School
from kehou.people.models import Pupil, Role, User
from kehou.testing import factories as f
from kehou.testing.asgi import asgi_live_server, sqlite_threads  # noqa: F401 (fixtures)

PASSWORD = "Kehou!2026"


@dataclass
class City:
    district_a: Any
    district_b: Any
    a1: School
    a2: School
    b1: School
    pupil_a1: Pupil
    pupil_a2: Pupil
    pupil_b1: Pupil
    users: dict[str, User] = field(default_factory=dict)


@pytest.fixture(autouse=True)
def _empty_cache() -> Any:
    """Login throttles and lockouts live in the cache: every test starts without any."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _flushable_audit_log(request: pytest.FixtureRequest) -> Any:
    """Let Django flush the append-only tables (audit log, ledger) after transactional tests on SQLite.

    Django flushes SQLite with DELETE (PostgreSQL with TRUNCATE, which row triggers do not see), and the audit
    table's triggers refuse DELETE. Before the flush, this empties the audit table with its delete trigger
    lifted for that one statement, then puts the trigger back.
    """
    marker = request.node.get_closest_marker("django_db")
    by_marker = marker is not None and marker.kwargs.get("transaction", False)
    by_fixture = bool({"transactional_db", "live_server"} & set(request.fixturenames))
    if not (by_marker or by_fixture):
        yield
        return
    # Set the database up first, so that it is flushed after this fixture's teardown.
    request.getfixturevalue("_django_db_helper" if by_marker else "transactional_db")
    yield
    from importlib import import_module

    from django.db import connection

    if connection.vendor != "sqlite":
        return
    ledger = import_module("kehou.ledger.migrations.0002_append_only")
    append_only = [("core_auditentry", import_module("kehou.core.migrations.0003_audit_append_only").SQLITE[1])]
    append_only += [(table, ledger.sqlite_triggers(table)[1]) for table in reversed(ledger.TABLES)]
    with connection.cursor() as cursor:
        for table, create in append_only:
            cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
            cursor.execute(f"DELETE FROM {table}")
            cursor.execute(create)


@pytest.fixture
def city(db: Any) -> City:
    district_a = f.RegionFactory(code="360102", name="东湖区")
    district_b = f.RegionFactory(code="360103", name="西湖区")
    a1 = f.SchoolFactory(district=district_a, name="东湖甲小学", code="3601020001")
    a2 = f.SchoolFactory(district=district_a, name="东湖乙小学", code="3601020002")
    b1 = f.SchoolFactory(district=district_b, name="西湖丙小学", code="3601030001")
    pupil_a1 = f.PupilFactory(school=a1, name="甲学生")
    pupil_a2 = f.PupilFactory(school=a2, name="乙学生")
    pupil_b1 = f.PupilFactory(school=b1, name="丙学生")
    users: dict[str, User] = {}
    users["city_admin"] = f.UserFactory(username="city")
    f.grant(users["city_admin"], Role.CITY_ADMIN)
    users["district_admin"] = f.UserFactory(username="district_a")
    f.grant(users["district_admin"], Role.DISTRICT_ADMIN, district=district_a)
    users["school_admin"] = f.UserFactory(username="school_a1")
    f.grant(users["school_admin"], Role.SCHOOL_ADMIN, school=a1)
    users["teacher"] = f.teacher_at(a1)
    users["parent"] = f.guardian_of(pupil_a1)
    op_user = f.UserFactory(username="operator")
    op = f.operator_for(a1)
    f.grant(op_user, Role.OPERATOR_STAFF, operator=op)
    users["operator_staff"] = op_user
    users["expert"] = f.expert()
    su = f.UserFactory(username="root", is_superuser=True, is_staff=True)
    users["superuser"] = su
    users["nobody"] = f.UserFactory(username="nobody")
    return City(district_a, district_b, a1, a2, b1, pupil_a1, pupil_a2, pupil_b1, users)


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def api_as(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def page_as(user: User) -> Client:
    client = Client()
    client.force_login(user, backend="kehou.people.auth.PhoneOrUsernameBackend")
    return client


@pytest.fixture
def db_tasks(settings: Any) -> None:
    """Tasks go to the database queue (the test settings run them at once otherwise)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
