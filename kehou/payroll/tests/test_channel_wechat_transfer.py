"""WeChat Pay merchant transfer (transfer-bills) channel: the requests the gateway signs, intercepted by a fake
session before the network and answered signed with a local "platform" key; the payee's name encrypted for that
key; every answer mapped (states, retryable and final codes, network and server errors, forged answers); and
notifications signed here, with every way one can be wrong."""

from __future__ import annotations

import json
import re
from base64 import b64decode, b64encode
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.core.exceptions import ImproperlyConfigured
from requests.structures import CaseInsensitiveDict

from kehou.payments.channels import wechat_v3
from kehou.payments.channels.wechat import PlatformCertificate, WechatConfig

from ..channels.base import (
    PayoutNotificationRejected,
    PayoutRefused,
    PayoutUnavailable,
    TransferRequest,
    TransferResult,
)
from ..channels.wechat_transfer import TransferConfig, WechatTransferGateway, WechatTransferResult

MCHID = "1230000109"
APPID = "wxd678efh567hg6787"
MERCHANT_SERIAL = "3775B6A45ACD588826D15E583A95F5DD5A1B2C3D"
PLATFORM_SERIAL = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
OLD_SERIAL = "1A2B3C4D5E6F"
PUBLIC_KEY_ID = "PUB_KEY_ID_0112345678202411290001"
APIV3_KEY = "a3b7c9d1e2f40516273849aabbccddee"  # 32 characters, made up for the tests
NOTIFY_URL = "https://kehou.example.cn/payroll/notify/wechat/"
API = "https://api.mch.weixin.qq.com"
NOW = datetime(2026, 9, 30, 10, 0, tzinfo=UTC)
OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
BILL = "PY2609300001A2B3C4"
TRANSFER_BILL_NO = "1330000071100999991182020050700019480001"
PATH = "/v3/fund-app/mch-transfer/transfer-bills"
QUERY = f"{PATH}/out-bill-no/{BILL}"


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


class Keys:
    def __init__(self) -> None:
        self.merchant = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.platform = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.old_platform = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


def certificate_config(keys: Keys, **changes: Any) -> WechatConfig:
    """The merchant's configuration in certificate mode: a valid platform certificate and an expired one."""
    current = PlatformCertificate(
        serial=PLATFORM_SERIAL,
        public_key=keys.platform.public_key(),
        not_before=datetime(2025, 1, 1, tzinfo=UTC),
        not_after=datetime(2030, 1, 1, tzinfo=UTC),
    )
    expired = PlatformCertificate(
        serial=OLD_SERIAL,
        public_key=keys.old_platform.public_key(),
        not_before=datetime(2020, 1, 1, tzinfo=UTC),
        not_after=datetime(2025, 1, 1, tzinfo=UTC),
    )
    config = WechatConfig(
        mchid=MCHID,
        appid=APPID,
        cert_serial=MERCHANT_SERIAL,
        private_key_pem=_pem(keys.merchant),
        apiv3_key=APIV3_KEY,
        certificates=(current, expired),
    )
    return replace(config, **changes)


def public_key_config(keys: Keys) -> WechatConfig:
    """The merchant's configuration in platform public key mode (no certificates)."""
    return certificate_config(
        keys, certificates=(), public_key_pem=_public_pem(keys.platform), public_key_id=PUBLIC_KEY_ID
    )


