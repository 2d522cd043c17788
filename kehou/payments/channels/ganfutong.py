"""赣服通 unified public payment (Jiangxi's provincial government-services payment platform).

Its interface specification is not public. This adapter implements the protocol on the assumptions written out
in docs/payments.md (the usual shape of Chinese government and bank payment platforms), each one configurable so
that the real specification, once the platform issues it to the operator, needs configuration or a small change
here and nothing elsewhere:

* JSON over HTTPS, one POST endpoint per operation under ``KEHOU_GANFUTONG_API_BASE`` (paths overridable);
* every request carries ``app_id``, ``mch_id``, ``timestamp`` (Beijing time ``yyyy-MM-dd HH:mm:ss``),
  ``nonce_str``, ``sign_type`` = ``RSA2`` and ``sign``: SHA256withRSA (PKCS#1 v1.5, base64) by the merchant's key
  over the canonical string — the fields except ``sign`` sorted by name, empty ones left out, ``key=value`` joined
  with ``&`` (nested values as compact JSON with sorted keys);
* answers and notifications are signed the same way by the platform's key; notifications are checked for
  ``app_id`` and for a ``timestamp`` within five minutes; ``mch_id`` is the merchant the services compare;
* amounts are integer fen (``total_fee``, ``refund_fee``); a decimal amount is malformed;
* business outcomes come as ``code`` = ``SUCCESS`` or an error code in an HTTP 200 answer.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from base64 import b64decode, b64encode
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from django.core.exceptions import ImproperlyConfigured

from . import config
from .base import (
    MAX_NOTIFICATION_AGE_SECONDS,
    Ack,
    ChannelEvent,
    ChannelUnavailable,
    NotificationRejected,
    PaymentStart,
    RefundSubmitted,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
PATHS = {
    "order": "/pay/order/create",
    "query": "/pay/order/query",
    "close": "/pay/order/close",
    "refund": "/pay/refund/apply",
    "refund_query": "/pay/refund/query",
    "bill": "/pay/bill/download",
}
RETRY_LATER = {"SYSTEM_ERROR", "SYSTEM_BUSY", "FREQUENCY_LIMITED"}
TRADE_STATUS = {"SUCCESS": "paid", "REFUND": "paid", "CLOSED": "closed", "FAIL": "failed"}
REFUND_STATUS = {"SUCCESS": "succeeded", "PROCESSING": "processing", "FAIL": "failed"}


def canonical(fields: Mapping[str, Any]) -> str:
    """The signed string: fields except ``sign`` sorted by name, empty ones left out, ``key=value&…``."""
    parts = []
    for name in sorted(fields):
        value = fields[name]
        if name == "sign" or value is None or value == "":
            continue
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, dict | list):
            text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        else:
            text = str(value)
        parts.append(f"{name}={text}")
    return "&".join(parts)


def sign(private_key: Any, fields: Mapping[str, Any]) -> str:
    return b64encode(private_key.sign(canonical(fields).encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())).decode()


def verify(public_key: Any, fields: Mapping[str, Any]) -> bool:
    try:
        signature = b64decode(str(fields.get("sign", "")), validate=True)
        public_key.verify(signature, canonical(fields).encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def _no_floats(text: str) -> Any:
    raise ValueError(f"a decimal number where fen or text is expected: {text[:20]}")


def parse_time(text: str) -> datetime:
    """``yyyy-MM-dd HH:mm:ss`` in Beijing time, or Unix seconds / milliseconds."""
    if text.isdigit():
        seconds = int(text) / 1000 if len(text) >= 13 else int(text)
        return datetime.fromtimestamp(seconds, tz=SHANGHAI)
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=SHANGHAI)


def fen(value: Any) -> int:
    """An amount in fen: an integer or a string of digits; anything else (decimals, booleans) is refused."""
    if isinstance(value, bool):
        raise ValueError("amount")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise ValueError("amount")


@dataclass(frozen=True)
class GanfutongConfig:
    api_base: str
    app_id: str
    merchant_id: str
    private_key: Any = field(repr=False)
    platform_public_key: Any = field(repr=False)
    notify_url: str
    return_url: str = ""
    paths: Mapping[str, str] = field(default_factory=lambda: dict(PATHS))
    timeout: float = 10.0

    @classmethod
    def from_env(cls) -> GanfutongConfig:
        try:
            private_key = serialization.load_pem_private_key(
                config.read_bytes("KEHOU_GANFUTONG_PRIVATE_KEY_FILE"), password=None
            )
            public_key = serialization.load_pem_public_key(
                config.read_bytes("KEHOU_GANFUTONG_PLATFORM_PUBLIC_KEY_FILE")
            )
        except (ValueError, TypeError):
            raise ImproperlyConfigured("a 赣服通 key file is not a PEM RSA key") from None
        paths = {
            name: config.env(f"KEHOU_GANFUTONG_PATH_{name.upper()}", required=False) or default
            for name, default in PATHS.items()
        }
        return cls(
            api_base=config.env("KEHOU_GANFUTONG_API_BASE").rstrip("/"),
            app_id=config.env("KEHOU_GANFUTONG_APP_ID"),
            merchant_id=config.env("KEHOU_GANFUTONG_MERCHANT_ID"),
            private_key=private_key,
            platform_public_key=public_key,
            notify_url=config.env("KEHOU_GANFUTONG_NOTIFY_URL"),
            return_url=config.env("KEHOU_GANFUTONG_RETURN_URL", required=False),
            paths=paths,
            timeout=float(config.env("KEHOU_GANFUTONG_TIMEOUT", required=False) or 10),
        )


class GanfutongGateway:
    channel = "ganfutong"

    def __init__(self, config: GanfutongConfig | None = None, session: requests.Session | None = None) -> None:
        self.config = config or GanfutongConfig.from_env()
        self.merchant_id = self.config.merchant_id
        self.session = session or requests.Session()

    # --- the wire --------------------------------------------------------------------------------------------
    def signed(self, business: Mapping[str, Any]) -> dict[str, Any]:
        """A request body: the business fields in the signed envelope."""
        body = {
            "app_id": self.config.app_id,
            "mch_id": self.config.merchant_id,
            "timestamp": datetime.now(SHANGHAI).strftime(TIME_FORMAT),
            "nonce_str": secrets.token_hex(16),
            "sign_type": "RSA2",
            **business,
        }
        body["sign"] = sign(self.config.private_key, body)
        return body

    def _call(self, operation: str, business: Mapping[str, Any]) -> dict[str, Any]:
        """POST a signed request; the verified answer (``code`` SUCCESS or an error code). Network errors, HTTP
        errors and answers that do not verify raise ChannelUnavailable."""
        url = self.config.api_base + self.config.paths[operation]
        body = json.dumps(self.signed(business), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        try:
            response = self.session.request(
                "POST",
                url,
                data=body,
                headers={"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"},
                timeout=self.config.timeout,
            )
        except requests.RequestException as exc:
            raise ChannelUnavailable(f"ganfutong {operation}: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise ChannelUnavailable(f"ganfutong {operation}: HTTP {response.status_code}")
        try:
            answer = json.loads(response.content.decode("utf-8"), parse_float=_no_floats)
        except ValueError:
            raise ChannelUnavailable(f"ganfutong {operation}: malformed answer") from None
        if not isinstance(answer, dict) or not verify(self.config.platform_public_key, answer):
            raise ChannelUnavailable(f"ganfutong {operation}: the answer's signature does not verify")
        if not answer.get("code"):
            raise ChannelUnavailable(f"ganfutong {operation}: no code")
        return answer

    # --- the gateway interface -----------------------------------------------------------------------------
    def start_payment(
        self, *, out_trade_no: str, amount_fen: int, description: str, expires_at: datetime, payer_ref: str = ""
    ) -> PaymentStart:
        """Create the order at the platform; the parent goes to its cashier page (``pay_url``), inside the
        赣服通 app or its H5 site. ``payer_ref``, when given, is the payer's 赣服通 user id."""
        business = {
            "out_trade_no": out_trade_no,
            "total_fee": amount_fen,
            "subject": description[:128],
            "expire_time": expires_at.astimezone(SHANGHAI).strftime(TIME_FORMAT),
            "notify_url": self.config.notify_url,
            "return_url": self.config.return_url,
            "payer_id": payer_ref,
        }
        answer = self._call("order", business)
        if answer["code"] != "SUCCESS" or not answer.get("pay_url"):
            raise ChannelUnavailable(f"ganfutong order: {answer['code']}")
        return PaymentStart(kind="redirect", url=str(answer["pay_url"]))

    def parse_notification(self, *, headers: Mapping[str, str], body: bytes, now: datetime) -> ChannelEvent:
        try:
            data = json.loads(body.decode("utf-8"), parse_float=_no_floats)
        except (UnicodeDecodeError, ValueError):
            raise NotificationRejected("malformed", "json") from None
        if not isinstance(data, dict):
            raise NotificationRejected("malformed", "not an object")
        if not data.get("sign"):
            raise NotificationRejected("missing_signature")
        if data.get("sign_type") != "RSA2":
            raise NotificationRejected("bad_signature_type", str(data.get("sign_type", ""))[:20])
        if not verify(self.config.platform_public_key, data):
            raise NotificationRejected("bad_signature")
        if data.get("app_id") != self.config.app_id:
            raise NotificationRejected("wrong_app", str(data.get("app_id", ""))[:40])
        try:
            sent = parse_time(str(data["timestamp"]))
        except (KeyError, ValueError, OverflowError, OSError):
            raise NotificationRejected("malformed", "timestamp") from None
        if abs((now - sent).total_seconds()) > MAX_NOTIFICATION_AGE_SECONDS:
            raise NotificationRejected("stale_timestamp", str(data["timestamp"])[:40])
        try:
            event = self._event(data)
        except (KeyError, ValueError, TypeError) as exc:
            raise NotificationRejected("malformed", type(exc).__name__) from None
        if event is None:
            raise NotificationRejected("unexpected_status", str(data.get("trade_status", ""))[:40])
        return event

    def _event(self, data: Mapping[str, Any]) -> ChannelEvent | None:
        """A notification or query answer as an event; None when it states nothing final."""
        when_text = data.get("refund_time") or data.get("pay_time") or ""
        when = parse_time(str(when_text)) if when_text else None
        if data.get("notify_type") == "REFUND" or "refund_status" in data:
            status = REFUND_STATUS.get(str(data.get("refund_status", "")))
            if status is None:
                return None
            return ChannelEvent(
                kind="refund",
                status=status,
                out_trade_no=str(data["out_trade_no"]),
                out_refund_no=str(data["out_refund_no"]),
                channel_refund_id=str(data.get("refund_no", "")),
                amount_fen=fen(data["refund_fee"]),
                merchant_id=str(data.get("mch_id", "")),
                channel_trade_no=str(data.get("trade_no", "")),
                occurred_at=when,
                raw=dict(data),
            )
        status = TRADE_STATUS.get(str(data.get("trade_status", "")))
        if status is None:
            return None  # NOTPAY, PAYING
        return ChannelEvent(
            kind="payment",
            status=status,
            out_trade_no=str(data["out_trade_no"]),
            amount_fen=fen(data["total_fee"]),
            merchant_id=str(data.get("mch_id", "")),
            channel_trade_no=str(data.get("trade_no", "")),
            occurred_at=when,
            raw=dict(data),
        )

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
        answer = self._call(
            "refund",
            {
                "out_trade_no": out_trade_no,
                "out_refund_no": out_refund_no,
                "refund_fee": amount_fen,
                "total_fee": total_fen,
                "reason": reason[:80],
                "notify_url": self.config.notify_url,
            },
        )
        code = str(answer["code"])
        if code != "SUCCESS":
            if code in RETRY_LATER:
                raise ChannelUnavailable(f"ganfutong refund: {code}")
            return RefundSubmitted(status="failed", failure=code)
        state = str(answer.get("refund_status", "PROCESSING"))
        status = REFUND_STATUS.get(state, "processing")
        return RefundSubmitted(
            status=status,
            channel_refund_id=str(answer.get("refund_no", "")),
            failure=state if status == "failed" else "",
        )

    def query_payment(self, *, out_trade_no: str) -> ChannelEvent | None:
        answer = self._call("query", {"out_trade_no": out_trade_no})
        if answer["code"] == "ORDER_NOT_EXIST":
            return None
        if answer["code"] != "SUCCESS":
            raise ChannelUnavailable(f"ganfutong query: {answer['code']}")
        try:
            return self._event({k: v for k, v in answer.items() if k != "refund_status"})
        except (KeyError, ValueError, TypeError):
            raise ChannelUnavailable("ganfutong query: malformed answer") from None

    def query_refund(
        self, *, out_refund_no: str, out_trade_no: str, now: datetime | None = None
    ) -> ChannelEvent | None:
        answer = self._call("refund_query", {"out_trade_no": out_trade_no, "out_refund_no": out_refund_no})
        if answer["code"] in ("REFUND_NOT_EXIST", "ORDER_NOT_EXIST"):
            return None
        if answer["code"] != "SUCCESS":
            raise ChannelUnavailable(f"ganfutong refund query: {answer['code']}")
        try:
            return self._event({**answer, "notify_type": "REFUND"})
        except (KeyError, ValueError, TypeError):
            raise ChannelUnavailable("ganfutong refund query: malformed answer") from None

    def close(self, *, out_trade_no: str) -> None:
        answer = self._call("close", {"out_trade_no": out_trade_no})
        if answer["code"] not in ("SUCCESS", "ORDER_NOT_EXIST", "ORDER_CLOSED"):
            raise ChannelUnavailable(f"ganfutong close: {answer['code']}")

    def download_bill(self, *, bill_date: date) -> bytes:
        """The day's reconciliation file: a download URL with the file's SHA-256, the file (CSV, UTF-8)."""
        answer = self._call("bill", {"bill_date": f"{bill_date:%Y%m%d}", "bill_type": "ALL"})
        url = str(answer.get("download_url", ""))
        if answer["code"] != "SUCCESS" or not url:
            raise ChannelUnavailable(f"ganfutong bill: {answer['code']}")
        try:
            response = self.session.request("GET", url, timeout=self.config.timeout)
        except requests.RequestException as exc:
            raise ChannelUnavailable(f"ganfutong bill download: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise ChannelUnavailable(f"ganfutong bill download: HTTP {response.status_code}")
        if str(answer.get("hash_type", "SHA256")).upper() != "SHA256":
            raise ChannelUnavailable("ganfutong bill: unknown hash")
        if hashlib.sha256(response.content).hexdigest() != str(answer.get("hash_value", "")).lower():
            raise ChannelUnavailable("ganfutong bill: the file does not match its hash")
        return response.content

    def ack(self, *, ok: bool) -> Ack:
        if ok:
            return Ack(200, "application/json", json.dumps({"code": "SUCCESS", "message": "OK"}).encode())
        return Ack(400, "application/json", json.dumps({"code": "FAIL", "message": "rejected"}).encode())
