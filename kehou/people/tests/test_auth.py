"""Authentication: API tokens, password login with lockout, page sessions, SMS codes."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client, override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from kehou.conftest import PASSWORD
from kehou.core import clock
from kehou.notify.sms import MemorySmsBackend
from kehou.people.models import ApiToken, SmsCode, User
from kehou.testing import factories as f

TOKEN_URL = "/api/v1/auth/token"


class Clock:
    """Moves ``kehou.core.clock.now`` (the only clock views read) by hand."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = timezone.now()
        monkeypatch.setattr(clock, "now", lambda: self.now)

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


@pytest.fixture
def user(db: Any) -> User:
    return f.UserFactory(username="wang", phone="13912345678", full_name="王老师")


def token_for(username: str, password: str = PASSWORD) -> Any:
    return APIClient().post(TOKEN_URL, {"username": username, "password": password}, format="json")


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def error_code(response: Any) -> str:
    return response.json()["error"]["code"]


# --- API tokens ---------------------------------------------------------------------------------------------
def test_token_is_issued_for_username_and_password(user: User, frozen: Clock) -> None:
    response = token_for("wang")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"token", "expires_at"}
    assert body["token"].startswith("kh_")
    expires = datetime.fromisoformat(body["expires_at"])
    assert expires == frozen.now + timedelta(seconds=settings.KEHOU_TOKEN_TTL_SECONDS)
    me = bearer(body["token"]).get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["username"] == "wang"


def test_token_login_by_phone_number(user: User) -> None:
    response = token_for("13912345678")
    assert response.status_code == 201
    assert bearer(response.json()["token"]).get("/api/v1/me/").json()["id"] == user.pk


def test_wrong_password_and_unknown_user_get_the_same_answer(user: User) -> None:
    wrong = token_for("wang", "not-the-password")
    unknown = token_for("nobody-here", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert error_code(wrong) == "invalid_credentials"
    assert wrong.json() == unknown.json()
    assert ApiToken.objects.count() == 0


@override_settings(KEHOU_LOGIN_MAX_FAILURES=3, KEHOU_LOGIN_LOCKOUT_SECONDS=600)
def test_account_locks_after_max_failures_until_the_lock_expires(user: User, frozen: Clock) -> None:
    for _ in range(3):
        assert token_for("wang", "wrong").status_code == 401
    # Locked: even the right password is refused, by phone too, with the answer of a wrong password (issue 14:
    # a distinct 423 told strangers which accounts exist).
    locked = token_for("wang")
    assert locked.status_code == 401
    assert error_code(locked) == "invalid_credentials"
    assert token_for("13912345678").status_code == 401
    frozen.advance(seconds=599)
    assert token_for("wang").status_code == 401
    # The lock expires.
    frozen.advance(seconds=2)
    assert token_for("wang").status_code == 201
    user.refresh_from_db()
    assert user.failed_login_count == 0
    assert user.locked_until is None
    assert ApiToken.objects.count() == 1


@override_settings(KEHOU_LOGIN_MAX_FAILURES=3)
def test_fewer_failures_than_the_limit_do_not_lock(user: User) -> None:
    for _ in range(2):
        token_for("wang", "wrong")
    assert token_for("wang").status_code == 201
    # A success resets the count: two more failures still do not lock.
    for _ in range(2):
        token_for("wang", "wrong")
    assert token_for("wang").status_code == 201


def test_token_is_stored_hashed(user: User) -> None:
    raw = token_for("wang").json()["token"]
    token = ApiToken.objects.get()
    assert token.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    stored = [str(v) for v in ApiToken.objects.values_list().get()]
    assert not any(raw in value or raw[3:] in value for value in stored)
    assert len(token.prefix) <= 8


def test_expired_token_is_refused(user: User, frozen: Clock) -> None:
    raw = token_for("wang").json()["token"]
    frozen.advance(seconds=settings.KEHOU_TOKEN_TTL_SECONDS - 1)
    assert bearer(raw).get("/api/v1/me/").status_code == 200
    frozen.advance(seconds=2)
    response = bearer(raw).get("/api/v1/me/")
    assert response.status_code == 401
    assert error_code(response) == "token_expired"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_revoked_token_is_refused(user: User) -> None:
    raw = token_for("wang").json()["token"]
    assert bearer(raw).delete(TOKEN_URL).status_code == 204
    assert ApiToken.objects.get().revoked_at is not None
    response = bearer(raw).get("/api/v1/me/")
    assert response.status_code == 401
    assert error_code(response) == "token_revoked"


def test_revoking_without_a_token_is_refused(user: User) -> None:
    response = APIClient().delete(TOKEN_URL)
    assert response.status_code == 401
    assert error_code(response) == "not_authenticated"


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("Bearer", "token_malformed"),
        ("Bearer a b", "token_malformed"),
        ("Bearer kh_not-a-real-token", "token_invalid"),
        ("bearer ", "token_malformed"),
        ("   ", "not_authenticated"),
        ("Basic d2FuZzpLZWhvdSEyMDI2", "not_authenticated"),
    ],
)
def test_malformed_or_foreign_authorization_headers_are_refused(user: User, header: str, code: str) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert error_code(response) == code
    assert set(response.json()) == {"error"}


