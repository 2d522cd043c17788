"""The audit log: written in the change's transaction, append-only in the database, seen only within one's scope."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from rest_framework.test import APIClient

from kehou.conftest import PASSWORD, City, api_as, page_as
from kehou.core import audit
from kehou.core.models import AuditEntry
from kehou.people import services
from kehou.people.models import User

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 9, 1, 9, 0, tzinfo=SHANGHAI)


def record(**kwargs: Any) -> AuditEntry:
    kwargs.setdefault("actor", None)
    kwargs.setdefault("now", T0)
    with transaction.atomic():
        return audit.record(**kwargs)


# --- same transaction -------------------------------------------------------------------------------------------
def test_a_service_that_fails_after_writing_leaves_no_audit_row(db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    real_record = audit.record

    def record_then_fail(**kwargs: Any) -> AuditEntry:
        real_record(**kwargs)
        raise RuntimeError("the service fails after writing")

    monkeypatch.setattr(services.audit, "record", record_then_fail)
    with pytest.raises(RuntimeError):
        services.user_create(actor=None, username="zhao", full_name="赵", now=T0)
    assert not User.objects.filter(username="zhao").exists()
    assert AuditEntry.objects.count() == 0


def test_a_service_that_succeeds_writes_its_audit_row(db: Any) -> None:
    user = services.user_create(actor=None, username="zhao", full_name="赵", now=T0)
    entry = AuditEntry.objects.get(action="user.created")
    assert entry.object_id == str(user.pk)
    assert entry.at == T0
    assert entry.actor is None and entry.actor_label == "system"
    assert entry.after == {"username": "zhao", "full_name": "赵"}


@pytest.mark.django_db(transaction=True)
def test_audit_record_refuses_to_run_outside_a_transaction() -> None:
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit.record(actor=None, action="x.y", object_type="thing", now=T0)
    assert AuditEntry.objects.count() == 0


# --- append-only ------------------------------------------------------------------------------------------------
def _refused(sql: str, params: list[Any]) -> str:
    with pytest.raises(DatabaseError) as excinfo, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    return str(excinfo.value)


def test_the_database_refuses_update_and_delete_of_audit_rows(db: Any) -> None:
    entry = record(action="school.updated", object_type="orgs.school", object_id="1", object_repr="甲")
    assert "append-only" in _refused("UPDATE core_auditentry SET action = %s WHERE id = %s", ["forged", entry.pk])
    assert "append-only" in _refused("DELETE FROM core_auditentry WHERE id = %s", [entry.pk])
    assert "append-only" in _refused("DELETE FROM core_auditentry", [])
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(action="forged")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk)._raw_delete(connection.alias)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.all().delete()
    row = AuditEntry.objects.get(pk=entry.pk)
    assert row.action == "school.updated"
    assert AuditEntry.objects.count() == 1


def test_inserting_is_still_allowed(db: Any) -> None:
    record(action="a.b", object_type="t")
    record(action="a.c", object_type="t")
    assert AuditEntry.objects.count() == 2


def test_the_model_refuses_to_save_an_existing_row_or_delete(db: Any) -> None:
    entry = record(action="a.b", object_type="t")
    entry.action = "forged"
    with pytest.raises(ValueError, match="append-only"):
        entry.save()
    with pytest.raises(ValueError, match="append-only"):
        entry.delete()
    assert AuditEntry.objects.get(pk=entry.pk).action == "a.b"


# --- who sees which entries -------------------------------------------------------------------------------------
@pytest.fixture
def entries(city: City) -> dict[str, AuditEntry]:
    c = city
    return {
        "a1": record(action="school.updated", obj=c.a1, object_repr="条目-A1"),
        "a2": record(action="school.updated", obj=c.a2, object_repr="条目-A2"),
        "district_a": record(action="district.updated", obj=c.district_a, object_repr="条目-东湖区"),
        "b1": record(action="school.updated", obj=c.b1, object_repr="条目-B1"),
        "district_b": record(action="district.updated", obj=c.district_b, object_repr="条目-西湖区"),
        "nowhere": record(action="token.issued", object_type="people.apitoken", object_repr="条目-无处"),
    }


EXPECTED = {
    "city_admin": {"a1", "a2", "district_a", "b1", "district_b", "nowhere"},
    "superuser": {"a1", "a2", "district_a", "b1", "district_b", "nowhere"},
    "district_admin": {"a1", "a2", "district_a"},
    "school_admin": {"a1"},
    "teacher": set(),
    "parent": set(),
    "operator_staff": set(),
    "expert": set(),
    "nobody": set(),
}


def test_entries_are_located_at_their_school_and_district(city: City, entries: dict[str, AuditEntry]) -> None:
    assert (entries["a1"].school_id, entries["a1"].district_id) == (city.a1.pk, city.district_a.pk)
    assert (entries["district_b"].school_id, entries["district_b"].district_id) == (None, city.district_b.pk)
    assert (entries["nowhere"].school_id, entries["nowhere"].district_id) == (None, None)


@pytest.mark.parametrize("role", list(EXPECTED))
def test_audit_api_shows_only_the_callers_scope(city: City, entries: dict[str, AuditEntry], role: str) -> None:
    response = api_as(city.users[role]).get("/api/v1/audit/?page_size=500")
    assert response.status_code == 200
    ids = {row["id"] for row in response.json()["results"]}
    seen = {name for name, entry in entries.items() if entry.pk in ids}
    assert seen == EXPECTED[role]
    if role not in {"city_admin", "superuser"}:
        assert response.json()["count"] == len(EXPECTED[role])


@pytest.mark.parametrize("role", list(EXPECTED))
def test_audit_page_and_export_show_only_the_callers_scope(
    city: City, entries: dict[str, AuditEntry], role: str
) -> None:
    client = page_as(city.users[role])
    html = client.get("/audit/").content.decode()
    export = client.get("/audit/?format=xlsx")
    assert export.status_code == 200
    from kehou.core.tests.test_scope_walk import xlsx_text

    sheet = xlsx_text(export.getvalue())
    for name, entry in entries.items():
        assert (entry.object_repr in html) == (name in EXPECTED[role]), (role, name)
        assert (entry.object_repr in sheet) == (name in EXPECTED[role]), (role, name)


def test_audit_filters(city: City) -> None:
    root = city.users["city_admin"]
    record(action="pupil.created", object_type="people.pupil", object_repr="早", now=T0 - timedelta(days=3))
    record(action="pupil.updated", object_type="people.pupil", object_repr="中", now=T0)
    record(action="role.granted", object_type="people.roleassignment", object_repr="晚", actor=root, now=T0)
    api = api_as(root)

    def reprs(query: str) -> set[str]:
        response = api.get(f"/api/v1/audit/?{query}")
        assert response.status_code == 200, response.content
        return {row["object_repr"] for row in response.json()["results"]}

    assert reprs("action=pupil.") == {"早", "中"}
    assert reprs("action=pupil.created") == {"早"}
    assert reprs("object_type=people.roleassignment") == {"晚"}
    assert reprs("actor=city") == {"晚"}
    assert reprs("actor=system") == {"早", "中"}
    assert reprs("since=2026-09-01") == {"中", "晚"}
    assert reprs("until=2026-08-31") == {"早"}
    assert reprs("since=2026-08-29&until=2026-08-29") == {"早"}
    assert reprs("since=not-a-date") == {"早", "中", "晚"}
    # The page takes the same filters (its search box filters by action).
    html = page_as(root).get("/audit/?q=role.").content.decode()
    assert "晚" in html and "早" not in html


def test_client_address_comes_from_remote_addr(db: Any) -> None:
    User.objects.create_user(username="qian", password=PASSWORD)
    response = APIClient().post(
        "/api/v1/auth/token",
        {"username": "qian", "password": PASSWORD},
        format="json",
        REMOTE_ADDR="203.0.113.9",
        HTTP_X_FORWARDED_FOR="198.51.100.1",
    )
    assert response.status_code == 201
    entry = AuditEntry.objects.get(action="token.issued")
    assert entry.client_ip == "203.0.113.9"
    assert entry.request_id
    assert entry.actor.username == "qian"


def test_page_requests_record_the_client_address_too(db: Any, settings: Any) -> None:
    settings.KEHOU_LOGIN_MAX_FAILURES = 1
    User.objects.create_user(username="sun", password=PASSWORD)
    Client(REMOTE_ADDR="198.51.100.23").post("/login/", {"username": "sun", "password": "wrong"})
    entry = AuditEntry.objects.get(action="account.locked")
    assert entry.client_ip == "198.51.100.23"
