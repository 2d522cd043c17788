"""赣服通 unified payment channel, on the protocol assumptions of docs/payments.md: notifications signed with keys
made here and every way one can be wrong; the requests the gateway signs (order, refund, queries, close, bill)
intercepted before the network and verified with the merchant's public key; a mismatching notification end to
end."""

from __future__ import annotations

import hashlib
import json
from base64 import b64decode
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from requests.structures import CaseInsensitiveDict

from kehou.enrolment.tests.factories import NOW
from kehou.ledger.models import LedgerTransaction

from ..channels.base import ChannelUnavailable, NotificationRejected
from ..channels.ganfutong import SHANGHAI, GanfutongGateway, canonical, sign
from ..models import ChannelNotification, Order
from ..services.notifications import notification_receive
from ..services.orders import payment_start
from .factories import held_seat, ordered

API = "https://pay.gft.example.jiangxi.gov.cn/openapi"
APP_ID = "GFT20260001"
MCH_ID = "360100KH0001"


class Keys:
    def __init__(self) -> None:
        self.merchant = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.platform = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


@pytest.fixture
def env(keys: Keys, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Keys:
    (tmp_path / "merchant.pem").write_bytes(
        keys.merchant.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    (tmp_path / "platform.pub.pem").write_bytes(
        keys.platform.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    monkeypatch.setenv("KEHOU_GANFUTONG_API_BASE", API)
    monkeypatch.setenv("KEHOU_GANFUTONG_APP_ID", APP_ID)
    monkeypatch.setenv("KEHOU_GANFUTONG_MERCHANT_ID", MCH_ID)
    monkeypatch.setenv("KEHOU_GANFUTONG_PRIVATE_KEY_FILE", str(tmp_path / "merchant.pem"))
    monkeypatch.setenv("KEHOU_GANFUTONG_PLATFORM_PUBLIC_KEY_FILE", str(tmp_path / "platform.pub.pem"))
    monkeypatch.setenv("KEHOU_GANFUTONG_NOTIFY_URL", "https://kehou.example.cn/payments/notify/ganfutong/")
    return keys


def _t(when: datetime) -> str:
    return when.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def paid(out_trade_no: str = "KP2608240900001A2B3C4D5E", total: Any = 3000, **extra: Any) -> dict[str, Any]:
    return {
        "notify_type": "PAY",
        "app_id": APP_ID,
        "mch_id": MCH_ID,
        "out_trade_no": out_trade_no,
        "trade_no": "GFT202608240900050001",
        "total_fee": total,
        "trade_status": "SUCCESS",
        "pay_time": _t(NOW + timedelta(seconds=5)),
        "pay_channel": "UNIONPAY",
        "attach": "",
        "timestamp": _t(NOW + timedelta(seconds=6)),
        "nonce_str": "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
        "sign_type": "RSA2",
        **extra,
    }


def notification(keys: Keys, data: dict[str, Any] | None = None, *, signer: Any = None) -> bytes:
    data = dict(data if data is not None else paid())
    data["sign"] = sign(signer or keys.platform, data)
    return json.dumps(data, ensure_ascii=False).encode()


def rejected(body: bytes, now: datetime = NOW + timedelta(seconds=7)) -> str:
    with pytest.raises(NotificationRejected) as info:
        GanfutongGateway().parse_notification(headers={}, body=body, now=now)
    return info.value.reason


def test_a_payment_notification_verifies_and_becomes_a_paid_event(env):
    event = GanfutongGateway().parse_notification(headers={}, body=notification(env), now=NOW + timedelta(seconds=7))
    assert (event.kind, event.status, event.amount_fen, event.merchant_id) == ("payment", "paid", 3000, MCH_ID)
    assert (event.out_trade_no, event.channel_trade_no) == ("KP2608240900001A2B3C4D5E", "GFT202608240900050001")
    assert event.occurred_at == NOW + timedelta(seconds=5)
    # Amounts as digit strings and the timestamp as Unix seconds are read too.
    other = paid(total="3000", timestamp=str(int((NOW + timedelta(seconds=6)).timestamp())))
    event = GanfutongGateway().parse_notification(headers={}, body=notification(env, other), now=NOW)
    assert event.amount_fen == 3000


def test_refund_and_closed_notifications(env):
    refund = paid(
        notify_type="REFUND",
        out_refund_no="KR1",
        refund_no="GFTR1",
        refund_fee=1800,
        refund_status="SUCCESS",
        refund_time=_t(NOW),
    )
    event = GanfutongGateway().parse_notification(headers={}, body=notification(env, refund), now=NOW)
    assert (event.kind, event.status, event.amount_fen, event.out_refund_no) == ("refund", "succeeded", 1800, "KR1")
    closed = GanfutongGateway().parse_notification(
        headers={}, body=notification(env, paid(trade_status="CLOSED")), now=NOW
    )
    assert closed.status == "closed"
    assert rejected(notification(env, paid(trade_status="PAYING"))) == "unexpected_status"


def test_a_tampered_notification_is_rejected(env):
    data = json.loads(notification(env))
    data["total_fee"] = 1
    assert rejected(json.dumps(data).encode()) == "bad_signature"
    data = json.loads(notification(env))
    data["extra"] = "x"
    assert rejected(json.dumps(data).encode()) == "bad_signature"


def test_a_signature_by_another_key_is_rejected(env):
    assert rejected(notification(env, signer=env.stranger)) == "bad_signature"
    data = json.loads(notification(env))
    assert rejected(json.dumps({**data, "sign": "%%%"}).encode()) == "bad_signature"
    assert rejected(json.dumps({**data, "sign_type": "SM2"}).encode()) == "bad_signature_type"
    assert rejected(json.dumps({k: v for k, v in data.items() if k != "sign"}).encode()) == "missing_signature"


def test_a_stale_or_future_timestamp_is_rejected(env):
    sent = NOW + timedelta(seconds=6)
    assert rejected(notification(env), now=sent + timedelta(seconds=301)) == "stale_timestamp"
    assert rejected(notification(env), now=sent - timedelta(seconds=301)) == "stale_timestamp"
    for edge in (sent + timedelta(seconds=300), sent - timedelta(seconds=300)):
        assert GanfutongGateway().parse_notification(headers={}, body=notification(env), now=edge).status == "paid"


def test_malformed_notifications_are_rejected(env):
    assert rejected(b"{not json") == "malformed"
    assert rejected(b"\xff\xfe") == "malformed"
    assert rejected(b"[1, 2]") == "malformed"
    assert rejected(notification(env, paid(total="30.00"))) == "malformed"
    assert rejected(notification(env, paid(timestamp="yesterday"))) == "malformed"
    assert rejected(notification(env, {k: v for k, v in paid().items() if k != "out_trade_no"})) == "malformed"
    # A decimal number is refused before anything else is read.
    body = notification(env).replace(b'"total_fee": 3000', b'"total_fee": 30.00')
    assert rejected(body) == "malformed"


def test_a_notification_for_another_app_is_rejected(env):
    assert rejected(notification(env, paid(app_id="GFT99999999"))) == "wrong_app"


# --- requests the gateway sends -----------------------------------------------------------------------------


class FakeGanfutong:
    def __init__(self, keys: Keys, monkeypatch: pytest.MonkeyPatch) -> None:
        self.keys = keys
        self.calls: list[dict[str, Any]] = []
        self.answers: dict[str, dict[str, Any]] = {}
        self.files: dict[str, bytes] = {}
        self.sign_with: Any = keys.platform
        fake = self

        def request(session: Any, method: str, url: str, **kwargs: Any) -> requests.Response:
            return fake.handle(method, url, **kwargs)

        monkeypatch.setattr(requests.Session, "request", request)

    def handle(self, method: str, url: str, data: bytes | None = None, **kwargs: Any) -> requests.Response:
        response = requests.Response()
        response.status_code, response.encoding = 200, "utf-8"
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json"})
        if url in self.files:
            response._content = self.files[url]
            return response
        assert method == "POST" and url.startswith(API), url
        path = url[len(API) :]
        self.calls.append({"path": path, "body": json.loads(data or b"{}"), "headers": kwargs.get("headers", {})})
        answer = {"timestamp": _t(datetime.now(SHANGHAI)), "nonce_str": "N1", "sign_type": "RSA2"}
        answer.update(self.answers.get(path, {"code": "SYSTEM_BUSY", "message": "busy"}))
        answer["sign"] = sign(self.sign_with, answer)
        response._content = json.dumps(answer, ensure_ascii=False).encode()
        return response


def assert_signed_by_merchant(keys: Keys, body: dict[str, Any]) -> dict[str, Any]:
    """RSA2 over the canonical string; returns the business fields (the envelope removed)."""
    assert (body["app_id"], body["mch_id"], body["sign_type"]) == (APP_ID, MCH_ID, "RSA2")
    keys.merchant.public_key().verify(
        b64decode(body["sign"]), canonical(body).encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    datetime.strptime(body["timestamp"], "%Y-%m-%d %H:%M:%S")
    envelope = {"app_id", "mch_id", "timestamp", "nonce_str", "sign_type", "sign"}
    return {k: v for k, v in body.items() if k not in envelope}


@pytest.fixture
def fake(env: Keys, monkeypatch: pytest.MonkeyPatch) -> FakeGanfutong:
    return FakeGanfutong(env, monkeypatch)


def test_an_order_is_signed_and_redirects_to_the_cashier(fake, env):
    fake.answers["/pay/order/create"] = {"code": "SUCCESS", "pay_url": "https://gft.example/cashier?t=abc"}
    start = GanfutongGateway().start_payment(
        out_trade_no="KP1", amount_fen=3000, description="机器人 · 张三", expires_at=NOW + timedelta(minutes=15)
    )
    assert (start.kind, start.url) == ("redirect", "https://gft.example/cashier?t=abc")
    [call] = fake.calls
    assert call["path"] == "/pay/order/create"
    assert assert_signed_by_merchant(env, call["body"]) == {
        "out_trade_no": "KP1",
        "total_fee": 3000,
        "subject": "机器人 · 张三",
        "expire_time": "2026-08-24 09:15:00",
        "notify_url": "https://kehou.example.cn/payments/notify/ganfutong/",
        "return_url": "",
        "payer_id": "",
    }
    fake.answers["/pay/order/create"] = {"code": "PARAM_ERROR", "message": "bad"}
    with pytest.raises(ChannelUnavailable):
        GanfutongGateway().start_payment(out_trade_no="KP1", amount_fen=3000, description="x", expires_at=NOW)


def test_a_refund_is_sent_with_out_refund_no_and_its_answers_mapped(fake, env):
    fake.answers["/pay/refund/apply"] = {"code": "SUCCESS", "refund_status": "PROCESSING", "refund_no": "GFTR1"}
    answer = GanfutongGateway().refund(
        out_trade_no="KP1", out_refund_no="KR1", amount_fen=1800, total_fen=3000, reason="取消"
    )
    assert (answer.status, answer.channel_refund_id) == ("processing", "GFTR1")
    assert fake.calls[-1]["path"] == "/pay/refund/apply"
    assert assert_signed_by_merchant(env, fake.calls[-1]["body"]) == {
        "out_trade_no": "KP1",
        "out_refund_no": "KR1",
        "refund_fee": 1800,
        "total_fee": 3000,
        "reason": "取消",
        "notify_url": "https://kehou.example.cn/payments/notify/ganfutong/",
    }
    fake.answers["/pay/refund/apply"] = {"code": "SYSTEM_BUSY", "message": "busy"}
    with pytest.raises(ChannelUnavailable):
        GanfutongGateway().refund(out_trade_no="KP1", out_refund_no="KR1", amount_fen=1, total_fen=3000, reason="")
    fake.answers["/pay/refund/apply"] = {"code": "REFUND_EXCEEDS", "message": "too much"}
    failed = GanfutongGateway().refund(out_trade_no="KP1", out_refund_no="KR1", amount_fen=1, total_fen=3000, reason="")
    assert (failed.status, failed.failure) == ("failed", "REFUND_EXCEEDS")


def test_queries_and_close(fake, env):
    gateway = GanfutongGateway()
    fake.answers["/pay/order/query"] = {
        "code": "SUCCESS",
        "out_trade_no": "KP1",
        "trade_no": "GFT1",
        "total_fee": 3000,
        "trade_status": "SUCCESS",
        "mch_id": MCH_ID,
        "pay_time": _t(NOW),
    }
    event = gateway.query_payment(out_trade_no="KP1")
    assert event is not None and (event.status, event.amount_fen, event.merchant_id) == ("paid", 3000, MCH_ID)
    assert fake.calls[-1]["path"] == "/pay/order/query"
    assert assert_signed_by_merchant(env, fake.calls[-1]["body"]) == {"out_trade_no": "KP1"}
    fake.answers["/pay/order/query"] = {**fake.answers["/pay/order/query"], "trade_status": "NOTPAY"}
    assert gateway.query_payment(out_trade_no="KP1") is None
    fake.answers["/pay/order/query"] = {"code": "ORDER_NOT_EXIST", "message": "no"}
    assert gateway.query_payment(out_trade_no="KP1") is None

    fake.answers["/pay/refund/query"] = {
        "code": "SUCCESS",
        "out_trade_no": "KP1",
        "out_refund_no": "KR1",
        "refund_no": "GFTR1",
        "refund_fee": 1800,
        "refund_status": "SUCCESS",
        "mch_id": MCH_ID,
    }
    refund = gateway.query_refund(out_refund_no="KR1", out_trade_no="KP1")
    assert refund is not None and (refund.kind, refund.status, refund.amount_fen) == ("refund", "succeeded", 1800)
    assert assert_signed_by_merchant(env, fake.calls[-1]["body"]) == {"out_trade_no": "KP1", "out_refund_no": "KR1"}
    fake.answers["/pay/refund/query"] = {"code": "REFUND_NOT_EXIST", "message": "no"}
    assert gateway.query_refund(out_refund_no="KR1", out_trade_no="KP1") is None

    fake.answers["/pay/order/close"] = {"code": "SUCCESS"}
    gateway.close(out_trade_no="KP1")
    assert fake.calls[-1]["path"] == "/pay/order/close"
    assert assert_signed_by_merchant(env, fake.calls[-1]["body"]) == {"out_trade_no": "KP1"}
    fake.answers["/pay/order/close"] = {"code": "ORDER_PAID"}
    with pytest.raises(ChannelUnavailable):
        gateway.close(out_trade_no="KP1")


def test_paths_are_configurable(fake, env, monkeypatch):
    monkeypatch.setenv("KEHOU_GANFUTONG_PATH_CLOSE", "/v2/trade/close")
    fake.answers["/v2/trade/close"] = {"code": "SUCCESS"}
    GanfutongGateway().close(out_trade_no="KP1")
    assert fake.calls[-1]["path"] == "/v2/trade/close"


def test_the_bill_is_downloaded_and_its_hash_checked(fake, env):
    bill = "交易时间,商户订单号,平台交易号,金额(分),状态\n2026-08-24 09:00:05,KP1,GFT1,3000,SUCCESS\n".encode()
    url = "https://files.gft.example/bill/20260824.csv?token=t1"
    fake.files[url] = bill
    fake.answers["/pay/bill/download"] = {
        "code": "SUCCESS",
        "download_url": url,
        "hash_type": "SHA256",
        "hash_value": hashlib.sha256(bill).hexdigest(),
    }
    assert GanfutongGateway().download_bill(bill_date=date(2026, 8, 24)) == bill
    assert assert_signed_by_merchant(env, fake.calls[-1]["body"]) == {"bill_date": "20260824", "bill_type": "ALL"}
    fake.files[url] = bill + b"extra"
    with pytest.raises(ChannelUnavailable):
        GanfutongGateway().download_bill(bill_date=date(2026, 8, 24))


def test_unverified_answers_and_network_failures_are_unavailable(fake, env, monkeypatch):
    fake.answers["/pay/order/query"] = {"code": "ORDER_NOT_EXIST"}
    fake.sign_with = env.stranger
    with pytest.raises(ChannelUnavailable):
        GanfutongGateway().query_payment(out_trade_no="KP1")

    def down(*args, **kwargs):
        raise requests.ConnectionError("refused")

    monkeypatch.setattr(requests.Session, "request", down)
    with pytest.raises(ChannelUnavailable):
        GanfutongGateway().query_payment(out_trade_no="KP1")


def test_the_acks(env):
    assert json.loads(GanfutongGateway().ack(ok=True).body)["code"] == "SUCCESS"
    failed = GanfutongGateway().ack(ok=False)
    assert failed.status == 400 and json.loads(failed.body)["code"] == "FAIL"


# --- end to end: through the service that receives notifications ----------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("wrong", ["amount", "merchant"])
def test_a_mismatching_notification_changes_nothing_and_alerts(simulator, env, fake, wrong):
    fake.answers["/pay/order/create"] = {"code": "SUCCESS", "pay_url": "https://gft.example/cashier?t=abc"}
    seat = held_seat(price=3000)
    order = ordered(seat)
    attempt, _start = payment_start(actor=seat.parent, order=order, channel="ganfutong", now=NOW)
    assert fake.calls[-1]["body"]["total_fee"] == order.total_fen
    data = paid(attempt.out_trade_no, order.total_fen)
    if wrong == "amount":
        data["total_fee"] = order.total_fen + 100
    else:
        data["mch_id"] = "360100XX9999"
    received = notification_receive(
        channel="ganfutong", headers={}, body=notification(env, data), now=NOW + timedelta(seconds=8)
    )

    assert received.ack.status == 400
    record = ChannelNotification.objects.get()
    assert (record.outcome, record.alert, record.verified) == ("rejected", True, True)
    assert record.reason == ("amount_mismatch" if wrong == "amount" else "merchant_mismatch")
    order.refresh_from_db()
    attempt.refresh_from_db()
    assert (order.status, order.paid_fen, attempt.status) == (Order.Status.PENDING, 0, "created")
    assert LedgerTransaction.objects.count() == 0

    body = notification(env, paid(attempt.out_trade_no, order.total_fen))
    received = notification_receive(channel="ganfutong", headers={}, body=body, now=NOW + timedelta(seconds=9))
    assert received.ack.status == 200 and received.record.outcome == "applied"
    order.refresh_from_db()
    assert (order.status, order.channel) == (Order.Status.PAID, "ganfutong")
