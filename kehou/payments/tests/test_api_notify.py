"""The channels' notify endpoint (public, CSRF-exempt, raw body): a signed simulator notification pays the order
and answers 204; a duplicate is success and changes nothing; a tampered, stale or garbage body answers 4xx, is
recorded with an alert and changes nothing else; nothing a caller sends makes it answer 500. And the city bureau's
log of notifications (scoped, filtered, with totals)."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from kehou.conftest import City, api_as
from kehou.core.models import AuditEntry
from kehou.enrolment.tests.factories import NOW
from kehou.ledger.models import LedgerTransaction
from kehou.ledger.selectors import verify
from kehou.notify.models import Notification
from kehou.people.models import Role
from kehou.testing import factories as f

from ..channels.simulator import SimulatorGateway
from ..models import ChannelNotification, Order, PaymentAttempt, Refund, SimulatorDelivery
from ..services.orders import payment_start
from .factories import Seat, held_seat, ordered

pytestmark = pytest.mark.django_db
URL = "/api/v1/payments/notify/simulator"


@pytest.fixture(autouse=True)
def moment(monkeypatch: pytest.MonkeyPatch) -> dict[str, datetime]:
    at = {"now": NOW + timedelta(seconds=30)}
    monkeypatch.setattr("kehou.core.clock.now", lambda: at["now"])
    return at


def state() -> tuple[Any, ...]:
    """What a rejected notification must leave as it was (it only adds its own record and the alert)."""
    return (
        tuple(Order.objects.order_by("pk").values_list("status", "paid_fen", "refunded_fen")),
        tuple(PaymentAttempt.objects.order_by("pk").values_list("status")),
        Refund.objects.count(),
        LedgerTransaction.objects.count(),
        AuditEntry.objects.count(),
    )


def paid_by_payer(seat: Seat) -> tuple[Order, SimulatorDelivery]:
    """An order with a simulator attempt the payer has paid: the notification waits in the simulator's outbox."""
    order = ordered(seat)
    attempt, _start = payment_start(actor=seat.parent, order=order, channel="simulator", now=NOW)
    SimulatorGateway().pay(out_trade_no=attempt.out_trade_no, now=NOW + timedelta(seconds=5))
    return order, SimulatorDelivery.objects.get()


def send(client: Client, headers: dict[str, str], body: bytes, url: str = URL) -> Any:
    return client.post(url, data=body, content_type=headers.get("Content-Type", "application/json"), headers=headers)


def test_a_signed_notification_pays_the_order_and_a_duplicate_changes_nothing(simulator: Any) -> None:
    seat = held_seat()
    order, delivery = paid_by_payer(seat)
    headers, body = SimulatorGateway().signed(delivery, now=NOW + timedelta(seconds=20))
    # A channel's server: no login, no CSRF token.
    client = Client(enforce_csrf_checks=True)

    response = send(client, headers, body)
    assert response.status_code == 204, response.content
    assert response.content == b""
    order.refresh_from_db()
    seat.enrolment.refresh_from_db()
    assert order.status == "paid" and order.paid_fen == order.total_fen and seat.enrolment.status == "confirmed"
    record = ChannelNotification.objects.get()
    assert (record.outcome, record.verified, record.alert, record.order_id) == ("applied", True, False, order.pk)
    assert "Wechatpay-Signature" in record.headers
    assert verify().balanced and verify().escrow_fen == order.total_fen

    before = state()
    again = send(client, headers, body)
    assert again.status_code == 204
    assert state() == before
    assert list(ChannelNotification.objects.values_list("outcome", flat=True).order_by("pk")) == [
        "applied",
        "duplicate",
    ]