class FakeWechat(requests.Session):
    """Stands in for api.mch.weixin.qq.com: records each request and answers signed with the platform key."""

    def __init__(self, keys: Keys) -> None:
        super().__init__()
        self.keys = keys
        self.calls: list[dict[str, Any]] = []
        self.answers: dict[tuple[str, str], tuple[int, Any]] = {}
        self.sign_with: rsa.RSAPrivateKey | None = keys.platform
        self.serial = PLATFORM_SERIAL
        self.error: Exception | None = None
        self.raw_text: str | None = None

    def answer(self, method: str, path: str, status: int, body: Any = None) -> None:
        self.answers[(method, path)] = (status, body)

    def request(  # type: ignore[override]
        self, method: str, url: str, data: bytes | None = None, headers: Any = None, **kwargs: Any
    ) -> requests.Response:
        assert url.startswith(API + "/"), url
        path = url[len(API) :]
        self.calls.append(
            {"method": method, "path": path, "body": (data or b"").decode(), "headers": dict(headers or {}), **kwargs}
        )
        if self.error is not None:
            raise self.error
        status, answer = self.answers.get((method, path), (404, {"code": "NOT_FOUND", "message": "记录不存在"}))
        text = self.raw_text if self.raw_text is not None else "" if answer is None else json.dumps(answer)
        response = requests.Response()
        response.url = url
        response.status_code, response._content, response.encoding = status, text.encode(), "utf-8"
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json"})
        if self.sign_with is not None:
            timestamp, nonce = str(int(datetime.now(UTC).timestamp())), "5K8264ILTKCH16CQ2502SI8ZNMTM67VS"
            signature = self.sign_with.sign(
                f"{timestamp}\n{nonce}\n{text}\n".encode(), padding.PKCS1v15(), hashes.SHA256()
            )
            response.headers.update(
                {
                    "Wechatpay-Serial": self.serial,
                    "Wechatpay-Timestamp": timestamp,
                    "Wechatpay-Nonce": nonce,
                    "Wechatpay-Signature": b64encode(signature).decode(),
                }
            )
        return response


@pytest.fixture
def fake(keys: Keys) -> FakeWechat:
    return FakeWechat(keys)


def gateway(
    keys: Keys, fake: FakeWechat | None = None, config: WechatConfig | None = None, **transfer: Any
) -> WechatTransferGateway:
    return WechatTransferGateway(
        config or certificate_config(keys),
        fake or FakeWechat(keys),
        transfer_config=TransferConfig(**{"notify_url": NOTIFY_URL, **transfer}),
    )


def pay(amount_fen: int = 12_000, user_name: str = "张三", **changes: Any) -> TransferRequest:
    return TransferRequest(
        **{
            "out_bill_no": BILL,
            "openid": OPENID,
            "user_name": user_name,
            "amount_fen": amount_fen,
            "remark": "2026年9月课后服务课时费",
            **changes,
        }
    )


def bill(state: str = "ACCEPTED", **extra: Any) -> dict[str, Any]:
    return {
        "out_bill_no": BILL,
        "transfer_bill_no": TRANSFER_BILL_NO,
        "create_time": "2026-09-30T18:00:01+08:00",
        "state": state,
        **extra,
    }


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


def decrypt(key: rsa.RSAPrivateKey, ciphertext: str) -> str:
    oaep = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
    return key.decrypt(b64decode(ciphertext), oaep).decode()


# --- the transfer request ---------------------------------------------------------------------------------------


def test_a_transfer_is_posted_signed_with_the_scene_report_and_the_name_encrypted(keys, fake):
    fake.answer("POST", PATH, 200, bill("ACCEPTED"))
    result = gateway(keys, fake).transfer(pay(12_000), now=NOW)

    [call] = fake.calls
    assert (call["method"], call["path"]) == ("POST", PATH)
    assert call["timeout"] == 10.0
    body = json.loads(call["body"])
    name = body.pop("user_name")
    assert body == {
        "appid": APPID,
        "out_bill_no": BILL,
        "transfer_scene_id": "1005",
        "openid": OPENID,
        "transfer_amount": 12_000,
        "transfer_remark": "2026年9月课后服务课时费",
        "notify_url": NOTIFY_URL,
        "transfer_scene_report_infos": [
            {"info_type": "岗位类型", "info_content": "课后服务教师"},
            {"info_type": "报酬说明", "info_content": "2026年9月课后服务课时费"},
        ],
    }
    assert isinstance(body["transfer_amount"], int)
    assert "张三" not in call["body"]
    assert decrypt(keys.platform, name) == "张三"
    # The name is encrypted for the valid certificate (not the expired one), and the request says which.
    assert call["headers"]["Wechatpay-Serial"] == PLATFORM_SERIAL
    assert call["headers"]["Content-Type"] == "application/json"
    assert_signed_by_merchant(keys, call)

    assert isinstance(result, WechatTransferResult)
    assert (result.out_bill_no, result.state, result.transfer_bill_no) == (BILL, "accepted", TRANSFER_BILL_NO)
    assert result.at == datetime(2026, 9, 30, 10, 0, 1, tzinfo=UTC)
    assert not result.final