def test_inactive_account_gets_no_token_and_its_tokens_stop_working(user: User) -> None:
    raw = token_for("wang").json()["token"]
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert token_for("wang").status_code == 401
    response = bearer(raw).get("/api/v1/me/")
    assert response.status_code == 401
    assert error_code(response) == "account_disabled"


def test_argon2_is_the_production_hasher() -> None:
    from kehou.settings import base

    assert base.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    hasher = Argon2PasswordHasher()  # the argon2 library is installed and works
    encoded = hasher.encode("Kehou!2026", hasher.salt())
    assert encoded.startswith("argon2$")
    assert hasher.verify("Kehou!2026", encoded)


# --- pages: sessions ----------------------------------------------------------------------------------------
def _session_client() -> tuple[Client, str]:
    client = Client()
    session = client.session
    session["seen"] = True
    session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    return client, session.session_key


def test_page_login_rotates_the_session_key(user: User) -> None:
    client, before = _session_client()
    response = client.post("/login/", {"username": "wang", "password": PASSWORD})
    assert response.status_code == 302
    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after != before
    assert not SessionStore().exists(before)
    assert client.session["_auth_user_id"] == str(user.pk)


def test_page_login_with_wrong_password_stays_anonymous(user: User) -> None:
    client = Client()
    response = client.post("/login/", {"username": "wang", "password": "wrong"})
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302