def tampered(body: bytes) -> bytes:
    data = json.loads(body)
    data["resource"]["ciphertext"] = data["resource"]["ciphertext"][:-4] + "AAAA"
    return json.dumps(data).encode()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("body", None),
        ("signature", "bad_signature"),
        ("serial", None),
        ("stale", None),
    ],
)
def test_a_tampered_or_stale_notification_changes_nothing_and_raises_an_alert(
    simulator: Any, city: City, change: str, reason: str | None, moment: dict[str, datetime]
) -> None:
    seat = held_seat()
    order, delivery = paid_by_payer(seat)
    headers, body = SimulatorGateway().signed(delivery, now=NOW + timedelta(seconds=20))
    if change == "body":
        body = tampered(body)
    elif change == "signature":
        body = body.replace(b'"id"', b'"id" ', 1)
    elif change == "serial":
        headers["Wechatpay-Serial"] = "0" * 40
    elif change == "stale":
        moment["now"] = NOW + timedelta(hours=1)
    before = state()

    response = send(Client(), headers, body)
    assert 400 <= response.status_code < 500, response.content
    assert state() == before
    order.refresh_from_db()
    assert order.status == "pending"
    record = ChannelNotification.objects.get()
    assert record.outcome == "rejected" and record.alert and not record.verified
    if reason:
        assert record.reason == reason
    assert Notification.objects.filter(user=city.users["city_admin"], kind="payment_alert").exists()


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json at all",
        b"[]",
        b"null",
        b'{"resource": 1}',
        b'{"resource": {"ciphertext": "@@@", "nonce": "x", "associated_data": "y"}}',
        "你好".encode("gbk"),
        bytes(range(256)),
        b"\x00\x00\x00",
    ],
)
def test_garbage_is_rejected_never_500(simulator: Any, body: bytes) -> None:
    held_seat()
    before = state()
    response = Client().post(URL, data=body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert state() == before
    assert ChannelNotification.objects.filter(outcome="rejected", alert=True).count() == 1


def test_garbage_with_signature_headers_is_rejected(simulator: Any) -> None:
    headers = {
        "Wechatpay-Serial": "5157F09EFDC096DE15EBE81A47057A7232F1B8E1",
        "Wechatpay-Timestamp": "not-a-number",
        "Wechatpay-Nonce": "x" * 5000,
        "Wechatpay-Signature": "%%%",
        "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
    }
    response = send(Client(), headers, b'{"id": 1}')
    assert response.status_code == 400
    assert ChannelNotification.objects.get().outcome == "rejected"
    # NUL characters (which PostgreSQL cannot store) in the headers and the body are recorded, not a 500.
    headers["Wechatpay-Nonce"] = "a\x00b"
    response = send(Client(), headers, b'{"id": "\x00"}\x00')
    assert response.status_code == 400
    assert ChannelNotification.objects.filter(outcome="rejected").count() == 2


@pytest.mark.parametrize("channel", ["wechat", "alipay", "ganfutong"])
def test_other_channels_without_their_keys_never_500(simulator: Any, channel: str) -> None:
    for body, content_type in (
        (b"", "application/json"),
        (b"garbage", "text/plain"),
        (b"a=1&sign=xyz&sign_type=RSA2", "application/x-www-form-urlencoded"),
        (os.urandom(300), "application/octet-stream"),
    ):
        response = Client().post(f"/api/v1/payments/notify/{channel}", data=body, content_type=content_type)
        assert 400 <= response.status_code < 500, (channel, response.status_code, response.content)
    assert Order.objects.count() == 0


def test_an_oversized_body_is_refused_before_it_is_read(simulator: Any) -> None:
    response = Client().post(URL, data=b"x" * (64 * 1024 + 1), content_type="application/json")
    assert response.status_code == 413 and response.json()["error"]["code"] == "body_too_large"
    huge = Client().post(URL, data=b"{" * (2 * 1024 * 1024), content_type="application/json")
    assert huge.status_code == 413
    assert ChannelNotification.objects.count() == 0


def test_unknown_or_disabled_channels_are_404_and_only_post_is_answered(simulator: Any, settings: Any) -> None:
    for name in ("paypal", "waiver", "SIMULATOR"):
        response = Client().post(f"/api/v1/payments/notify/{name}", data=b"{}", content_type="application/json")
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    settings.KEHOU_PAYMENT_CHANNELS = ["simulator"]
    assert Client().post("/api/v1/payments/notify/alipay", data=b"a=1", content_type="text/plain").status_code == 404
    assert Client().get(URL).status_code == 405
    assert ChannelNotification.objects.count() == 0


# --- the log ------------------------------------------------------------------------------------------------------
def test_the_notification_log_is_the_city_bureaus_with_filters_and_totals(simulator: Any, city: City) -> None:
    seat = held_seat(school=city.a1)
    order, delivery = paid_by_payer(seat)
    headers, body = SimulatorGateway().signed(delivery, now=NOW + timedelta(seconds=20))
    assert send(Client(), headers, body).status_code == 204
    assert send(Client(), headers, tampered(body)).status_code == 400
    assert Client().post(URL, data=b"junk", content_type="application/json").status_code == 400
    applied = ChannelNotification.objects.get(outcome="applied")

    city_client = api_as(city.users["city_admin"])
    everything = city_client.get("/api/v1/payment-notifications/")
    assert everything.status_code == 200
    assert everything.json()["totals"] == {"count": 3, "alerts": 2}
    alerts = city_client.get("/api/v1/payment-notifications/", {"alert": "1"}).json()
    assert {row["reason"] for row in alerts["results"]} == {"bad_signature", "missing_signature_headers"}
    assert city_client.get("/api/v1/payment-notifications/", {"outcome": "applied"}).json()["totals"]["count"] == 1
    assert city_client.get("/api/v1/payment-notifications/", {"channel": "alipay"}).json()["totals"]["count"] == 0
    detail = city_client.get(f"/api/v1/payment-notifications/{applied.pk}/").json()
    assert detail["order"]["id"] == order.pk and detail["outcome"] == "applied" and "body" in detail

    # The school sees its orders' notifications (not the ones naming no order); a parent and another school none.
    school = api_as(city.users["school_admin"]).get("/api/v1/payment-notifications/").json()
    assert [row["id"] for row in school["results"]] == list(
        ChannelNotification.objects.filter(order=order).order_by("-received_at", "-pk").values_list("pk", flat=True)
    )
    other = f.UserFactory()
    f.grant(other, Role.SCHOOL_ADMIN, school=city.a2)
    assert api_as(other).get("/api/v1/payment-notifications/").json()["totals"]["count"] == 0
    assert api_as(seat.parent).get("/api/v1/payment-notifications/").json()["results"] == []
    assert api_as(other).get(f"/api/v1/payment-notifications/{applied.pk}/").status_code == 404