def test_in_public_key_mode_the_name_is_encrypted_for_the_public_key_and_named_by_its_id(keys, fake):
    fake.serial = PUBLIC_KEY_ID
    fake.answer("POST", PATH, 200, bill("PROCESSING"))
    assert gateway(keys, fake, public_key_config(keys)).transfer(pay(), now=NOW).state == "processing"
    [call] = fake.calls
    assert call["headers"]["Wechatpay-Serial"] == PUBLIC_KEY_ID
    assert decrypt(keys.platform, json.loads(call["body"])["user_name"]) == "张三"
    assert_signed_by_merchant(keys, call)


def test_the_name_is_sent_from_30_fen_on_and_required_from_2000_yuan_on(keys, fake):
    fake.answer("POST", PATH, 200, bill())
    gw = gateway(keys, fake)
    gw.transfer(pay(29), now=NOW)
    assert "user_name" not in json.loads(fake.calls[-1]["body"])
    assert "Wechatpay-Serial" not in fake.calls[-1]["headers"]  # nothing encrypted, no public key id configured
    gw.transfer(pay(30), now=NOW)
    assert decrypt(keys.platform, json.loads(fake.calls[-1]["body"])["user_name"]) == "张三"
    gw.transfer(pay(199_999, user_name=""), now=NOW)
    assert "user_name" not in json.loads(fake.calls[-1]["body"])
    gw.transfer(pay(200_000, user_name=" 李四 "), now=NOW)
    assert decrypt(keys.platform, json.loads(fake.calls[-1]["body"])["user_name"]) == "李四"
    calls = len(fake.calls)
    with pytest.raises(ValueError, match="name"):
        gw.transfer(pay(200_000, user_name=" "), now=NOW)
    assert len(fake.calls) == calls


def test_without_a_notify_url_none_is_sent(keys, fake):
    fake.answer("POST", PATH, 200, bill())
    gateway(keys, fake, notify_url="").transfer(pay(), now=NOW)
    assert "notify_url" not in json.loads(fake.calls[0]["body"])


def test_no_valid_platform_key_to_encrypt_the_name_is_unavailable(keys, fake):
    expired_only = certificate_config(keys)
    expired_only = replace(expired_only, certificates=expired_only.certificates[1:])
    with pytest.raises(PayoutUnavailable):
        gateway(keys, fake, expired_only).transfer(pay(), now=NOW)
    assert fake.calls == []


@pytest.mark.parametrize(
    "changes",
    [
        {"out_bill_no": "PY01"},  # too short
        {"out_bill_no": "P" * 33},  # too long
        {"out_bill_no": "PY-2609-0001"},  # not letters and digits
        {"out_bill_no": "PY２６０９３０"},  # fullwidth digits
        {"amount_fen": 0},
        {"amount_fen": -100},
        {"amount_fen": True},
        {"amount_fen": 12.5},
        {"openid": ""},
        {"remark": ""},
        {"remark": "课" * 33},
    ],
)
def test_bad_requests_are_refused_before_sending(keys, fake, changes):
    with pytest.raises(ValueError):
        gateway(keys, fake).transfer(pay(**changes), now=NOW)
    assert fake.calls == []


# --- its answers --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "final", "succeeded"),
    [
        ("ACCEPTED", False, False),
        ("PROCESSING", False, False),
        ("WAIT_USER_CONFIRM", False, False),
        ("TRANSFERING", False, False),
        ("SUCCESS", True, True),
        ("FAIL", True, False),
        ("CANCELING", False, False),
        ("CANCELLED", True, False),
    ],
)
def test_each_state_is_lower_cased(keys, fake, state, final, succeeded):
    extra = {"fail_reason": "PAYEE_ACCOUNT_ABNORMAL"} if state == "FAIL" else {}
    if state == "WAIT_USER_CONFIRM":
        extra = {"package_info": "affffddafdfafddffda=="}
    fake.answer("POST", PATH, 200, bill(state, **extra))
    result = gateway(keys, fake).transfer(pay(), now=NOW)
    assert (result.state, result.final, result.succeeded) == (state.lower(), final, succeeded)
    assert result.fail_reason == ("PAYEE_ACCOUNT_ABNORMAL" if state == "FAIL" else "")
    assert result.package_info == ("affffddafdfafddffda==" if state == "WAIT_USER_CONFIRM" else "")


