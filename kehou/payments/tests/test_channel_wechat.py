"""WeChat Pay API v3 channel: real notifications signed with keys made here (platform certificate by serial,
public-key mode, AES-256-GCM resources), every way one can be wrong, the requests the gateway signs (JSAPI, H5,
refund, queries, close, bill) intercepted before the network, and a mismatching notification end to end."""

from __future__ import annotations

import hashlib
import json
import re
from base64 import b64decode
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from requests.structures import CaseInsensitiveDict

from kehou.core.errors import KehouError
from kehou.enrolment.tests.factories import NOW
from kehou.ledger.models import LedgerTransaction

from ..channels import wechat_v3
from ..channels.base import ChannelUnavailable, NotificationRejected
from ..channels.wechat import WechatGateway
from ..models import ChannelNotification, Order, PaymentAttempt
from ..services.notifications import notification_receive
from ..services.orders import new_number
from .factories import held_seat, ordered

MCHID = "1230000109"
APPID = "wxd678efh567hg6787"
MERCHANT_SERIAL = "3775B6A45ACD588826D15E583A95F5DD5A1B2C3D"
PUBLIC_KEY_ID = "PUB_KEY_ID_0112345678202411290001"
APIV3_KEY = "a3b7c9d1e2f40516273849aabbccddee"  # 32 characters, made up for the tests


def _pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _certificate(key: rsa.RSAPrivateKey, serial: int, not_before: datetime, not_after: datetime) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tenpay.com Root CA (test)")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


class Keys:
    def __init__(self) -> None:
        self.merchant = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.platform = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.old_platform = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.serial = 0x5157F09EFDC096DE15EBE81A47057A7232F1B8E1
        self.serial_hex = f"{self.serial:X}"
        self.old_serial_hex = "1A2B3C4D5E6F"
        self.cert = _certificate(
            self.platform, self.serial, datetime(2025, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC)
        )
        # Expired before NOW (2026-08-24): a notification under it is from an unknown certificate.
        self.old_cert = _certificate(
            self.old_platform,
            int(self.old_serial_hex, 16),
            datetime(2020, 1, 1, tzinfo=UTC),
            datetime(2025, 1, 1, tzinfo=UTC),
        )


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