def test_logout_is_post_only_and_deletes_the_server_session(user: User) -> None:
    client = Client()
    client.post("/login/", {"username": "wang", "password": PASSWORD})
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert SessionStore().exists(key)
    assert client.get("/logout/").status_code == 405
    assert SessionStore().exists(key)
    response = client.post("/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert not SessionStore().exists(key)
    assert client.get("/").status_code == 302


@pytest.mark.parametrize(
    "target", ["https://evil.example", "//evil.example/x", "https:evil.example", "/\\evil.example", "javascript:x"]
)
def test_login_ignores_an_open_redirect(user: User, target: str) -> None:
    response = Client().post("/login/", {"username": "wang", "password": PASSWORD, "next": target})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_login_follows_a_local_next(user: User) -> None:
    response = Client().post("/login/", {"username": "wang", "password": PASSWORD, "next": "/pupils/?grade=3"})
    assert response["Location"] == "/pupils/?grade=3"


@override_settings(KEHOU_LOGIN_MAX_FAILURES=2)
def test_page_login_is_locked_too(user: User) -> None:
    client = Client()
    for _ in range(2):
        client.post("/login/", {"username": "wang", "password": "wrong"})
    response = client.post("/login/", {"username": "wang", "password": PASSWORD})
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session


# --- SMS codes ----------------------------------------------------------------------------------------------
@pytest.fixture
def outbox() -> list[Any]:
    MemorySmsBackend.outbox.clear()
    yield MemorySmsBackend.outbox
    MemorySmsBackend.outbox.clear()


def send_code(client: Client, phone: str, capture: Any) -> Any:
    with capture(execute=True):
        return client.post("/login/sms/send", {"sms-phone": phone})


def last_code(outbox: list[Any], phone: str) -> str:
    texts = [m.text for m in outbox if m.phone == phone]
    assert texts, f"no SMS to {phone}"
    match = re.search(r"\b(\d{6})\b", texts[-1])
    assert match, texts[-1]
    return match.group(1)


def sms_login(client: Client, phone: str, code: str) -> Any:
    return client.post("/login/sms/", {"sms-phone": phone, "sms-code": code})


def test_sms_code_logs_in_once(user: User, outbox: list[Any], django_capture_on_commit_callbacks: Any) -> None:
    client = Client()
    response = send_code(client, "13912345678", django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert response.json() == {"sent": True}
    code = last_code(outbox, "13912345678")
    assert SmsCode.objects.get().code_hash != code  # stored hashed
    response = sms_login(client, "13912345678", code)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    # The same code does not work twice.
    other = Client()
    assert sms_login(other, "13912345678", code).status_code == 400
    assert "_auth_user_id" not in other.session


def test_wrong_sms_codes_use_up_the_code(
    user: User, outbox: list[Any], frozen: Clock, django_capture_on_commit_callbacks: Any
) -> None:
    client = Client()
    send_code(client, "13912345678", django_capture_on_commit_callbacks)
    code = last_code(outbox, "13912345678")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for attempt in range(1, 6):
        assert sms_login(client, "13912345678", wrong).status_code == 400
        assert SmsCode.objects.get().attempts == attempt
    # After five wrong tries even the right code fails.
    assert sms_login(client, "13912345678", code).status_code == 400
    assert "_auth_user_id" not in client.session


def test_four_wrong_codes_then_the_right_one_works(
    user: User, outbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    client = Client()
    send_code(client, "13912345678", django_capture_on_commit_callbacks)
    code = last_code(outbox, "13912345678")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(4):
        sms_login(client, "13912345678", wrong)
    assert sms_login(client, "13912345678", code).status_code == 302


def test_expired_sms_code_fails(
    user: User, outbox: list[Any], frozen: Clock, django_capture_on_commit_callbacks: Any
) -> None:
    client = Client()
    send_code(client, "13912345678", django_capture_on_commit_callbacks)
    code = last_code(outbox, "13912345678")
    frozen.advance(seconds=settings.KEHOU_SMS_CODE_TTL_SECONDS + 1)
    assert sms_login(client, "13912345678", code).status_code == 400
    assert "_auth_user_id" not in client.session


def test_resend_within_a_minute_is_rate_limited(
    user: User, outbox: list[Any], frozen: Clock, django_capture_on_commit_callbacks: Any
) -> None:
    client = Client()
    assert send_code(client, "13912345678", django_capture_on_commit_callbacks).status_code == 200
    frozen.advance(seconds=59)
    response = send_code(client, "13912345678", django_capture_on_commit_callbacks)
    assert response.status_code == 429
    assert error_code(response) == "sms_rate_limited"
    assert len(outbox) == 1
    frozen.advance(seconds=2)
    assert send_code(client, "13912345678", django_capture_on_commit_callbacks).status_code == 200
    assert len(outbox) == 2


def test_unknown_phone_gets_the_same_answers_as_a_known_one(
    user: User, outbox: list[Any], frozen: Clock, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    known, unknown = "13912345678", "13987654321"
    first = [send_code(Client(), phone, capture) for phone in (known, unknown)]
    assert [r.status_code for r in first] == [200, 200]
    assert first[0].json() == first[1].json()
    frozen.advance(seconds=10)
    again = [send_code(Client(), phone, capture) for phone in (known, unknown)]
    assert [r.status_code for r in again] == [429, 429]
    assert again[0].json() == again[1].json()
    # Only the account holder actually receives a code; a guessed code for the unknown phone logs nobody in.
    assert [m.phone for m in outbox] == [known]
    response = sms_login(Client(), unknown, "123456")
    assert response.status_code == 400


def test_sms_send_refuses_a_bad_phone(user: User, outbox: list[Any]) -> None:
    response = Client().post("/login/sms/send", {"sms-phone": "12345"})
    assert response.status_code == 400
    assert error_code(response) == "invalid_phone"
    assert outbox == []
    assert Client().get("/login/sms/send").status_code == 405


# --- the schema documents both ways in -------------------------------------------------------------------------
def test_openapi_schema_documents_bearer_and_session_auth(db: Any) -> None:
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    warnings = list(GENERATOR_STATS._warn_cache)
    assert not [w for w in warnings if "authenticator" in w], warnings
    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    assert schemes["cookieAuth"] == {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}
    schools = schema["paths"]["/api/v1/schools/"]["get"]
    assert {"bearerAuth": []} in schools["security"] and {"cookieAuth": []} in schools["security"]
    assert schema["paths"]["/api/v1/auth/token"]["post"].get("security") in (None, [], [{}])


def test_a_stale_token_in_the_header_does_not_block_getting_a_new_one(user: User, frozen: Clock) -> None:
    raw = token_for("wang").json()["token"]
    frozen.advance(seconds=settings.KEHOU_TOKEN_TTL_SECONDS + 1)
    client = bearer(raw)
    response = client.post(TOKEN_URL, {"username": "wang", "password": PASSWORD}, format="json")
    assert response.status_code == 201
    assert response.json()["token"] != raw
    # Revoking still needs a valid token.
    refused = client.delete(TOKEN_URL)
    assert refused.status_code == 401
    assert error_code(refused) == "token_expired"


def test_token_use_is_recorded_at_most_every_five_minutes(user: User, frozen: Clock) -> None:
    raw = token_for("wang").json()["token"]
    token = ApiToken.objects.get(user=user)
    assert token.last_used_at is None
    # When the token is used, its last use is recorded
    assert bearer(raw).get("/api/v1/me/").status_code == 200
    first = frozen.now
    token.refresh_from_db()
    assert token.last_used_at == first
    # Within five minutes a further use writes nothing; after that it moves on
    frozen.advance(minutes=4)
    bearer(raw).get("/api/v1/me/")
    token.refresh_from_db()
    assert token.last_used_at == first
    later = frozen.advance(minutes=2)
    bearer(raw).get("/api/v1/me/")
    token.refresh_from_db()
    assert token.last_used_at == later


def test_the_database_sends_one_code_per_phone_per_window_even_past_the_check(user: User) -> None:
    # Given a concurrent request already stored this window's code (its row is not yet visible to the check)
    from kehou.people import services

    now = timezone.now()
    window = int(now.timestamp()) // services.SMS_RESEND_SECONDS
    SmsCode.objects.create(
        phone="13912345678", code_hash="x" * 64, created_at=now - timedelta(hours=1), expires_at=now, window=window
    )
    # When a second request passes the courtesy check, the unique constraint still refuses it
    with pytest.raises(services.SmsRateLimited):
        services.sms_code_send(phone="13912345678", now=now)
    assert SmsCode.objects.filter(phone="13912345678").count() == 1