def test_an_unknown_state_or_an_answer_for_another_bill_is_unavailable(keys, fake):
    fake.answer("POST", PATH, 200, bill("PENDING"))
    with pytest.raises(PayoutUnavailable):
        gateway(keys, fake).transfer(pay(), now=NOW)
    fake.answer("POST", PATH, 200, {**bill(), "out_bill_no": "PY2609300009ZZZZZZ"})
    with pytest.raises(PayoutUnavailable):
        gateway(keys, fake).transfer(pay(), now=NOW)


def test_sending_again_under_the_same_number_gets_the_existing_bill(keys, fake):
    fake.answer("POST", PATH, 200, bill("SUCCESS", update_time="2026-09-30T18:00:09+08:00"))
    gw = gateway(keys, fake)
    first = gw.transfer(pay(), now=NOW)
    again = gw.transfer(pay(), now=NOW + timedelta(minutes=5))
    assert first == again and first.succeeded
    assert first.at == datetime(2026, 9, 30, 10, 0, 9, tzinfo=UTC)
    bodies = [json.loads(call["body"]) for call in fake.calls]
    names = [body.pop("user_name") for body in bodies]
    assert bodies[0] == bodies[1]  # the same parameters; only the (randomised) name ciphertext differs
    assert [decrypt(keys.platform, name) for name in names] == ["张三", "张三"]


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (500, "SYSTEM_ERROR"),
        (400, "SYSTEM_ERROR"),
        (403, "FREQUENCY_LIMITED"),
        (403, "NOT_ENOUGH"),
        (429, "RATELIMIT_EXCEEDED"),
        (400, "RATELIMIT_EXCEEDED"),
    ],
)
def test_retryable_codes_are_unavailable(keys, fake, status, code):
    fake.answer("POST", PATH, status, {"code": code, "message": "稍后重试"})
    with pytest.raises(PayoutUnavailable):
        gateway(keys, fake).transfer(pay(), now=NOW)


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "PARAM_ERROR"),
        (400, "INVALID_REQUEST"),
        (403, "NO_AUTH"),
        (400, "OPENID_MISMATCH"),
        (400, "NAME_MISMATCH"),
        (403, "ACCOUNT_ERROR"),
    ],
)
def test_final_codes_are_refusals_with_the_code(keys, fake, status, code):
    fake.answer("POST", PATH, status, {"code": code, "message": "参数错误"})
    with pytest.raises(PayoutRefused) as info:
        gateway(keys, fake).transfer(pay(), now=NOW)
    assert (info.value.code, info.value.message) == (code, "参数错误")


def test_network_errors_server_errors_and_odd_answers_are_unavailable(keys, fake):
    gw = gateway(keys, fake)
    for status in (500, 502, 503, 401, 429):
        fake.answer("POST", PATH, status, {"code": "SIGN_ERROR" if status == 401 else "SYSTEM_ERROR", "message": ""})
        with pytest.raises(PayoutUnavailable):
            gw.transfer(pay(), now=NOW)
    fake.answer("POST", PATH, 400, {"message": "no code"})
    with pytest.raises(PayoutUnavailable):
        gw.transfer(pay(), now=NOW)
    fake.answer("POST", PATH, 400, None)
    with pytest.raises(PayoutUnavailable):
        gw.transfer(pay(), now=NOW)
    fake.answer("POST", PATH, 200, bill())
    fake.raw_text = "<html>gateway</html>"
    with pytest.raises(PayoutUnavailable):
        gw.transfer(pay(), now=NOW)
    fake.raw_text = "[]"
    with pytest.raises(PayoutUnavailable):
        gw.transfer(pay(), now=NOW)
    fake.raw_text = None
    for error in (requests.ConnectionError("no route to host"), requests.Timeout("read timed out")):
        fake.error = error
        with pytest.raises(PayoutUnavailable):
            gw.transfer(pay(), now=NOW)