@pytest.fixture
def env(keys: Keys, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Keys:
    """The gateway's configuration from the environment, pointing at files under tmp_path."""
    certs = tmp_path / "platform"
    certs.mkdir()
    (certs / f"{keys.serial_hex}.pem").write_text(keys.cert)
    (certs / "old.pem").write_text(keys.old_cert)
    (tmp_path / "apiclient_key.pem").write_text(_pem(keys.merchant))
    (tmp_path / "apiv3").write_text(APIV3_KEY)
    (tmp_path / "pub_key.pem").write_text(_public_pem(keys.platform))
    monkeypatch.setenv("KEHOU_WECHAT_MCHID", MCHID)
    monkeypatch.setenv("KEHOU_WECHAT_APPID", APPID)
    monkeypatch.setenv("KEHOU_WECHAT_CERT_SERIAL", MERCHANT_SERIAL)
    monkeypatch.setenv("KEHOU_WECHAT_PRIVATE_KEY_FILE", str(tmp_path / "apiclient_key.pem"))
    monkeypatch.setenv("KEHOU_WECHAT_APIV3_KEY_FILE", str(tmp_path / "apiv3"))
    monkeypatch.setenv("KEHOU_WECHAT_PLATFORM_CERT_DIR", str(certs))
    monkeypatch.delenv("KEHOU_WECHAT_PUBLIC_KEY_FILE", raising=False)
    monkeypatch.delenv("KEHOU_WECHAT_PUBLIC_KEY_ID", raising=False)
    monkeypatch.setenv("KEHOU_WECHAT_NOTIFY_URL", "https://kehou.example.cn/payments/notify/wechat/")
    keys.tmp = tmp_path  # type: ignore[attr-defined]
    return keys


# --- notifications as WeChat sends them ---------------------------------------------------------------------


def transaction(out_trade_no: str = "KP2608240900001A2B3C4D5E", total: int = 3000, **extra: Any) -> dict[str, Any]:
    return {
        "mchid": MCHID,
        "appid": APPID,
        "out_trade_no": out_trade_no,
        "transaction_id": "4200000000202608241234567890",
        "trade_type": "JSAPI",
        "trade_state": "SUCCESS",
        "trade_state_desc": "支付成功",
        "bank_type": "CMC",
        "success_time": "2026-08-24T09:00:05+08:00",
        "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        "amount": {"total": total, "payer_total": total, "currency": "CNY", "payer_currency": "CNY"},
        **extra,
    }


def notification(
    keys: Keys,
    data: dict[str, Any] | None = None,
    *,
    at: datetime = NOW,
    event_type: str = "TRANSACTION.SUCCESS",
    signer: rsa.RSAPrivateKey | None = None,
    serial: str | None = None,
    apiv3_key: str = APIV3_KEY,
) -> tuple[dict[str, str], bytes]:
    return wechat_v3.sign_notification(
        data=data if data is not None else transaction(),
        event_type=event_type,
        platform_private_key=_pem(signer or keys.platform),
        serial=serial or keys.serial_hex,
        apiv3_key=apiv3_key,
        now=at,
        associated_data="refund" if event_type.startswith("REFUND") else "transaction",
    )


def resign(keys: Keys, headers: dict[str, str], body: bytes) -> dict[str, str]:
    """Sign a (changed) body properly: what an attacker without the key cannot do; used to reach later checks."""
    message = f"{headers['Wechatpay-Timestamp']}\n{headers['Wechatpay-Nonce']}\n{body.decode()}\n".encode()
    signature = keys.platform.sign(message, padding.PKCS1v15(), hashes.SHA256())
    from base64 import b64encode

    return {**headers, "Wechatpay-Signature": b64encode(signature).decode()}


def rejected(gateway: WechatGateway, headers: dict[str, str], body: bytes, now: datetime = NOW) -> str:
    with pytest.raises(NotificationRejected) as info:
        gateway.parse_notification(headers=headers, body=body, now=now)
    return info.value.reason


def test_a_payment_notification_verifies_and_becomes_a_paid_event(env):
    headers, body = notification(env, transaction(total=3000))
    event = WechatGateway().parse_notification(headers=headers, body=body, now=NOW + timedelta(seconds=3))
    assert (event.kind, event.status, event.amount_fen, event.merchant_id) == ("payment", "paid", 3000, MCHID)
    assert event.out_trade_no == "KP2608240900001A2B3C4D5E"
    assert event.channel_trade_no == "4200000000202608241234567890"
    assert event.occurred_at == datetime(2026, 8, 24, 1, 0, 5, tzinfo=UTC)


def test_a_refund_notification_becomes_a_refund_event(env):
    data = {
        "mchid": MCHID,
        "out_trade_no": "KP2608240900001A2B3C4D5E",
        "transaction_id": "4200000000202608241234567890",
        "out_refund_no": "KR2608250900001A2B3C4D5E",
        "refund_id": "50000000382019052709732678859",
        "refund_status": "SUCCESS",
        "success_time": "2026-08-25T10:00:00+08:00",
        "user_received_account": "招商银行信用卡0403",
        "amount": {"total": 3000, "refund": 1800, "payer_total": 3000, "payer_refund": 1800},
    }
    headers, body = notification(env, data, event_type="REFUND.SUCCESS")
    event = WechatGateway().parse_notification(headers=headers, body=body, now=NOW)
    assert (event.kind, event.status, event.amount_fen) == ("refund", "succeeded", 1800)
    assert (event.out_refund_no, event.channel_refund_id) == (
        "KR2608250900001A2B3C4D5E",
        "50000000382019052709732678859",
    )
    abnormal = {**data, "refund_status": "ABNORMAL"}
    headers, body = notification(env, abnormal, event_type="REFUND.ABNORMAL")
    assert WechatGateway().parse_notification(headers=headers, body=body, now=NOW).status == "failed"


def test_the_platform_public_key_mode_and_djangos_meta_headers(env, monkeypatch):
    monkeypatch.setenv("KEHOU_WECHAT_PUBLIC_KEY_FILE", str(env.tmp / "pub_key.pem"))
    monkeypatch.setenv("KEHOU_WECHAT_PUBLIC_KEY_ID", PUBLIC_KEY_ID)
    monkeypatch.delenv("KEHOU_WECHAT_PLATFORM_CERT_DIR")
    headers, body = notification(env, serial=PUBLIC_KEY_ID)
    meta = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
    assert WechatGateway().parse_notification(headers=meta, body=body, now=NOW).status == "paid"
    # In public-key mode a certificate serial is unknown.
    headers, body = notification(env)
    assert rejected(WechatGateway(), headers, body) == "unknown_serial"


def test_a_tampered_body_is_rejected(env):
    headers, body = notification(env, transaction(total=3000))
    envelope = json.loads(body)
    envelope["summary"] = "支付成功!"
    assert rejected(WechatGateway(), headers, json.dumps(envelope, ensure_ascii=False).encode()) == "bad_signature"
    assert rejected(WechatGateway(), headers, body + b" ") == "bad_signature"


def test_an_unknown_or_expired_certificate_serial_is_rejected_without_fetching(env, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the gateway must not fetch certificates")

    monkeypatch.setattr(requests.Session, "request", no_network)
    headers, body = notification(env, serial="7132D72A03E93CDDF8C03BBD1F37EEDF3A8B4C5D")
    assert rejected(WechatGateway(), headers, body) == "unknown_serial"
    headers, body = notification(env, signer=env.old_platform, serial=env.old_serial_hex)
    assert rejected(WechatGateway(), headers, body) == "unknown_serial"


def test_a_signature_by_another_key_is_rejected(env):
    headers, body = notification(env, signer=env.stranger)  # the right serial, the wrong key
    assert rejected(WechatGateway(), headers, body) == "bad_signature"
    headers, body = notification(env)
    assert (
        rejected(WechatGateway(), {**headers, "Wechatpay-Signature": "bm90IGEgc2lnbmF0dXJl"}, body) == "bad_signature"
    )
    assert rejected(WechatGateway(), {**headers, "Wechatpay-Signature": "%%%"}, body) == "bad_signature"


def test_a_stale_or_future_timestamp_is_rejected(env):
    gateway = WechatGateway()
    headers, body = notification(env, at=NOW - timedelta(seconds=301))
    assert rejected(gateway, headers, body) == "stale_timestamp"
    headers, body = notification(env, at=NOW + timedelta(seconds=301))
    assert rejected(gateway, headers, body) == "stale_timestamp"
    headers, body = notification(env, at=NOW - timedelta(seconds=300))
    assert gateway.parse_notification(headers=headers, body=body, now=NOW).status == "paid"
    headers, body = notification(env, at=NOW + timedelta(seconds=300))
    assert gateway.parse_notification(headers=headers, body=body, now=NOW).status == "paid"


def test_missing_headers_malformed_json_and_resources_are_rejected(env):
    gateway = WechatGateway()
    headers, body = notification(env)
    for name in ("Wechatpay-Serial", "Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Signature"):
        assert rejected(gateway, {k: v for k, v in headers.items() if k != name}, body) == "missing_signature_headers"
    assert rejected(gateway, {**headers, "Wechatpay-Signature-Type": "WECHATPAY2-SM2-WITH-SM3"}, body) == (
        "bad_signature_type"
    )
    # Signed properly but not JSON / without a resource / with a broken resource / undecodable bytes.
    for bad in (b"{not json", b'{"event_type":"TRANSACTION.SUCCESS"}', b"[]"):
        assert rejected(gateway, resign(env, headers, bad), bad) == "malformed"
    envelope = json.loads(body)
    del envelope["resource"]["ciphertext"]
    bad = json.dumps(envelope).encode()
    assert rejected(gateway, resign(env, headers, bad), bad) == "malformed"
    envelope = json.loads(body)
    envelope["resource"]["algorithm"] = "AEAD_SM4_GCM"
    bad = json.dumps(envelope).encode()
    assert rejected(gateway, resign(env, headers, bad), bad) == "bad_algorithm"
    assert rejected(gateway, headers, b"\xff\xfe") == "malformed"
    # A resource that decrypts but is not a transaction.
    headers, body = notification(env, {"mchid": MCHID, "appid": APPID})
    assert rejected(gateway, headers, body) == "malformed"


def test_a_resource_encrypted_with_another_apiv3_key_is_undecryptable(env):
    headers, body = notification(env, apiv3_key="ffffffffffffffffffffffffffffffff")
    assert rejected(WechatGateway(), headers, body) == "undecryptable"


def test_a_payment_to_another_app_is_rejected(env):
    headers, body = notification(env, transaction(appid="wx0000000000000000"))
    assert rejected(WechatGateway(), headers, body) == "wrong_app"


# --- requests the gateway sends -----------------------------------------------------------------------------


class FakeWechat:
    """Stands in for api.mch.weixin.qq.com: records each request and answers signed with the platform key."""

    def __init__(self, keys: Keys, monkeypatch: pytest.MonkeyPatch) -> None:
        self.keys = keys
        self.calls: list[dict[str, Any]] = []
        self.answers: dict[tuple[str, str], tuple[int, Any]] = {}
        self.raw: dict[str, bytes] = {}
        self.sign_with: rsa.RSAPrivateKey = keys.platform
        fake = self

        def request(session: Any, method: str, url: str, **kwargs: Any) -> requests.Response:
            return fake.handle(method, url, **kwargs)

        monkeypatch.setattr(requests.Session, "request", request)

    def answer(self, method: str, path: str, status: int, body: Any = None) -> None:
        self.answers[(method, path)] = (status, body)

    def handle(
        self, method: str, url: str, data: bytes | None = None, headers: Any = None, **kwargs: Any
    ) -> requests.Response:
        assert url.startswith("https://api.mch.weixin.qq.com/"), url
        path = url[len("https://api.mch.weixin.qq.com") :]
        body = (data or b"").decode()
        self.calls.append({"method": method, "path": path, "body": body, "headers": dict(headers or {})})
        response = requests.Response()
        response.url = url
        if path in self.raw:
            response.status_code, response._content = 200, self.raw[path]
            response.headers = CaseInsensitiveDict({"Content-Type": "application/octet-stream"})
            return response
        status, answer = self.answers.get((method, path.split("?")[0]), (404, {"code": "NOT_FOUND", "message": "no"}))
        text = "" if answer is None else json.dumps(answer, ensure_ascii=False)
        timestamp, nonce = str(int(datetime.now(UTC).timestamp())), "5K8264ILTKCH16CQ2502SI8ZNMTM67VS"
        from base64 import b64encode

        signature = b64encode(
            self.sign_with.sign(f"{timestamp}\n{nonce}\n{text}\n".encode(), padding.PKCS1v15(), hashes.SHA256())
        ).decode()
        response.status_code, response._content, response.encoding = status, text.encode(), "utf-8"
        response.headers = CaseInsensitiveDict(
            {
                "Content-Type": "application/json",
                "Wechatpay-Serial": self.keys.serial_hex,
                "Wechatpay-Timestamp": timestamp,
                "Wechatpay-Nonce": nonce,
                "Wechatpay-Signature": signature,
            }
        )
        return response


def assert_signed_by_merchant(keys: Keys, call: dict[str, Any]) -> None:
    """The Authorization header: WECHATPAY2-SHA256-RSA2048 over method\\npath\\ntimestamp\\nnonce\\nbody\\n."""
    authorization = call["headers"]["Authorization"]
    assert authorization.startswith("WECHATPAY2-SHA256-RSA2048 ")
    fields = dict(re.findall(r'(\w+)="([^"]*)"', authorization))
    assert fields["mchid"] == MCHID and fields["serial_no"] == MERCHANT_SERIAL
    message = f"{call['method']}\n{call['path']}\n{fields['timestamp']}\n{fields['nonce_str']}\n{call['body']}\n"
    keys.merchant.public_key().verify(
        b64decode(fields["signature"]), message.encode(), padding.PKCS1v15(), hashes.SHA256()
    )


@pytest.fixture
def fake(env: Keys, monkeypatch: pytest.MonkeyPatch) -> FakeWechat:
    return FakeWechat(env, monkeypatch)


def test_a_jsapi_order_is_signed_and_gives_the_client_signed_parameters(fake, env):
    fake.answer("POST", "/v3/pay/transactions/jsapi", 200, {"prepay_id": "wx24090005123456789abcdef0123456789"})
    start = WechatGateway().start_payment(
        out_trade_no="KP1",
        amount_fen=3000,
        description="机器人 · 张三",
        expires_at=NOW + timedelta(minutes=15),
        payer_ref="openid:oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
    )
    [call] = fake.calls
    assert (call["method"], call["path"]) == ("POST", "/v3/pay/transactions/jsapi")
    assert json.loads(call["body"]) == {
        "appid": APPID,
        "mchid": MCHID,
        "description": "机器人 · 张三",
        "out_trade_no": "KP1",
        "time_expire": "2026-08-24T09:15:00+08:00",
        "notify_url": "https://kehou.example.cn/payments/notify/wechat/",
        "amount": {"total": 3000, "currency": "CNY"},
        "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
    }
    assert_signed_by_merchant(env, call)
    assert start.kind == "jsapi"
    p = start.params
    assert (p["appId"], p["package"], p["signType"]) == (APPID, "prepay_id=wx24090005123456789abcdef0123456789", "RSA")
    message = f"{p['appId']}\n{p['timeStamp']}\n{p['nonceStr']}\n{p['package']}\n".encode()
    env.merchant.public_key().verify(b64decode(p["paySign"]), message, padding.PKCS1v15(), hashes.SHA256())


def test_an_h5_order_redirects_and_an_unknown_payer_is_refused(fake, env):
    fake.answer(
        "POST",
        "/v3/pay/transactions/h5",
        200,
        {"h5_url": "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx1"},
    )
    start = WechatGateway().start_payment(
        out_trade_no="KP2", amount_fen=4500, description="课后服务", expires_at=NOW, payer_ref="ip:14.23.150.211"
    )
    assert (start.kind, start.url) == ("redirect", "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx1")
    [call] = fake.calls
    assert call["path"] == "/v3/pay/transactions/h5"
    assert json.loads(call["body"])["scene_info"] == {"payer_client_ip": "14.23.150.211", "h5_info": {"type": "Wap"}}
    assert_signed_by_merchant(env, call)
    with pytest.raises(KehouError) as info:
        WechatGateway().start_payment(out_trade_no="KP3", amount_fen=1, description="x", expires_at=NOW)
    assert info.value.code == "wechat_payer_unknown" and len(fake.calls) == 1


def test_a_refund_is_sent_with_out_refund_no_and_its_answers_mapped(fake, env):
    fake.answer("POST", "/v3/refund/domestic/refunds", 200, {"refund_id": "5000000038", "status": "PROCESSING"})
    answer = WechatGateway().refund(
        out_trade_no="KP1", out_refund_no="KR1", amount_fen=1800, total_fen=3000, reason="取消"
    )
    assert (answer.status, answer.channel_refund_id) == ("processing", "5000000038")
    [call] = fake.calls
    assert (call["method"], call["path"]) == ("POST", "/v3/refund/domestic/refunds")
    assert json.loads(call["body"]) == {
        "out_trade_no": "KP1",
        "out_refund_no": "KR1",
        "reason": "取消",
        "notify_url": "https://kehou.example.cn/payments/notify/wechat/",
        "amount": {"refund": 1800, "total": 3000, "currency": "CNY"},
    }
    assert_signed_by_merchant(env, call)
    fake.answer("POST", "/v3/refund/domestic/refunds", 403, {"code": "NOT_ENOUGH", "message": "余额不足"})
    with pytest.raises(ChannelUnavailable):
        WechatGateway().refund(out_trade_no="KP1", out_refund_no="KR1", amount_fen=1800, total_fen=3000, reason="")
    fake.answer("POST", "/v3/refund/domestic/refunds", 400, {"code": "INVALID_REQUEST", "message": "已全额退款"})
    failed = WechatGateway().refund(out_trade_no="KP1", out_refund_no="KR1", amount_fen=1800, total_fen=3000, reason="")
    assert (failed.status, failed.failure) == ("failed", "INVALID_REQUEST")


def test_queries_and_close(fake, env):
    gateway = WechatGateway()
    path = "/v3/pay/transactions/out-trade-no/KP1"
    fake.answer("GET", path, 200, transaction("KP1", 3000))
    event = gateway.query_payment(out_trade_no="KP1")
    assert event is not None and (event.status, event.amount_fen, event.merchant_id) == ("paid", 3000, MCHID)
    assert fake.calls[-1]["path"] == f"{path}?mchid={MCHID}" and fake.calls[-1]["body"] == ""
    assert_signed_by_merchant(env, fake.calls[-1])
    fake.answer("GET", path, 200, transaction("KP1", 3000, trade_state="NOTPAY"))
    assert gateway.query_payment(out_trade_no="KP1") is None
    fake.answer("GET", path, 404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"})
    assert gateway.query_payment(out_trade_no="KP1") is None

    refund = {
        "refund_id": "5000000038",
        "out_refund_no": "KR1",
        "out_trade_no": "KP1",
        "status": "SUCCESS",
        "success_time": "2026-08-25T10:00:00+08:00",
        "amount": {"total": 3000, "refund": 1800},
    }
    fake.answer("GET", "/v3/refund/domestic/refunds/KR1", 200, refund)
    event = gateway.query_refund(out_refund_no="KR1", out_trade_no="KP1")
    assert event is not None and (event.kind, event.status, event.amount_fen) == ("refund", "succeeded", 1800)
    assert fake.calls[-1]["method"] == "GET"
    assert_signed_by_merchant(env, fake.calls[-1])
    fake.answer("GET", "/v3/refund/domestic/refunds/KR1", 404, {"code": "RESOURCE_NOT_EXISTS", "message": "不存在"})
    assert gateway.query_refund(out_refund_no="KR1", out_trade_no="KP1") is None

    fake.answer("POST", f"{path}/close", 204, None)
    gateway.close(out_trade_no="KP1")
    assert (fake.calls[-1]["method"], fake.calls[-1]["path"]) == ("POST", f"{path}/close")
    assert json.loads(fake.calls[-1]["body"]) == {"mchid": MCHID}
    assert_signed_by_merchant(env, fake.calls[-1])


def test_the_bill_is_downloaded_and_its_hash_checked(fake, env):
    bill = "交易时间,公众账号ID,商户号\n`2026-08-24 09:00:05,`wxd678efh567hg6787,`1230000109\n".encode()
    download = "https://api.mch.weixin.qq.com/v3/billdownload/file?token=6XIv5TUPto7pByrTQKhd6kwvyKLG2uY2wMMR8cNXqaA"
    answer = {"hash_type": "SHA1", "hash_value": hashlib.sha1(bill).hexdigest(), "download_url": download}
    fake.answer("GET", "/v3/bill/tradebill", 200, answer)
    fake.raw["/v3/billdownload/file?token=6XIv5TUPto7pByrTQKhd6kwvyKLG2uY2wMMR8cNXqaA"] = bill
    assert WechatGateway().download_bill(bill_date=date(2026, 8, 24)) == bill
    assert fake.calls[0]["path"] == "/v3/bill/tradebill?bill_date=2026-08-24&bill_type=ALL"
    for call in fake.calls:
        assert_signed_by_merchant(env, call)
    fake.answer("GET", "/v3/bill/tradebill", 200, {**answer, "hash_value": hashlib.sha1(b"other").hexdigest()})
    with pytest.raises(ChannelUnavailable):
        WechatGateway().download_bill(bill_date=date(2026, 8, 24))


def test_network_errors_server_errors_and_unverified_answers_are_unavailable(fake, env, monkeypatch):
    fake.answer("GET", "/v3/pay/transactions/out-trade-no/KP1", 200, transaction("KP1"))
    fake.sign_with = env.stranger
    with pytest.raises(ChannelUnavailable):
        WechatGateway().query_payment(out_trade_no="KP1")
    fake.sign_with = env.platform
    fake.answer("POST", "/v3/refund/domestic/refunds", 401, {"code": "SIGN_ERROR", "message": "签名错误"})
    with pytest.raises(ChannelUnavailable):  # our signature refused: configuration, not a failed refund
        WechatGateway().refund(out_trade_no="KP1", out_refund_no="KR1", amount_fen=1, total_fen=3000, reason="")
    fake.answer("GET", "/v3/pay/transactions/out-trade-no/KP1", 500, {"code": "SYSTEM_ERROR", "message": "x"})
    with pytest.raises(ChannelUnavailable):
        WechatGateway().query_payment(out_trade_no="KP1")

    def down(*args, **kwargs):
        raise requests.ConnectionError("no route to host")

    monkeypatch.setattr(requests.Session, "request", down)
    with pytest.raises(ChannelUnavailable):
        WechatGateway().close(out_trade_no="KP1")


def test_the_acks(env):
    assert WechatGateway().ack(ok=True).status == 204
    failed = WechatGateway().ack(ok=False)
    assert failed.status >= 400 and json.loads(failed.body)["code"] == "FAIL"


# --- end to end: through the service that receives notifications ----------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("wrong", ["amount", "merchant"])
def test_a_mismatching_notification_changes_nothing_and_alerts(simulator, env, wrong):
    seat = held_seat(price=3000)
    order = ordered(seat)
    attempt = PaymentAttempt.objects.create(
        order=order, channel="wechat", out_trade_no=new_number("KP", NOW), amount_fen=order.total_fen, created_at=NOW
    )
    data = transaction(attempt.out_trade_no, order.total_fen)
    if wrong == "amount":
        data["amount"] = {"total": order.total_fen - 1, "payer_total": order.total_fen - 1, "currency": "CNY"}
    else:
        data["mchid"] = "1900000999"
    headers, body = notification(env, data)
    received = notification_receive(channel="wechat", headers=headers, body=body, now=NOW + timedelta(seconds=2))

    assert received.ack.status == 400
    record = ChannelNotification.objects.get()
    assert (record.outcome, record.alert, record.verified) == ("rejected", True, True)
    assert record.reason == ("amount_mismatch" if wrong == "amount" else "merchant_mismatch")
    order.refresh_from_db()
    attempt.refresh_from_db()
    assert (order.status, order.paid_fen, attempt.status) == (Order.Status.PENDING, 0, "created")
    assert LedgerTransaction.objects.count() == 0

    # The right notification for the same trade then pays it.
    headers, body = notification(env, transaction(attempt.out_trade_no, order.total_fen))
    received = notification_receive(channel="wechat", headers=headers, body=body, now=NOW + timedelta(seconds=3))
    assert received.ack.status == 204 and received.record.outcome == "applied"
    order.refresh_from_db()
    assert (order.status, order.channel) == (Order.Status.PAID, "wechat")
