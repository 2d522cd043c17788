"""Issue 14: every login form goes through one path that counts failures and honours the lockout; a locked account
answers like a wrong password; logins and SMS sends are throttled per client address and overall; a stranger
cannot lock an account out from another address; an SMS login does not clear the password lockout."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.test import Client, override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from kehou.conftest import PASSWORD
from kehou.core import clock
from kehou.core.models import AuditEntry
from kehou.notify.sms import MemorySmsBackend
from kehou.people.models import ApiToken, SmsCode, User
from kehou.testing import factories as f

TOKEN_URL = "/api/v1/auth/token"
STRANGER, OWNER, THIRD = "203.0.113.5", "198.51.100.7", "192.0.2.44"


class Clock:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        # the top of an hour (and so of every minute and quarter): the windows of the limits are predictable
        self.now = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(seconds=1)
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


@pytest.fixture
def root(db: Any) -> User:
    return f.UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.fixture
def outbox() -> Any:
    MemorySmsBackend.outbox.clear()
    yield MemorySmsBackend.outbox
    MemorySmsBackend.outbox.clear()


def token(username: str, password: str = PASSWORD, ip: str = OWNER) -> Any:
    return APIClient().post(TOKEN_URL, {"username": username, "password": password}, format="json", REMOTE_ADDR=ip)


def page_login(username: str, password: str = PASSWORD, ip: str = OWNER) -> tuple[Any, Client]:
    client = Client(REMOTE_ADDR=ip)
    return client.post("/login/", {"username": username, "password": password}), client


def admin_login(username: str, password: str = PASSWORD, ip: str = OWNER) -> tuple[Any, Client]:
    client = Client(REMOTE_ADDR=ip)
    response = client.post("/admin/login/?next=/admin/", {"username": username, "password": password})
    return response, client


def sms_send(phone: str, ip: str, capture: Any) -> Any:
    with capture(execute=True):
        return Client(REMOTE_ADDR=ip).post("/login/sms/send", {"sms-phone": phone})


def last_code(outbox: list[Any], phone: str) -> str:
    texts = [m.text for m in outbox if m.phone == phone]
    assert texts, f"no SMS to {phone}"
    match = re.search(r"\b(\d{6})\b", texts[-1])
    assert match
    return match.group(1)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def stored() -> tuple[int, int, int]:
    """What a refused login must leave as it was."""
    return ApiToken.objects.count(), AuditEntry.objects.count(), SmsCode.objects.count()


# --- 1. one path: the Django admin counts failures and honours the lockout -------------------------------------
@override_settings(KEHOU_LOGIN_MAX_FAILURES=3)
def test_the_admin_login_counts_failures_and_a_locked_account_cannot_log_in_there(root: User, frozen: Clock) -> None:
    # Given three wrong passwords typed into the admin's own login form
    for _ in range(3):
        response, client = admin_login("root", "wrong")
        assert response.status_code == 200 and not signed_in(client)
    # Then the account is locked from that address: on the admin, the portal and the API alike
    response, client = admin_login("root")
    assert response.status_code == 200 and not signed_in(client)
    response, client = page_login("root")
    assert response.status_code == 400 and not signed_in(client)
    assert token("root").status_code == 401
    assert AuditEntry.objects.filter(action="account.locked").count() == 1
    # And when the lock expires, the admin login works again
    frozen.advance(seconds=901)
    response, client = admin_login("root")
    assert response.status_code == 302 and signed_in(client)


@override_settings(KEHOU_LOGIN_MAX_FAILURES=3)
def test_a_lock_made_through_the_api_holds_on_the_admin_too(root: User, frozen: Clock) -> None:
    for _ in range(3):
        assert token("root", "wrong").status_code == 401
    response, client = admin_login("root")
    assert response.status_code == 200 and not signed_in(client)


@override_settings(KEHOU_LOGIN_MAX_FAILURES=2)
def test_the_authentication_backend_itself_refuses_a_locked_account(user: User, frozen: Clock) -> None:
    for _ in range(2):
        assert authenticate(None, username="wang", password="wrong") is None
    assert authenticate(None, username="wang", password=PASSWORD) is None
    frozen.advance(seconds=901)
    assert authenticate(None, username="wang", password=PASSWORD) == user


# --- 2. locked and wrong answer alike; throttles; no lock-out from another address ------------------------------
@override_settings(KEHOU_LOGIN_MAX_FAILURES=3)
def test_a_locked_account_answers_exactly_like_a_wrong_password_with_the_same_work(
    user: User, frozen: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashing: list[str] = []
    check, make = User.check_password, User.set_password
    monkeypatch.setattr(User, "check_password", lambda self, raw: hashing.append("check") or check(self, raw))
    monkeypatch.setattr(User, "set_password", lambda self, raw: hashing.append("make") or make(self, raw))
    wrong = [token("wang", "wrong") for _ in range(3)]
    hashing.clear()
    locked = token("wang")  # the right password, while locked
    locked_work = list(hashing)
    hashing.clear()
    unknown = token("nobody-at-all", "wrong")
    unknown_work = list(hashing)
    assert locked.status_code == wrong[0].status_code == wrong[2].status_code == unknown.status_code == 401
    assert locked.json() == wrong[2].json() == unknown.json()
    assert locked.json()["error"]["code"] == "invalid_credentials"
    assert len(locked_work) == len(unknown_work) == 1  # one password hash each: no timing oracle
    assert ApiToken.objects.count() == 0


@override_settings(KEHOU_LOGIN_MAX_FAILURES=3)
def test_a_stranger_cannot_lock_the_owner_out_from_another_address(user: User, frozen: Clock) -> None:
    # Given a stranger who fails five times every fifteen minutes, for hours
    for _ in range(8):
        for _ in range(5):
            assert token("wang", "wrong", ip=STRANGER).status_code == 401
        # Then the owner, from their own address, still logs in, by username and by phone, on every form
        assert token("wang", ip=OWNER).status_code == 201
        assert token("13912345678", ip=OWNER).status_code == 201
        response, client = page_login("wang", ip=OWNER)
        assert response.status_code == 302 and signed_in(client)
        frozen.advance(minutes=15)
    # And the stranger's address stays locked, even with the right password
    for _ in range(3):
        token("wang", "wrong", ip=STRANGER)
    assert token("wang", ip=STRANGER).status_code == 401


@override_settings(KEHOU_LOGIN_RATES_PER_ADDRESS="5/minute")
@pytest.mark.parametrize("form", ["token", "page", "admin", "sms"])
def test_logins_from_one_address_are_throttled_on_every_form(user: User, root: User, frozen: Clock, form: str) -> None:
    def attempt(ip: str, username: str = "nobody", password: str = "wrong") -> Any:
        if form == "token":
            return token(username, password, ip=ip)
        if form == "page":
            return page_login(username, password, ip=ip)[0]
        if form == "admin":
            return admin_login(username, password, ip=ip)[0]
        return Client(REMOTE_ADDR=ip).post("/login/sms/", {"sms-phone": "13987654321", "sms-code": "123456"})

    for _ in range(5):
        assert attempt(STRANGER).status_code in (200, 400, 401)
    before = stored()
    refused = attempt(STRANGER, "root" if form == "admin" else "wang", PASSWORD)
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    if form == "token":
        assert refused.json()["error"]["code"] == "throttled"
    assert stored() == before
    # Another address is not affected; a minute later the first one may try again
    assert attempt(OWNER, "wang", PASSWORD).status_code != 429
    frozen.advance(seconds=60)
    assert attempt(STRANGER, "wang", PASSWORD).status_code != 429


@override_settings(KEHOU_LOGIN_FAILURE_RATES_PER_ADDRESS="10/hour")
def test_one_password_sprayed_over_many_accounts_meets_a_limit(db: Any, frozen: Clock) -> None:
    for i in range(25):
        f.UserFactory(username=f"teacher{i:02d}")
    answers = [token(f"teacher{i:02d}", "Spring2026!", ip=STRANGER) for i in range(25)]
    assert [a.status_code for a in answers] == [401] * 10 + [429] * 15
    assert answers[10].json()["error"]["code"] == "throttled"
    assert int(answers[10]["Retry-After"]) > 60
    # Even the right password is refused from that address until the hour is over; others are not affected
    assert token("teacher00", ip=STRANGER).status_code == 429
    assert token("teacher00", ip=OWNER).status_code == 201
    assert ApiToken.objects.count() == 1


@override_settings(KEHOU_LOGIN_RATES_OVERALL="6/minute")
def test_logins_are_throttled_overall_across_addresses(user: User, frozen: Clock) -> None:
    for i in range(6):
        assert token("wang", "wrong", ip=f"203.0.113.{10 + i}").status_code == 401
    refused = token("wang", ip="203.0.113.99")
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "throttled"
    assert ApiToken.objects.count() == 0
    frozen.advance(seconds=60)
    assert token("wang", ip="203.0.113.99").status_code == 201


def test_a_forged_forwarded_for_header_does_not_escape_the_throttle(user: User, frozen: Clock, settings: Any) -> None:
    settings.KEHOU_LOGIN_RATES_PER_ADDRESS = "3/minute"
    answers = [
        APIClient().post(
            TOKEN_URL,
            {"username": "wang", "password": "wrong"},
            format="json",
            REMOTE_ADDR=STRANGER,
            HTTP_X_FORWARDED_FOR=f"10.0.0.{i}",
        )
        for i in range(5)
    ]
    assert [a.status_code for a in answers] == [401, 401, 401, 429, 429]


# --- 3. SMS: sends limited per address and overall; an SMS login keeps the password lockout ---------------------
@override_settings(KEHOU_SMS_SEND_RATES_PER_ADDRESS="3/minute,6/hour")
def test_sms_sends_from_one_address_are_limited_whatever_the_phone(
    user: User, outbox: list[Any], frozen: Clock, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    phones = ["13900000001", "13900000002", "13900000003"]
    assert [sms_send(p, STRANGER, capture).status_code for p in phones] == [200, 200, 200]
    codes_before = SmsCode.objects.count()
    known = sms_send("13912345678", STRANGER, capture)  # has an account
    unknown = sms_send("13900000004", STRANGER, capture)  # has none
    assert known.status_code == unknown.status_code == 429
    assert known.json() == unknown.json()
    assert known.json()["error"]["code"] == "sms_rate_limited"
    assert known["Retry-After"] == unknown["Retry-After"] and 1 <= int(known["Retry-After"]) <= 60
    assert SmsCode.objects.count() == codes_before and outbox == []
    # Another address may still ask; after the minute one more (refused asks count too), then the hour's limit
    assert sms_send("13912345678", OWNER, capture).status_code == 200
    assert len(outbox) == 1
    frozen.advance(seconds=61)
    assert [sms_send(f"1390000001{i}", STRANGER, capture).status_code for i in range(3)] == [200, 429, 429]


@override_settings(KEHOU_SMS_SEND_RATES_OVERALL="4/minute")
def test_sms_sends_are_limited_overall(
    user: User, outbox: list[Any], frozen: Clock, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    answers = [sms_send(f"1390000002{i}", f"203.0.113.{i}", capture) for i in range(4)]
    assert [a.status_code for a in answers] == [200] * 4
    refused = sms_send("13912345678", "203.0.113.50", capture)
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "sms_rate_limited"
    assert refused.has_header("Retry-After")
    assert outbox == []


@override_settings(KEHOU_LOGIN_MAX_FAILURES=3)
def test_an_sms_login_does_not_clear_the_password_lockout(
    user: User, outbox: list[Any], frozen: Clock, django_capture_on_commit_callbacks: Any
) -> None:
    for _ in range(3):
        assert token("wang", "wrong", ip=STRANGER).status_code == 401
    sms_send("13912345678", STRANGER, django_capture_on_commit_callbacks)
    client = Client(REMOTE_ADDR=STRANGER)
    response = client.post("/login/sms/", {"sms-phone": "13912345678", "sms-code": last_code(outbox, "13912345678")})
    assert response.status_code == 302 and signed_in(client)
    # The password lock of that address still holds
    assert token("wang", ip=STRANGER).status_code == 401
    response, other = page_login("wang", ip=STRANGER)
    assert response.status_code == 400 and not signed_in(other)


@override_settings(KEHOU_LOGIN_FAILURE_RATES_PER_ADDRESS="5/hour")
def test_guessing_sms_codes_counts_as_failed_logins_of_the_address(
    user: User, outbox: list[Any], frozen: Clock, django_capture_on_commit_callbacks: Any
) -> None:
    answers = [
        Client(REMOTE_ADDR=STRANGER).post("/login/sms/", {"sms-phone": f"1390000003{i}", "sms-code": "000000"})
        for i in range(7)
    ]
    assert [a.status_code for a in answers] == [400] * 5 + [429] * 2
    assert answers[5].has_header("Retry-After")