def test_an_answer_whose_signature_does_not_verify_is_unavailable(keys, fake):
    fake.answer("POST", PATH, 200, bill("SUCCESS"))
    fake.answer("GET", QUERY, 200, bill("SUCCESS"))
    gw = gateway(keys, fake)
    fake.sign_with = keys.stranger  # the right serial, the wrong key
    with pytest.raises(PayoutUnavailable, match="signature"):
        gw.transfer(pay(), now=NOW)
    with pytest.raises(PayoutUnavailable, match="signature"):
        gw.query(out_bill_no=BILL)
    fake.sign_with, fake.serial = keys.old_platform, "7132D72A03E93CDDF8C03BBD1F37EEDF3A8B4C5D"  # unknown serial
    with pytest.raises(PayoutUnavailable, match="signature"):
        gw.transfer(pay(), now=NOW)
    fake.sign_with = None  # not signed at all
    with pytest.raises(PayoutUnavailable, match="signature"):
        gw.transfer(pay(), now=NOW)


# --- the query ----------------------------------------------------------------------------------------------------


def test_a_query_finds_the_bill_or_none(keys, fake):
    gw = gateway(keys, fake)
    record = bill(
        "FAIL",
        fail_reason="PAYEE_ACCOUNT_ABNORMAL",
        update_time="2026-09-30T18:05:00+08:00",
        mch_id=MCHID,
        transfer_amount=12_000,
        openid=OPENID,
        transfer_remark="2026年9月课后服务课时费",
    )
    fake.answer("GET", QUERY, 200, record)
    result = gw.query(out_bill_no=BILL)
    assert result is not None
    assert (result.state, result.failed, result.fail_reason) == ("fail", True, "PAYEE_ACCOUNT_ABNORMAL")
    assert result.transfer_bill_no == TRANSFER_BILL_NO
    assert result.at == datetime(2026, 9, 30, 10, 5, tzinfo=UTC)
    call = fake.calls[-1]
    assert (call["method"], call["path"], call["body"]) == ("GET", QUERY, "")
    assert_signed_by_merchant(keys, call)

    fake.answer("GET", QUERY, 404, {"code": "NOT_FOUND", "message": "记录不存在"})
    assert gw.query(out_bill_no=BILL) is None
    for status, code in ((404, "PARAM_ERROR"), (400, "PARAM_ERROR"), (403, "NO_AUTH"), (500, "SYSTEM_ERROR")):
        fake.answer("GET", QUERY, status, {"code": code, "message": "x"})
        with pytest.raises(PayoutUnavailable):
            gw.query(out_bill_no=BILL)
    fake.answer("GET", QUERY, 200, {**record, "out_bill_no": "PY2609300009ZZZZZZ"})
    with pytest.raises(PayoutUnavailable):
        gw.query(out_bill_no=BILL)
    fake.error = requests.ConnectionError("down")
    with pytest.raises(PayoutUnavailable):
        gw.query(out_bill_no=BILL)
    with pytest.raises(ValueError):
        gw.query(out_bill_no="../../v3/pay")


# --- notifications -------------------------------------------------------------------------------------------------


def finished(state: str = "SUCCESS", **extra: Any) -> dict[str, Any]:
    return {
        "out_bill_no": BILL,
        "transfer_bill_no": TRANSFER_BILL_NO,
        "state": state,
        "mch_id": MCHID,
        "transfer_amount": 12_000,
        "openid": OPENID,
        "create_time": "2026-09-30T18:00:01+08:00",
        "update_time": "2026-09-30T18:00:09.120+08:00",
        **extra,
    }


def notification(
    keys: Keys,
    data: dict[str, Any] | None = None,
    *,
    at: datetime = NOW,
    event_type: str = "MCHTRANSFER.BILL.FINISHED",
    signer: rsa.RSAPrivateKey | None = None,
    serial: str = PLATFORM_SERIAL,
    apiv3_key: str = APIV3_KEY,
) -> tuple[dict[str, str], bytes]:
    return wechat_v3.sign_notification(
        data=data if data is not None else finished(),
        event_type=event_type,
        platform_private_key=signer or keys.platform,
        serial=serial,
        apiv3_key=apiv3_key,
        now=at,
        associated_data="mch_payment",
    )


