"""Alipay channel (RSA2): real async notifications signed with keys made here and every way one can be wrong;
the requests the gateway signs (WAP pay URL, refund, queries, close, bill) intercepted before the network and
their signatures verified with the application's public key; a mismatching notification end to end."""

from __future__ import annotations

import io
import json
import zipfile
from base64 import b64decode, b64encode
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from requests.structures import CaseInsensitiveDict

from kehou.enrolment.tests.factories import NOW
from kehou.ledger.models import LedgerTransaction

from ..channels.alipay import SHANGHAI, AlipayGateway, canonical
from ..channels.base import ChannelUnavailable, NotificationRejected
from ..models import ChannelNotification, Order
from ..services.notifications import notification_receive
from ..services.orders import payment_start
from .factories import held_seat, ordered

APPID = "2021000118600000"
PID = "2088621000000001"
GATEWAY = "https://openapi-sandbox.dl.alipaydev.com/gateway.do"


class Keys:
    def __init__(self) -> None:
        self.app = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.alipay = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


def _sign(key: rsa.RSAPrivateKey, text: str) -> str:
    return b64encode(key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def _verify(key: rsa.RSAPrivateKey, text: str, signature: str) -> None:
    key.public_key().verify(b64decode(signature), text.encode(), padding.PKCS1v15(), hashes.SHA256())


@pytest.fixture
def env(keys: Keys, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Keys:
    private = keys.app.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / "app_private_key.pem").write_bytes(private)
    # Alipay's public key as its console shows it: bare base64, no PEM armour.
    der = keys.alipay.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (tmp_path / "alipay_public_key.txt").write_text(b64encode(der).decode())
    monkeypatch.setenv("KEHOU_ALIPAY_APPID", APPID)
    monkeypatch.setenv("KEHOU_ALIPAY_PID", PID)
    monkeypatch.setenv("KEHOU_ALIPAY_PRIVATE_KEY_FILE", str(tmp_path / "app_private_key.pem"))
    monkeypatch.setenv("KEHOU_ALIPAY_PUBLIC_KEY_FILE", str(tmp_path / "alipay_public_key.txt"))
    monkeypatch.setenv("KEHOU_ALIPAY_NOTIFY_URL", "https://kehou.example.cn/payments/notify/alipay/")
    monkeypatch.setenv("KEHOU_ALIPAY_GATEWAY", "sandbox")
    return keys


# --- notifications as Alipay sends them ---------------------------------------------------------------------


def _t(when: datetime) -> str:
    return when.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def trade(out_trade_no: str = "KP2608240900001A2B3C4D5E", total: str = "30.00", **extra: str) -> dict[str, str]:
    return {
        "gmt_create": _t(NOW),
        "charset": "utf-8",
        "seller_email": "kehou@example.cn",
        "subject": "机器人 · 张三",
        "buyer_id": "2088102177846880",
        "invoice_amount": total,
        "notify_id": "2026082400222090005003101446218401",
        "fund_bill_list": '[{"amount":"' + total + '","fundChannel":"ALIPAYACCOUNT"}]',
        "notify_type": "trade_status_sync",
        "trade_status": "TRADE_SUCCESS",
        "receipt_amount": total,
        "app_id": APPID,
        "buyer_pay_amount": total,
        "seller_id": PID,
        "gmt_payment": _t(NOW + timedelta(seconds=5)),
        "notify_time": _t(NOW + timedelta(seconds=6)),
        "version": "1.0",
        "out_trade_no": out_trade_no,
        "total_amount": total,
        "trade_no": "2026082422001446880500001234",
        "auth_app_id": APPID,
        "buyer_logon_id": "csq***@sandbox.com",
        "point_amount": "0.00",
        "passback_params": "",
        **extra,
    }


def notification(keys: Keys, params: dict[str, str] | None = None, *, signer: Any = None) -> bytes:
    params = dict(params if params is not None else trade())
    params["sign"] = _sign(signer or keys.alipay, canonical(params))
    params["sign_type"] = "RSA2"
    return urlencode(params).encode()


def rejected(body: bytes, now: datetime = NOW + timedelta(seconds=7)) -> str:
    with pytest.raises(NotificationRejected) as info:
        AlipayGateway().parse_notification(headers={}, body=body, now=now)
    return info.value.reason


def test_a_trade_success_notification_verifies_and_becomes_a_paid_event(env):
    event = AlipayGateway().parse_notification(
        headers={}, body=notification(env, trade(total="30.07")), now=NOW + timedelta(seconds=7)
    )
    assert (event.kind, event.status, event.amount_fen, event.merchant_id) == ("payment", "paid", 3007, PID)
    assert (event.out_trade_no, event.channel_trade_no) == ("KP2608240900001A2B3C4D5E", "2026082422001446880500001234")
    assert event.occurred_at == NOW + timedelta(seconds=5)
    one_fen = AlipayGateway().parse_notification(
        headers={}, body=notification(env, trade(total="0.01")), now=NOW + timedelta(seconds=7)
    )
    assert one_fen.amount_fen == 1


def test_trade_statuses(env):
    gateway = AlipayGateway()
    now = NOW + timedelta(seconds=7)
    finished = gateway.parse_notification(
        headers={}, body=notification(env, trade(trade_status="TRADE_FINISHED")), now=now
    )
    closed = gateway.parse_notification(headers={}, body=notification(env, trade(trade_status="TRADE_CLOSED")), now=now)
    assert (finished.status, closed.status) == ("paid", "closed")
    assert rejected(notification(env, trade(trade_status="WAIT_BUYER_PAY"))) == "unexpected_status"


def test_a_tampered_notification_is_rejected(env):
    params = dict(parse_qsl(notification(env).decode(), keep_blank_values=True))
    params["total_amount"] = "0.01"
    assert rejected(urlencode(params).encode()) == "bad_signature"
    params = dict(parse_qsl(notification(env).decode(), keep_blank_values=True))
    params["extra_field"] = "injected"
    assert rejected(urlencode(params).encode()) == "bad_signature"


def test_a_signature_by_another_key_or_of_another_kind_is_rejected(env):
    assert rejected(notification(env, signer=env.stranger)) == "bad_signature"
    params = dict(parse_qsl(notification(env).decode(), keep_blank_values=True))
    assert rejected(urlencode({**params, "sign": "bm90IGEgc2lnbmF0dXJl"}).encode()) == "bad_signature"
    assert rejected(urlencode({**params, "sign": "%%%not base64"}).encode()) == "bad_signature"
    assert rejected(urlencode({**params, "sign_type": "RSA"}).encode()) == "bad_signature_type"
    assert rejected(urlencode({k: v for k, v in params.items() if k != "sign"}).encode()) == "missing_signature"


def test_a_stale_or_future_notify_time_is_rejected(env):
    sent = NOW + timedelta(seconds=6)
    assert rejected(notification(env), now=sent + timedelta(seconds=301)) == "stale_timestamp"
    assert rejected(notification(env), now=sent - timedelta(seconds=301)) == "stale_timestamp"
    for edge in (sent + timedelta(seconds=300), sent - timedelta(seconds=300)):
        assert AlipayGateway().parse_notification(headers={}, body=notification(env), now=edge).status == "paid"


def test_malformed_notifications_are_rejected(env):
    assert rejected(b"\xff\xfe=\x00") == "malformed"
    assert rejected(b"no-equals-sign&x") == "malformed"
    body = notification(env)
    assert rejected(body + b"&total_amount=30.00") == "malformed"  # a field twice
    # Signed properly, and still not a notification we can read.
    assert rejected(notification(env, trade(total="30.001"))) == "malformed"
    assert rejected(notification(env, trade(total="thirty"))) == "malformed"
    assert rejected(notification(env, {k: v for k, v in trade().items() if k != "notify_time"})) == "malformed"
    assert rejected(notification(env, {k: v for k, v in trade().items() if k != "out_trade_no"})) == "malformed"


def test_a_notification_for_another_app_is_rejected(env):
    assert rejected(notification(env, trade(app_id="2021000000000000"))) == "wrong_app"


# --- requests the gateway sends -----------------------------------------------------------------------------


class FakeAlipay:
    """Stands in for the Alipay gateway: records each call (form fields) and answers signed with Alipay's key."""

    def __init__(self, keys: Keys, monkeypatch: pytest.MonkeyPatch) -> None:
        self.keys = keys
        self.calls: list[dict[str, str]] = []
        self.answers: dict[str, dict[str, Any]] = {}
        self.files: dict[str, bytes] = {}
        self.sign_with: Any = keys.alipay
        fake = self

        def request(session: Any, method: str, url: str, **kwargs: Any) -> requests.Response:
            return fake.handle(method, url, **kwargs)

        monkeypatch.setattr(requests.Session, "request", request)

    def handle(self, method: str, url: str, data: bytes | None = None, **kwargs: Any) -> requests.Response:
        response = requests.Response()
        response.status_code, response.encoding = 200, "utf-8"
        response.headers = CaseInsensitiveDict({"Content-Type": "text/html;charset=utf-8"})
        if url in self.files:
            response._content = self.files[url]
            return response
        assert (method, url) == ("POST", GATEWAY + "?charset=utf-8")
        fields = dict(parse_qsl((data or b"").decode(), keep_blank_values=True, strict_parsing=True))
        self.calls.append(fields)
        api = fields["method"]
        inner = json.dumps(
            self.answers.get(api, {"code": "20000", "msg": "Service Currently Unavailable"}), ensure_ascii=False
        )
        response_type = api.replace(".", "_") + "_response"
        sign = _sign(self.sign_with, inner)
        response._content = f'{{"{response_type}":{inner},"sign":"{sign}"}}'.encode()
        return response


def assert_signed_by_app(keys: Keys, fields: dict[str, str]) -> dict[str, Any]:
    """RSA2 over the sorted key=value& of every field except sign; returns biz_content."""
    fields = dict(fields)
    signature = fields.pop("sign")
    assert fields["sign_type"] == "RSA2" and fields["app_id"] == APPID and fields["charset"] == "utf-8"
    _verify(keys.app, "&".join(f"{k}={v}" for k, v in sorted(fields.items())), signature)
    return json.loads(fields["biz_content"])


@pytest.fixture
def fake(env: Keys, monkeypatch: pytest.MonkeyPatch) -> FakeAlipay:
    return FakeAlipay(env, monkeypatch)


def test_start_payment_is_a_signed_wap_pay_url(env, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("building the cashier URL needs no call")

    monkeypatch.setattr(requests.Session, "request", no_network)
    start = AlipayGateway().start_payment(
        out_trade_no="KP1", amount_fen=3007, description="机器人 · 张三", expires_at=NOW + timedelta(minutes=15)
    )
    assert start.kind == "redirect"
    parts = urlsplit(start.url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == GATEWAY
    fields = dict(parse_qsl(parts.query, keep_blank_values=True))
    assert fields["method"] == "alipay.trade.wap.pay"
    assert fields["notify_url"] == "https://kehou.example.cn/payments/notify/alipay/"
    assert assert_signed_by_app(env, fields) == {
        "subject": "机器人 · 张三",
        "out_trade_no": "KP1",
        "total_amount": "30.07",
        "product_code": "QUICK_WAP_PAY",
        "time_expire": "2026-08-24 09:15:00",
    }


def test_a_refund_is_sent_with_out_request_no_and_answered_at_once(fake, env):
    fake.answers["alipay.trade.refund"] = {
        "code": "10000",
        "msg": "Success",
        "trade_no": "2026082422001446880500001234",
        "out_trade_no": "KP1",
        "buyer_logon_id": "csq***@sandbox.com",
        "fund_change": "Y",
        "refund_fee": "18.00",
    }
    answer = AlipayGateway().refund(
        out_trade_no="KP1", out_refund_no="KR1", amount_fen=1800, total_fen=3000, reason="取消"
    )
    assert answer.status == "succeeded"
    [call] = fake.calls
    assert call["method"] == "alipay.trade.refund"
    assert assert_signed_by_app(env, call) == {
        "out_trade_no": "KP1",
        "out_request_no": "KR1",
        "refund_amount": "18.00",
        "refund_reason": "取消",
    }
    # fund_change N (a resend of a refund done before): the refund query decides.
    fake.answers["alipay.trade.refund"] = {**fake.answers["alipay.trade.refund"], "fund_change": "N"}
    fake.answers["alipay.trade.fastpay.refund.query"] = {
        "code": "10000",
        "msg": "Success",
        "out_request_no": "KR1",
        "out_trade_no": "KP1",
        "refund_amount": "18.00",
        "total_amount": "30.00",
        "refund_status": "REFUND_SUCCESS",
    }
    again = AlipayGateway().refund(out_trade_no="KP1", out_refund_no="KR1", amount_fen=1800, total_fen=3000, reason="")
    assert again.status == "succeeded"
    assert [c["method"] for c in fake.calls[1:]] == ["alipay.trade.refund", "alipay.trade.fastpay.refund.query"]
    fake.answers["alipay.trade.refund"] = {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.SYSTEM_ERROR"}
    with pytest.raises(ChannelUnavailable):
        AlipayGateway().refund(out_trade_no="KP1", out_refund_no="KR1", amount_fen=1800, total_fen=3000, reason="")
    fake.answers["alipay.trade.refund"] = {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_NOT_EXIST"}
    failed = AlipayGateway().refund(out_trade_no="KP1", out_refund_no="KR1", amount_fen=1800, total_fen=3000, reason="")
    assert (failed.status, failed.failure) == ("failed", "ACQ.TRADE_NOT_EXIST")


def test_queries_and_close(fake, env):
    gateway = AlipayGateway()
    fake.answers["alipay.trade.query"] = {
        "code": "10000",
        "msg": "Success",
        "trade_no": "2026082422001446880500001234",
        "out_trade_no": "KP1",
        "trade_status": "TRADE_SUCCESS",
        "total_amount": "30.00",
        "send_pay_date": "2026-08-24 09:00:05",
    }
    event = gateway.query_payment(out_trade_no="KP1")
    assert event is not None and (event.status, event.amount_fen, event.merchant_id) == ("paid", 3000, PID)
    assert fake.calls[-1]["method"] == "alipay.trade.query"
    assert assert_signed_by_app(env, fake.calls[-1]) == {"out_trade_no": "KP1"}
    fake.answers["alipay.trade.query"] = {
        "code": "10000",
        "msg": "Success",
        "trade_status": "WAIT_BUYER_PAY",
        "total_amount": "30.00",
    }
    assert gateway.query_payment(out_trade_no="KP1") is None
    fake.answers["alipay.trade.query"] = {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_NOT_EXIST"}
    assert gateway.query_payment(out_trade_no="KP1") is None

    fake.answers["alipay.trade.fastpay.refund.query"] = {
        "code": "10000",
        "msg": "Success",
        "out_request_no": "KR1",
        "out_trade_no": "KP1",
        "refund_amount": "18.00",
        "total_amount": "30.00",
        "refund_status": "REFUND_SUCCESS",
        "gmt_refund_pay": "2026-08-25 10:00:00.123",
    }
    refund = gateway.query_refund(out_refund_no="KR1", out_trade_no="KP1")
    assert refund is not None and (refund.kind, refund.status, refund.amount_fen) == ("refund", "succeeded", 1800)
    assert assert_signed_by_app(env, fake.calls[-1]) == {
        "out_trade_no": "KP1",
        "out_request_no": "KR1",
        "query_options": ["gmt_refund_pay"],
    }
    fake.answers["alipay.trade.fastpay.refund.query"] = {"code": "10000", "msg": "Success"}
    assert gateway.query_refund(out_refund_no="KR1", out_trade_no="KP1") is None

    fake.answers["alipay.trade.close"] = {"code": "10000", "msg": "Success", "out_trade_no": "KP1"}
    gateway.close(out_trade_no="KP1")
    assert fake.calls[-1]["method"] == "alipay.trade.close"
    assert assert_signed_by_app(env, fake.calls[-1]) == {"out_trade_no": "KP1"}
    fake.answers["alipay.trade.close"] = {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_NOT_EXIST"}
    gateway.close(out_trade_no="KP1")  # never opened at the cashier: nothing to close
    fake.answers["alipay.trade.close"] = {
        "code": "40004",
        "msg": "Business Failed",
        "sub_code": "ACQ.TRADE_STATUS_ERROR",
    }
    with pytest.raises(ChannelUnavailable):
        gateway.close(out_trade_no="KP1")


class GbkZipInfo(zipfile.ZipInfo):
    """A member name stored as GBK bytes without the UTF-8 flag, as Alipay's archives have them."""

    def _encodeFilenameFlags(self):
        return self.filename.encode("gbk"), self.flag_bits & ~0x800


def test_the_bill_is_the_detail_csv_of_the_zip(fake, env):
    url = "https://dwbillcenter.alipay.com/downloadBillFile.resource?bizType=trade&fileId=1"
    detail = "#支付宝业务明细查询\n支付宝交易号,商户订单号,订单金额（元）\n2026082422001446880500001234\t,KP1\t,30.00\n"
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        # Alipay names the members in GBK without the UTF-8 flag.
        for name, text in ((f"{PID}_20260824_业务明细.csv", detail), (f"{PID}_20260824_业务明细(汇总).csv", "汇总")):
            bundle.writestr(GbkZipInfo(name), text.encode("gbk"))
    fake.files[url] = archive.getvalue()
    fake.answers["alipay.data.dataservice.bill.downloadurl.query"] = {
        "code": "10000",
        "msg": "Success",
        "bill_download_url": url,
    }
    assert AlipayGateway().download_bill(bill_date=date(2026, 8, 24)).decode() == detail
    assert assert_signed_by_app(env, fake.calls[-1]) == {"bill_type": "trade", "bill_date": "2026-08-24"}
    fake.files[url] = b"not a zip"
    with pytest.raises(ChannelUnavailable):
        AlipayGateway().download_bill(bill_date=date(2026, 8, 24))


def test_unverified_answers_errors_and_network_failures_are_unavailable(fake, env, monkeypatch):
    fake.answers["alipay.trade.query"] = {
        "code": "10000",
        "msg": "Success",
        "trade_status": "TRADE_SUCCESS",
        "total_amount": "30.00",
    }
    fake.sign_with = env.stranger
    with pytest.raises(ChannelUnavailable):
        AlipayGateway().query_payment(out_trade_no="KP1")
    fake.sign_with = env.alipay
    fake.answers["alipay.trade.query"] = {
        "code": "20000",
        "msg": "Service Currently Unavailable",
        "sub_code": "isp.unknow-error",
    }
    with pytest.raises(ChannelUnavailable):
        AlipayGateway().query_payment(out_trade_no="KP1")

    def down(*args, **kwargs):
        raise requests.Timeout("slow")

    monkeypatch.setattr(requests.Session, "request", down)
    with pytest.raises(ChannelUnavailable):
        AlipayGateway().query_payment(out_trade_no="KP1")


def test_a_refund_notification_is_confirmed_by_the_refund_query(fake, env):
    """A partial refund shows in the trade's notification; refund_fee is the trade's total refunded so far, so
    the amount of this refund comes from the query."""
    fake.answers["alipay.trade.fastpay.refund.query"] = {
        "code": "10000",
        "msg": "Success",
        "out_request_no": "KR2",
        "out_trade_no": "KP1",
        "refund_amount": "5.00",
        "total_amount": "30.00",
        "refund_status": "REFUND_SUCCESS",
    }
    params = trade("KP1", out_biz_no="KR2", refund_fee="23.00", gmt_refund="2026-08-24 09:00:06.214")
    event = AlipayGateway().parse_notification(
        headers={}, body=notification(env, params), now=NOW + timedelta(seconds=7)
    )
    assert (event.kind, event.status, event.out_refund_no, event.amount_fen) == ("refund", "succeeded", "KR2", 500)
    assert fake.calls[-1]["method"] == "alipay.trade.fastpay.refund.query"
    fake.answers["alipay.trade.fastpay.refund.query"] = {"code": "10000", "msg": "Success"}
    assert rejected(notification(env, params)) == "refund_unconfirmed"


def test_the_acks(env):
    assert AlipayGateway().ack(ok=True).body == b"success"
    assert AlipayGateway().ack(ok=False).body == b"fail"


# --- end to end: through the service that receives notifications ----------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("wrong", ["amount", "merchant"])
def test_a_mismatching_notification_changes_nothing_and_alerts(simulator, env, wrong):
    seat = held_seat(price=3000)
    order = ordered(seat)
    attempt, start = payment_start(actor=seat.parent, order=order, channel="alipay", now=NOW)
    assert start.url.startswith(GATEWAY)
    total = f"{order.total_fen // 100}.{order.total_fen % 100:02d}"
    params = trade(attempt.out_trade_no, total)
    if wrong == "amount":
        params.update(total_amount="0.01", receipt_amount="0.01", buyer_pay_amount="0.01", invoice_amount="0.01")
    else:
        params["seller_id"] = "2088000000000999"
    received = notification_receive(
        channel="alipay", headers={}, body=notification(env, params), now=NOW + timedelta(seconds=8)
    )

    assert received.ack.body == b"fail"
    record = ChannelNotification.objects.get()
    assert (record.outcome, record.alert, record.verified) == ("rejected", True, True)
    assert record.reason == ("amount_mismatch" if wrong == "amount" else "merchant_mismatch")
    order.refresh_from_db()
    attempt.refresh_from_db()
    assert (order.status, order.paid_fen, attempt.status) == (Order.Status.PENDING, 0, "created")
    assert LedgerTransaction.objects.count() == 0

    received = notification_receive(
        channel="alipay",
        headers={},
        body=notification(env, trade(attempt.out_trade_no, total)),
        now=NOW + timedelta(seconds=9),
    )
    assert received.ack.body == b"success" and received.record.outcome == "applied"
    order.refresh_from_db()
    assert (order.status, order.channel) == (Order.Status.PAID, "alipay")
