"""WeChat Pay API v3 (微信支付 APIv3): JSAPI and H5 orders, notifications, refunds, queries, close, trade bills.

Requests are signed ``WECHATPAY2-SHA256-RSA2048`` with the merchant's API certificate key over
``method\\npath\\ntimestamp\\nnonce\\nbody\\n`` (``wechatpayv3.utils.build_authorization``); answers and
notifications are verified with the platform's key chosen by its serial among the ones configured locally
(certificates in a directory and/or the platform public key with its id). We never fetch platform certificates
from the network (``wechatpayv3.Core`` would, on an unknown serial): an unknown serial is a rejection. Notification
resources are decrypted with the APIv3 key (AEAD_AES_256_GCM) in :mod:`.wechat_v3`.

Configuration, from the environment (keys are read from files, never logged): ``KEHOU_WECHAT_MCHID``,
``KEHOU_WECHAT_APPID``, ``KEHOU_WECHAT_CERT_SERIAL``, ``KEHOU_WECHAT_PRIVATE_KEY_FILE``,
``KEHOU_WECHAT_APIV3_KEY_FILE``, ``KEHOU_WECHAT_PLATFORM_CERT_DIR`` and/or ``KEHOU_WECHAT_PUBLIC_KEY_FILE`` with
``KEHOU_WECHAT_PUBLIC_KEY_ID``, ``KEHOU_WECHAT_NOTIFY_URL``; optional ``KEHOU_WECHAT_API_BASE`` and
``KEHOU_WECHAT_TIMEOUT``. See docs/payments.md.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

import requests
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _
from wechatpayv3.utils import build_authorization, load_certificate, load_private_key, rsa_sign, rsa_verify

from kehou.core.error_codes import ErrorCode
from kehou.core.errors import KehouError

from . import config, wechat_v3
from .base import Ack, ChannelEvent, ChannelUnavailable, NotificationRejected, PaymentStart, RefundSubmitted
from .simulator import event_from_wechat

SHANGHAI = ZoneInfo("Asia/Shanghai")
API_BASE = "https://api.mch.weixin.qq.com"
USER_AGENT = "kehou (wechatpayv3 primitives)"
# Refund answers that mean "try again later with the same out_refund_no", not "this refund failed".
RETRY_LATER = {"SYSTEM_ERROR", "FREQUENCY_LIMITED", "NOT_ENOUGH", "RATELIMIT_EXCEEDED"}


@dataclass(frozen=True)
class PlatformCertificate:
    serial: str
    public_key: Any
    not_before: datetime
    not_after: datetime


@dataclass(frozen=True)
class WechatConfig:
    mchid: str
    appid: str
    cert_serial: str  # the merchant's API certificate serial
    private_key_pem: str = field(repr=False)
    apiv3_key: str = field(repr=False)
    certificates: tuple[PlatformCertificate, ...] = ()
    public_key_pem: str = field(default="", repr=False)
    public_key_id: str = ""
    notify_url: str = ""
    api_base: str = API_BASE
    timeout: float = 10.0

    @classmethod
    def from_env(cls) -> WechatConfig:
        cert_dir = config.env("KEHOU_WECHAT_PLATFORM_CERT_DIR", required=False)
        public_key = config.read_text("KEHOU_WECHAT_PUBLIC_KEY_FILE", required=False)
        public_key_id = config.env("KEHOU_WECHAT_PUBLIC_KEY_ID", required=bool(public_key))
        certificates = load_certificate_dir(cert_dir) if cert_dir else ()
        if not certificates and not public_key:
            raise ImproperlyConfigured(
                "KEHOU_WECHAT_PLATFORM_CERT_DIR (with certificates) or KEHOU_WECHAT_PUBLIC_KEY_FILE must be set"
            )
        apiv3_key = config.read_text("KEHOU_WECHAT_APIV3_KEY_FILE")
        if len(apiv3_key.encode()) != 32:
            raise ImproperlyConfigured("the APIv3 key (KEHOU_WECHAT_APIV3_KEY_FILE) must be 32 bytes")
        return cls(
            mchid=config.env("KEHOU_WECHAT_MCHID"),
            appid=config.env("KEHOU_WECHAT_APPID"),
            cert_serial=config.env("KEHOU_WECHAT_CERT_SERIAL"),
            private_key_pem=config.read_text("KEHOU_WECHAT_PRIVATE_KEY_FILE"),
            apiv3_key=apiv3_key,
            certificates=certificates,
            public_key_pem=public_key,
            public_key_id=public_key_id,
            notify_url=config.env("KEHOU_WECHAT_NOTIFY_URL"),
            api_base=(config.env("KEHOU_WECHAT_API_BASE", required=False) or API_BASE).rstrip("/"),
            timeout=float(config.env("KEHOU_WECHAT_TIMEOUT", required=False) or 10),
        )

    def platform_keys(self, at: datetime | None = None) -> wechat_v3.PlatformKeys:
        """The platform keys by serial: the certificates valid at ``at`` (all when None) and the public key."""
        keys = wechat_v3.PlatformKeys.load(public_key=self.public_key_pem, public_key_id=self.public_key_id)
        by_serial = dict(keys.by_serial)
        for cert in self.certificates:
            if at is None or cert.not_before <= at <= cert.not_after:
                by_serial[cert.serial] = cert.public_key
        return wechat_v3.PlatformKeys(by_serial)


def load_certificate_dir(directory: str) -> tuple[PlatformCertificate, ...]:
    """The platform certificates (``*.pem``) in a directory, each by its serial number (upper-case hex)."""
    path = Path(directory)
    if not path.is_dir():
        raise ImproperlyConfigured("KEHOU_WECHAT_PLATFORM_CERT_DIR is not a directory")
    found = []
    for pem in sorted(path.glob("*.pem")):
        cert = load_certificate(pem.read_text(encoding="utf-8"))
        if cert is None:
            continue
        found.append(
            PlatformCertificate(
                serial=f"{cert.serial_number:X}",
                public_key=cert.public_key(),
                not_before=cert.not_valid_before_utc,
                not_after=cert.not_valid_after_utc,
            )
        )
    return tuple(found)


def _shanghai(value: datetime) -> str:
    return value.astimezone(SHANGHAI).isoformat(timespec="seconds")


def _when(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


class WechatGateway:
    channel = "wechat"

    def __init__(self, config: WechatConfig | None = None, session: requests.Session | None = None) -> None:
        self.config = config or WechatConfig.from_env()
        self.merchant_id = self.config.mchid
        self.session = session or requests.Session()
        self._private_key = load_private_key(self.config.private_key_pem)

    # --- the wire --------------------------------------------------------------------------------------------
    def _request(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> tuple[int, Any]:
        """Send a signed request; return (status, decoded JSON or b"" ). A 2xx answer must carry a valid platform
        signature. Network errors and 5xx/429 answers raise ChannelUnavailable."""
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":")) if body is not None else ""
        headers = {
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Authorization": build_authorization(
                path, method, self.config.mchid, self.config.cert_serial, self._private_key, data=text
            ),
        }
        if self.config.public_key_id:
            headers["Wechatpay-Serial"] = self.config.public_key_id
        try:
            response = self.session.request(
                method,
                self.config.api_base + path,
                data=text.encode("utf-8") if text else None,
                headers=headers,
                timeout=self.config.timeout,
            )
        except requests.RequestException as exc:
            raise ChannelUnavailable(f"wechat {method} {path.split('?')[0]}: {type(exc).__name__}") from None
        status = response.status_code
        if status >= 500 or status in (401, 429):  # 401: our signature refused (configuration): not final
            raise ChannelUnavailable(f"wechat {method} {path.split('?')[0]}: HTTP {status}")
        raw = response.text
        if 200 <= status < 300:
            self._verify_answer(response.headers, raw)
        if not raw:
            return status, {}
        try:
            return status, json.loads(raw)
        except ValueError:
            raise ChannelUnavailable(f"wechat {method} {path.split('?')[0]}: not JSON") from None

    def _verify_answer(self, headers: Mapping[str, str], text: str) -> None:
        serial = wechat_v3.header(headers, "Wechatpay-Serial")
        key = self.config.platform_keys().find(serial) if serial else None
        if key is None or not rsa_verify(
            wechat_v3.header(headers, "Wechatpay-Timestamp"),
            wechat_v3.header(headers, "Wechatpay-Nonce"),
            text,
            wechat_v3.header(headers, "Wechatpay-Signature"),
            key,
        ):
            raise ChannelUnavailable("wechat: the answer's signature does not verify")

    @staticmethod
    def _code(answer: Any) -> str:
        return str(answer.get("code", "")) if isinstance(answer, dict) else ""

    # --- the gateway interface -----------------------------------------------------------------------------
    def start_payment(
        self, *, out_trade_no: str, amount_fen: int, description: str, expires_at: datetime, payer_ref: str = ""
    ) -> PaymentStart:
        """``payer_ref`` says how the parent pays: ``openid:<openid>`` (inside WeChat: JSAPI) or
        ``ip:<client address>`` (a phone browser: H5, WeChat requires the payer's address)."""
        kind, _sep, ref = payer_ref.partition(":")
        if kind not in ("openid", "ip") or not ref:
            raise KehouError(
                _("WeChat Pay needs to be opened inside WeChat or from a phone browser."),
                code=ErrorCode.WECHAT_PAYER_UNKNOWN,
            )
        body: dict[str, Any] = {
            "appid": self.config.appid,
            "mchid": self.config.mchid,
            "description": description[:127],
            "out_trade_no": out_trade_no,
            "time_expire": _shanghai(expires_at),
            "notify_url": self.config.notify_url,
            "amount": {"total": amount_fen, "currency": "CNY"},
        }
        if kind == "openid":
            body["payer"] = {"openid": ref}
            status, answer = self._request("POST", "/v3/pay/transactions/jsapi", body)
            if status != 200 or "prepay_id" not in answer:
                raise ChannelUnavailable(f"wechat jsapi order: HTTP {status} {self._code(answer)}")
            return PaymentStart(kind="jsapi", params=self.jsapi_params(str(answer["prepay_id"])))
        body["scene_info"] = {"payer_client_ip": ref, "h5_info": {"type": "Wap"}}
        status, answer = self._request("POST", "/v3/pay/transactions/h5", body)
        if status != 200 or "h5_url" not in answer:
            raise ChannelUnavailable(f"wechat h5 order: HTTP {status} {self._code(answer)}")
        return PaymentStart(kind="redirect", url=str(answer["h5_url"]))

    def jsapi_params(self, prepay_id: str, *, timestamp: str = "", nonce: str = "") -> dict[str, str]:
        """What WeixinJSBridge ``getBrandWCPayRequest`` needs, signed with the merchant key over
        ``appId\\ntimeStamp\\nnonceStr\\npackage\\n``."""
        params = {
            "appId": self.config.appid,
            "timeStamp": timestamp or str(int(time.time())),
            "nonceStr": nonce or secrets.token_hex(16),
            "package": f"prepay_id={prepay_id}",
            "signType": "RSA",
        }
        message = "\n".join([params["appId"], params["timeStamp"], params["nonceStr"], params["package"]]) + "\n"
        params["paySign"] = rsa_sign(self._private_key, message)
        return params

    def parse_notification(self, *, headers: Mapping[str, str], body: bytes, now: datetime) -> ChannelEvent:
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            raise NotificationRejected("malformed", "encoding") from None
        data = wechat_v3.verify_notification(
            headers=headers,
            body=body,
            keys=self.config.platform_keys(now.astimezone(UTC)),
            apiv3_key=self.config.apiv3_key,
            now=now,
        )
        appid = data.get("appid") or data.get("sp_appid")
        if appid and appid != self.config.appid:
            raise NotificationRejected("wrong_app", str(appid)[:40])
        return event_from_wechat(data)

    def refund(
        self,
        *,
        out_trade_no: str,
        out_refund_no: str,
        amount_fen: int,
        total_fen: int,
        reason: str,
        now: datetime | None = None,
    ) -> RefundSubmitted:
        body = {
            "out_trade_no": out_trade_no,
            "out_refund_no": out_refund_no,
            "reason": reason[:80],
            "notify_url": self.config.notify_url,
            "amount": {"refund": amount_fen, "total": total_fen, "currency": "CNY"},
        }
        status, answer = self._request("POST", "/v3/refund/domestic/refunds", body)
        if status == 200:
            state = str(answer.get("status", ""))
            mapped = {"SUCCESS": "succeeded", "PROCESSING": "processing"}.get(state, "failed")
            return RefundSubmitted(
                status=mapped,
                channel_refund_id=str(answer.get("refund_id", "")),
                failure="" if mapped != "failed" else state,
            )
        code = self._code(answer)
        if code in RETRY_LATER:
            raise ChannelUnavailable(f"wechat refund: {code}")
        return RefundSubmitted(status="failed", failure=code or f"HTTP {status}")

    def query_payment(self, *, out_trade_no: str) -> ChannelEvent | None:
        path = f"/v3/pay/transactions/out-trade-no/{quote(out_trade_no, safe='')}?mchid={quote(self.config.mchid)}"
        status, answer = self._request("GET", path)
        if status == 404:
            return None
        if status != 200:
            raise ChannelUnavailable(f"wechat query: HTTP {status} {self._code(answer)}")
        state = str(answer.get("trade_state", ""))
        mapped = {"SUCCESS": "paid", "REFUND": "paid", "CLOSED": "closed", "REVOKED": "closed", "PAYERROR": "failed"}
        if state not in mapped:
            return None  # NOTPAY, USERPAYING: nothing final yet
        amount = answer.get("amount") or {}
        return ChannelEvent(
            kind="payment",
            status=mapped[state],
            out_trade_no=str(answer.get("out_trade_no", out_trade_no)),
            amount_fen=int(amount.get("total", 0)),
            merchant_id=str(answer.get("mchid", "")),
            channel_trade_no=str(answer.get("transaction_id", "")),
            occurred_at=_when(answer.get("success_time")),
            raw=answer,
        )

    def query_refund(
        self, *, out_refund_no: str, out_trade_no: str, now: datetime | None = None
    ) -> ChannelEvent | None:
        status, answer = self._request("GET", f"/v3/refund/domestic/refunds/{quote(out_refund_no, safe='')}")
        if status == 404:
            return None
        if status != 200:
            raise ChannelUnavailable(f"wechat refund query: HTTP {status} {self._code(answer)}")
        state = str(answer.get("status", ""))
        amount = answer.get("amount") or {}
        return ChannelEvent(
            kind="refund",
            status={"SUCCESS": "succeeded", "PROCESSING": "processing"}.get(state, "failed"),
            out_trade_no=str(answer.get("out_trade_no", out_trade_no)),
            out_refund_no=str(answer.get("out_refund_no", out_refund_no)),
            channel_refund_id=str(answer.get("refund_id", "")),
            amount_fen=int(amount.get("refund", 0)),
            merchant_id=self.config.mchid,
            occurred_at=_when(answer.get("success_time")),
            raw={**answer, "refund_status": state},
        )

    def close(self, *, out_trade_no: str) -> None:
        path = f"/v3/pay/transactions/out-trade-no/{quote(out_trade_no, safe='')}/close"
        status, answer = self._request("POST", path, {"mchid": self.config.mchid})
        if status not in (200, 204, 404):
            raise ChannelUnavailable(f"wechat close: HTTP {status} {self._code(answer)}")

    def download_bill(self, *, bill_date: date) -> bytes:
        """The trade bill of a day (CSV as WeChat writes it), its SHA1 checked against the one the API gave."""
        status, answer = self._request("GET", f"/v3/bill/tradebill?bill_date={bill_date:%Y-%m-%d}&bill_type=ALL")
        if status != 200 or "download_url" not in answer:
            raise ChannelUnavailable(f"wechat bill: HTTP {status} {self._code(answer)}")
        url = str(answer["download_url"])
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {
            "Accept": "*/*",
            "User-Agent": USER_AGENT,
            "Authorization": build_authorization(
                path, "GET", self.config.mchid, self.config.cert_serial, self._private_key, data=""
            ),
        }
        try:
            response = self.session.request("GET", url, headers=headers, timeout=self.config.timeout)
        except requests.RequestException as exc:
            raise ChannelUnavailable(f"wechat bill download: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise ChannelUnavailable(f"wechat bill download: HTTP {response.status_code}")
        content = response.content
        algorithm = str(answer.get("hash_type", "SHA1")).lower()
        if algorithm not in ("sha1", "sha256"):
            raise ChannelUnavailable(f"wechat bill: unknown hash {algorithm}")
        digest = hashlib.new(algorithm, content).hexdigest()
        if digest.lower() != str(answer.get("hash_value", "")).lower():
            raise ChannelUnavailable("wechat bill: the file does not match its hash")
        return content

    def ack(self, *, ok: bool) -> Ack:
        if ok:
            return Ack(204, "application/json", b"")
        return Ack(400, "application/json", json.dumps({"code": "FAIL", "message": "rejected"}).encode())