def resign(keys: Keys, headers: dict[str, str], body: bytes) -> dict[str, str]:
    """Sign a (changed) body properly: what an attacker without the key cannot do; used to reach later checks."""
    message = f"{headers['Wechatpay-Timestamp']}\n{headers['Wechatpay-Nonce']}\n{body.decode()}\n".encode()
    return {
        **headers,
        "Wechatpay-Signature": b64encode(keys.platform.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode(),
    }


def rejected(gw: WechatTransferGateway, headers: dict[str, str], body: bytes, now: datetime = NOW) -> str:
    with pytest.raises(PayoutNotificationRejected) as info:
        gw.parse_notification(headers=headers, body=body, now=now)
    return info.value.reason


def test_a_signed_notification_verifies_and_becomes_a_transfer_result(keys):
    headers, body = notification(keys)
    result = gateway(keys).parse_notification(headers=headers, body=body, now=NOW + timedelta(seconds=3))
    assert result == TransferResult(
        out_bill_no=BILL,
        state="success",
        transfer_bill_no=TRANSFER_BILL_NO,
        at=datetime(2026, 9, 30, 10, 0, 9, 120_000, tzinfo=UTC),
    )
    assert result.succeeded

    headers, body = notification(keys, finished("FAIL", fail_reason="PAYEE_ACCOUNT_ABNORMAL"))
    result = gateway(keys).parse_notification(headers=headers, body=body, now=NOW)
    assert (result.state, result.failed, result.fail_reason) == ("fail", True, "PAYEE_ACCOUNT_ABNORMAL")


def test_a_notification_in_a_state_not_final_is_returned_as_given(keys):
    headers, body = notification(keys, finished("ACCEPTED"))
    result = gateway(keys).parse_notification(headers=headers, body=body, now=NOW)
    assert (result.state, result.final) == ("accepted", False)


def test_public_key_mode_and_djangos_meta_headers(keys):
    gw = gateway(keys, config=public_key_config(keys))
    headers, body = notification(keys, serial=PUBLIC_KEY_ID)
    meta = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
    assert gw.parse_notification(headers=meta, body=body, now=NOW).state == "success"
    headers, body = notification(keys)  # a certificate serial, unknown in public-key mode
    assert rejected(gw, headers, body) == "unknown_serial"


def test_the_same_notification_twice_gives_the_same_result(keys):
    gw = gateway(keys)
    headers, body = notification(keys)
    first = gw.parse_notification(headers=headers, body=body, now=NOW)
    again = gw.parse_notification(headers=headers, body=body, now=NOW + timedelta(seconds=15))
    assert first == again


def test_a_forged_or_tampered_notification_is_rejected(keys):
    gw = gateway(keys)
    headers, body = notification(keys, signer=keys.stranger)  # the right serial, the wrong key
    assert rejected(gw, headers, body) == "bad_signature"
    headers, body = notification(keys)
    envelope = json.loads(body)
    envelope["summary"] = "转账成功"
    assert rejected(gw, headers, json.dumps(envelope, ensure_ascii=False).encode()) == "bad_signature"
    assert rejected(gw, {**headers, "Wechatpay-Signature": "bm90IGEgc2lnbmF0dXJl"}, body) == "bad_signature"
    # A ciphertext changed (and the envelope signed again) no longer decrypts.
    envelope = json.loads(body)
    raw = bytearray(b64decode(envelope["resource"]["ciphertext"]))
    raw[3] ^= 0x01
    envelope["resource"]["ciphertext"] = b64encode(bytes(raw)).decode()
    tampered = json.dumps(envelope, ensure_ascii=False).encode()
    assert rejected(gw, headers, tampered) == "bad_signature"
    assert rejected(gw, resign(keys, headers, tampered), tampered) == "undecryptable"
    headers, body = notification(keys, apiv3_key="ffffffffffffffffffffffffffffffff")
    assert rejected(gw, headers, body) == "undecryptable"


def test_an_unknown_or_expired_serial_is_rejected_without_fetching(keys, fake):
    gw = gateway(keys, fake)
    headers, body = notification(keys, serial="7132D72A03E93CDDF8C03BBD1F37EEDF3A8B4C5D")
    assert rejected(gw, headers, body) == "unknown_serial"
    headers, body = notification(keys, signer=keys.old_platform, serial=OLD_SERIAL)
    assert rejected(gw, headers, body) == "unknown_serial"
    assert fake.calls == []


def test_a_stale_or_future_timestamp_is_rejected(keys):
    gw = gateway(keys)
    for offset in (-301, 301, 86_400):
        headers, body = notification(keys, at=NOW + timedelta(seconds=offset))
        assert rejected(gw, headers, body) == "stale_timestamp"
    for offset in (-300, 300):
        headers, body = notification(keys, at=NOW + timedelta(seconds=offset))
        assert gw.parse_notification(headers=headers, body=body, now=NOW).state == "success"


def test_another_event_type_is_rejected(keys):
    for event_type in ("TRANSACTION.SUCCESS", "MCHTRANSFER.BATCH.FINISHED", ""):
        headers, body = notification(keys, event_type=event_type)
        assert rejected(gateway(keys), headers, body) == "unexpected_event"


def test_missing_headers_and_malformed_resources_are_rejected(keys):
    gw = gateway(keys)
    headers, body = notification(keys)
    for name in ("Wechatpay-Serial", "Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Signature"):
        assert rejected(gw, {k: v for k, v in headers.items() if k != name}, body) == "missing_signature_headers"
    for bad in (b"{not json", b'{"event_type":"MCHTRANSFER.BILL.FINISHED"}'):
        assert rejected(gw, resign(keys, headers, bad), bad) == "malformed"
    assert rejected(gw, headers, b"\xff\xfe") == "malformed"
    for data in (
        {k: v for k, v in finished().items() if k != "out_bill_no"},
        {k: v for k, v in finished().items() if k != "state"},
        finished(out_bill_no=""),
        finished(state=None),
        finished(state="DONE"),
    ):
        headers, body = notification(keys, data)
        assert rejected(gw, headers, body) == "malformed"


def test_a_notification_for_another_merchant_is_rejected(keys):
    headers, body = notification(keys, finished(mch_id="1900000999"))
    assert rejected(gateway(keys), headers, body) == "wrong_merchant"
    data = finished()
    del data["mch_id"]
    headers, body = notification(keys, {**data, "mchid": "1900000999"})
    assert rejected(gateway(keys), headers, body) == "wrong_merchant"
    headers, body = notification(keys, {**data, "mchid": MCHID})
    assert gateway(keys).parse_notification(headers=headers, body=body, now=NOW).state == "success"


def test_the_acks(keys):
    ok = gateway(keys).ack(ok=True)
    assert 200 <= ok.status < 300
    failed = gateway(keys).ack(ok=False)
    assert failed.status >= 400 and failed.content_type == "application/json"
    assert json.loads(failed.body)["code"] == "FAIL"


# --- configuration ------------------------------------------------------------------------------------------------


def test_the_transfer_configuration_from_the_environment(monkeypatch):
    monkeypatch.delenv("KEHOU_WECHAT_TRANSFER_SCENE_ID", raising=False)
    monkeypatch.delenv("KEHOU_WECHAT_TRANSFER_NOTIFY_URL", raising=False)
    assert TransferConfig.from_env() == TransferConfig(scene_id="1005", notify_url="")
    monkeypatch.setenv("KEHOU_WECHAT_TRANSFER_SCENE_ID", " 1005 ")
    monkeypatch.setenv("KEHOU_WECHAT_TRANSFER_NOTIFY_URL", NOTIFY_URL)
    assert TransferConfig.from_env() == TransferConfig(scene_id="1005", notify_url=NOTIFY_URL)
    monkeypatch.setenv("KEHOU_WECHAT_TRANSFER_SCENE_ID", "1000")  # a scene whose report items we do not fill
    with pytest.raises(ImproperlyConfigured):
        TransferConfig.from_env()
    monkeypatch.setenv("KEHOU_WECHAT_TRANSFER_SCENE_ID", "1005")
    monkeypatch.setenv("KEHOU_WECHAT_TRANSFER_NOTIFY_URL", "http://kehou.example.cn/payroll/notify/wechat/")
    with pytest.raises(ImproperlyConfigured):
        TransferConfig.from_env()


def test_the_gateway_reads_the_transfer_configuration_from_the_environment(keys, fake, monkeypatch):
    monkeypatch.delenv("KEHOU_WECHAT_TRANSFER_SCENE_ID", raising=False)
    monkeypatch.setenv("KEHOU_WECHAT_TRANSFER_NOTIFY_URL", NOTIFY_URL)
    gw = WechatTransferGateway(certificate_config(keys), fake)
    assert gw.channel == "wechat" and gw.merchant_id == MCHID
    fake.answer("POST", PATH, 200, bill())
    gw.transfer(pay(), now=NOW)
    body = json.loads(fake.calls[0]["body"])
    assert (body["transfer_scene_id"], body["notify_url"]) == ("1005", NOTIFY_URL)
