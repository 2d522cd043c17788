"""Alipay (支付宝) open platform, RSA2: phone-browser (WAP) pay, async notifications, refunds, queries, close, bills.

Requests are built and signed by ``python-alipay-sdk`` (RSA2 = SHA256withRSA over the sorted ``key=value&…`` of
all parameters except ``sign``) and sent as a form POST to the gateway through ``requests`` (so that a network
failure is a :class:`ChannelUnavailable`); answers are verified with the Alipay public key by the SDK. The async
notification is a form POST verified here: RSA2 over the sorted non-empty parameters except ``sign`` and
``sign_type``, our ``app_id``, ``notify_time`` within five minutes, ``seller_id`` as the merchant.

Configuration, from the environment (keys from files, never logged): ``KEHOU_ALIPAY_APPID``,
``KEHOU_ALIPAY_PID`` (the seller's 2088… partner id), ``KEHOU_ALIPAY_PRIVATE_KEY_FILE`` (the application's
private key), ``KEHOU_ALIPAY_PUBLIC_KEY_FILE`` (Alipay's public key), ``KEHOU_ALIPAY_NOTIFY_URL``,
``KEHOU_ALIPAY_GATEWAY`` (``production``, ``sandbox`` or a URL); optional ``KEHOU_ALIPAY_RETURN_URL``,
``KEHOU_ALIPAY_QUIT_URL``, ``KEHOU_ALIPAY_TIMEOUT``. See docs/payments.md.
"""

from __future__ import annotations

import binascii
import contextlib
import io
import zipfile
from base64 import b64decode
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import requests
from alipay import AliPay
from alipay.exceptions import AliPayException, AliPayValidationError
from django.core.exceptions import ImproperlyConfigured

from kehou.core.money import fen_to_yuan_str, yuan_str_to_fen

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
GATEWAYS = {
    "production": "https://openapi.alipay.com/gateway.do",
    "sandbox": "https://openapi-sandbox.dl.alipaydev.com/gateway.do",
}
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# Refund answers that mean "try again later with the same out_request_no", not "this refund failed".
RETRY_LATER = {"ACQ.SYSTEM_ERROR", "ACQ.SELLER_BALANCE_NOT_ENOUGH", "aop.ACQ.SYSTEM_ERROR"}
PAID = {"TRADE_SUCCESS": "paid", "TRADE_FINISHED": "paid", "TRADE_CLOSED": "closed"}


def key_material(text: str) -> str | bytes:
    """A key as PEM, or as the bare base64 Alipay's key tool prints (then DER, PKCS#1 or PKCS#8)."""
    if "-----BEGIN" in text:
        return text
    try:
        return b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ImproperlyConfigured("an Alipay key file is neither PEM nor base64") from None


@dataclass(frozen=True)
class AlipayConfig:
    appid: str
    pid: str
    private_key: str | bytes = field(repr=False)
    alipay_public_key: str | bytes = field(repr=False)
    notify_url: str
    gateway: str = GATEWAYS["production"]
    return_url: str = ""
    quit_url: str = ""
    timeout: float = 15.0

    @classmethod
    def from_env(cls) -> AlipayConfig:
        gateway = config.env("KEHOU_ALIPAY_GATEWAY", required=False) or "production"
        return cls(
            appid=config.env("KEHOU_ALIPAY_APPID"),
            pid=config.env("KEHOU_ALIPAY_PID"),
            private_key=key_material(config.read_text("KEHOU_ALIPAY_PRIVATE_KEY_FILE")),
            alipay_public_key=key_material(config.read_text("KEHOU_ALIPAY_PUBLIC_KEY_FILE")),
            notify_url=config.env("KEHOU_ALIPAY_NOTIFY_URL"),
            gateway=GATEWAYS.get(gateway, gateway),
            return_url=config.env("KEHOU_ALIPAY_RETURN_URL", required=False),
            quit_url=config.env("KEHOU_ALIPAY_QUIT_URL", required=False),
            timeout=float(config.env("KEHOU_ALIPAY_TIMEOUT", required=False) or 15),
        )


def _local(text: str) -> datetime:
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=SHANGHAI)


class AlipayGateway:
    channel = "alipay"

    def __init__(self, config: AlipayConfig | None = None, session: requests.Session | None = None) -> None:
        self.config = config or AlipayConfig.from_env()
        self.merchant_id = self.config.pid
        self.session = session or requests.Session()
        try:
            self.client = AliPay(
                appid=self.config.appid,
                app_notify_url=self.config.notify_url,
                app_private_key_string=self.config.private_key,
                alipay_public_key_string=self.config.alipay_public_key,
                sign_type="RSA2",
            )
        except (ValueError, IndexError, TypeError):
            raise ImproperlyConfigured("an Alipay key cannot be loaded") from None
        self.client._gateway = self.config.gateway

    # --- the wire --------------------------------------------------------------------------------------------
    def _signed(self, method: str, biz_content: Mapping[str, Any], **extra: str) -> str:
        """The signed, URL-encoded parameter string of a call (timestamp in Beijing time, as Alipay expects)."""
        data = self.client.build_body(
            method, dict(biz_content), timestamp=datetime.now(SHANGHAI).strftime(TIME_FORMAT), **extra
        )
        return str(self.client.sign_data(data))

    def _call(self, method: str, biz_content: Mapping[str, Any]) -> dict[str, Any]:
        """Call an API and return its verified answer (``code`` 10000 success, 40004 a business refusal the
        caller reads by ``sub_code``); anything else raises ChannelUnavailable."""
        try:
            response = self.session.request(
                "POST",
                f"{self.config.gateway}?charset=utf-8",  # the gateway reads the charset before the body
                data=self._signed(method, biz_content).encode("utf-8"),
                headers={"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"},
                timeout=self.config.timeout,
            )
        except requests.RequestException as exc:
            raise ChannelUnavailable(f"alipay {method}: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise ChannelUnavailable(f"alipay {method}: HTTP {response.status_code}")
        response_type = method.replace(".", "_") + "_response"
        try:
            answer = self.client._verify_and_return_sync_response(response.content.decode("utf-8"), response_type)
        except AliPayValidationError:
            raise ChannelUnavailable(f"alipay {method}: the answer's signature does not verify") from None
        except AliPayException as exc:
            raise ChannelUnavailable(f"alipay {method}: error {exc.code}") from None
        except (ValueError, KeyError, AttributeError, TypeError):
            raise ChannelUnavailable(f"alipay {method}: malformed answer") from None
        if not isinstance(answer, dict):
            raise ChannelUnavailable(f"alipay {method}: malformed answer")
        code = str(answer.get("code", ""))
        if code not in ("10000", "40004"):
            raise ChannelUnavailable(f"alipay {method}: {code} {answer.get('sub_code', '')}")
        return answer

    # --- the gateway interface -----------------------------------------------------------------------------
    def start_payment(
        self, *, out_trade_no: str, amount_fen: int, description: str, expires_at: datetime, payer_ref: str = ""
    ) -> PaymentStart:
        """The phone-browser cashier (alipay.trade.wap.pay): a signed URL the parent is sent to."""
        biz = {
            "subject": description[:256],
            "out_trade_no": out_trade_no,
            "total_amount": fen_to_yuan_str(amount_fen),
            "product_code": "QUICK_WAP_PAY",
            "time_expire": expires_at.astimezone(SHANGHAI).strftime(TIME_FORMAT),
        }
        if self.config.quit_url:
            biz["quit_url"] = self.config.quit_url
        extra = {"notify_url": self.config.notify_url}
        if self.config.return_url:
            extra["return_url"] = self.config.return_url
        return PaymentStart(
            kind="redirect", url=f"{self.config.gateway}?{self._signed('alipay.trade.wap.pay', biz, **extra)}"
        )

    def parse_notification(self, *, headers: Mapping[str, str], body: bytes, now: datetime) -> ChannelEvent:
        params = self._verified_form(body)
        if params.get("app_id") != self.config.appid:
            raise NotificationRejected("wrong_app", params.get("app_id", "")[:40])
        try:
            sent = _local(params["notify_time"])
        except (KeyError, ValueError):
            raise NotificationRejected("malformed", "notify_time") from None
        if abs((now - sent).total_seconds()) > MAX_NOTIFICATION_AGE_SECONDS:
            raise NotificationRejected("stale_timestamp", params["notify_time"])
        try:
            if params.get("out_biz_no") and params.get("refund_fee"):
                return self._refund_event(params)
            status = PAID.get(params.get("trade_status", ""))
            if status is None:
                raise NotificationRejected("unexpected_status", params.get("trade_status", "")[:40])
            paid = params.get("gmt_payment") or params.get("gmt_close") or ""
            return ChannelEvent(
                kind="payment",
                status=status,
                out_trade_no=params["out_trade_no"],
                amount_fen=yuan_str_to_fen(params["total_amount"]),
                merchant_id=params.get("seller_id", ""),
                channel_trade_no=params.get("trade_no", ""),
                occurred_at=_local(paid) if paid else sent,
                raw=params,
            )
        except (KeyError, ValueError) as exc:
            raise NotificationRejected("malformed", type(exc).__name__) from None

    def _verified_form(self, body: bytes) -> dict[str, str]:
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
        except (UnicodeDecodeError, ValueError):
            raise NotificationRejected("malformed", "form") from None
        params = dict(pairs)
        if len(params) != len(pairs):
            raise NotificationRejected("malformed", "repeated field")
        signature = params.pop("sign", "")
        sign_type = params.pop("sign_type", "")
        if not signature:
            raise NotificationRejected("missing_signature")
        if sign_type != "RSA2":
            raise NotificationRejected("bad_signature_type", sign_type[:20])
        signed = {k: v for k, v in params.items() if v != ""}
        try:
            good = bool(self.client.verify(signed, signature))
        except (ValueError, TypeError, binascii.Error):
            good = False
        if not good:
            raise NotificationRejected("bad_signature")
        return params

    def _refund_event(self, params: Mapping[str, str]) -> ChannelEvent:
        """A refund shows in the trade's notification with ``out_biz_no`` (our out_request_no) and ``refund_fee``,
        the trade's *total* refunded so far; what this refund was comes from the refund query."""
        out_trade_no, out_refund_no = params["out_trade_no"], params["out_biz_no"]
        yuan_str_to_fen(params["refund_fee"])  # well-formed, or malformed
        try:
            event = self.query_refund(out_refund_no=out_refund_no, out_trade_no=out_trade_no)
        except ChannelUnavailable:
            raise NotificationRejected("refund_unconfirmed", "the refund query failed") from None
        if event is None:
            raise NotificationRejected("refund_unconfirmed", out_refund_no[:40])
        gmt_refund = params.get("gmt_refund", "")
        return ChannelEvent(
            kind="refund",
            status=event.status,
            out_trade_no=out_trade_no,
            out_refund_no=out_refund_no,
            amount_fen=event.amount_fen,
            merchant_id=params.get("seller_id", ""),
            channel_trade_no=params.get("trade_no", ""),
            occurred_at=_local(gmt_refund[:19]) if gmt_refund else event.occurred_at,
            raw={**params, "refund_status": event.raw.get("refund_status", "")},
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
        """alipay.trade.refund answers at once: ``fund_change=Y`` is a refund done. ``N`` can be a resend of one
        done before (same out_request_no): the refund query decides."""
        answer = self._call(
            "alipay.trade.refund",
            {
                "out_trade_no": out_trade_no,
                "out_request_no": out_refund_no,
                "refund_amount": fen_to_yuan_str(amount_fen),
                "refund_reason": reason[:256],
            },
        )
        if answer.get("code") != "10000":
            sub_code = str(answer.get("sub_code", ""))
            if sub_code in RETRY_LATER:
                raise ChannelUnavailable(f"alipay refund: {sub_code}")
            return RefundSubmitted(status="failed", failure=sub_code or "refused")
        if answer.get("fund_change") == "Y":
            return RefundSubmitted(status="succeeded", channel_refund_id=str(answer.get("trade_no", "")))
        event = self.query_refund(out_refund_no=out_refund_no, out_trade_no=out_trade_no)
        status = "succeeded" if event is not None and event.status == "succeeded" else "processing"
        return RefundSubmitted(status=status, channel_refund_id=str(answer.get("trade_no", "")))

    def query_payment(self, *, out_trade_no: str) -> ChannelEvent | None:
        answer = self._call("alipay.trade.query", {"out_trade_no": out_trade_no})
        if answer.get("code") != "10000":
            if answer.get("sub_code") == "ACQ.TRADE_NOT_EXIST":
                return None
            raise ChannelUnavailable(f"alipay query: {answer.get('sub_code', '')}")
        state = str(answer.get("trade_status", ""))
        status = PAID.get(state)
        if status is None:
            return None  # WAIT_BUYER_PAY
        if status == "closed" and answer.get("send_pay_date"):
            status = "paid"  # paid, then refunded in full: the trade shows as closed
        paid = str(answer.get("send_pay_date") or "")
        return ChannelEvent(
            kind="payment",
            status=status,
            out_trade_no=str(answer.get("out_trade_no", out_trade_no)),
            amount_fen=yuan_str_to_fen(str(answer.get("total_amount", "0"))),
            merchant_id=self.config.pid,
            channel_trade_no=str(answer.get("trade_no", "")),
            occurred_at=_local(paid) if paid else None,
            raw=answer,
        )

    def query_refund(
        self, *, out_refund_no: str, out_trade_no: str, now: datetime | None = None
    ) -> ChannelEvent | None:
        """alipay.trade.fastpay.refund.query: an answer with the refund's data and an empty or REFUND_SUCCESS
        status is a refund done; no data means Alipay has not (yet) accepted it."""
        answer = self._call(
            "alipay.trade.fastpay.refund.query",
            {"out_trade_no": out_trade_no, "out_request_no": out_refund_no, "query_options": ["gmt_refund_pay"]},
        )
        if answer.get("code") != "10000":
            if answer.get("sub_code") == "ACQ.TRADE_NOT_EXIST":
                return None
            raise ChannelUnavailable(f"alipay refund query: {answer.get('sub_code', '')}")
        if not answer.get("out_request_no") or not answer.get("refund_amount"):
            return None
        state = str(answer.get("refund_status", ""))
        if state not in ("", "REFUND_SUCCESS"):
            return None
        when = str(answer.get("gmt_refund_pay") or "")
        return ChannelEvent(
            kind="refund",
            status="succeeded",
            out_trade_no=str(answer.get("out_trade_no", out_trade_no)),
            out_refund_no=str(answer["out_request_no"]),
            amount_fen=yuan_str_to_fen(str(answer["refund_amount"])),
            merchant_id=self.config.pid,
            channel_trade_no=str(answer.get("trade_no", "")),
            occurred_at=_local(when[:19]) if when else None,
            raw={**answer, "refund_status": state or "REFUND_SUCCESS"},
        )

    def close(self, *, out_trade_no: str) -> None:
        answer = self._call("alipay.trade.close", {"out_trade_no": out_trade_no})
        # A trade the payer never opened at the cashier does not exist at Alipay: nothing to close.
        if answer.get("code") != "10000" and answer.get("sub_code") != "ACQ.TRADE_NOT_EXIST":
            raise ChannelUnavailable(f"alipay close: {answer.get('sub_code', '')}")

    def download_bill(self, *, bill_date: date) -> bytes:
        """The day's trade bill: the download URL from alipay.data.dataservice.bill.downloadurl.query, a zip of
        CSV files (GBK); we return the detail file (业务明细, not the summary), re-encoded as UTF-8."""
        answer = self._call(
            "alipay.data.dataservice.bill.downloadurl.query", {"bill_type": "trade", "bill_date": f"{bill_date}"}
        )
        url = str(answer.get("bill_download_url", ""))
        if answer.get("code") != "10000" or not url:
            raise ChannelUnavailable(f"alipay bill: {answer.get('sub_code', '')}")
        try:
            response = self.session.request("GET", url, timeout=self.config.timeout)
        except requests.RequestException as exc:
            raise ChannelUnavailable(f"alipay bill download: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise ChannelUnavailable(f"alipay bill download: HTTP {response.status_code}")
        return detail_csv(response.content)

    def ack(self, *, ok: bool) -> Ack:
        if ok:
            return Ack(200, "text/plain; charset=utf-8", b"success")
        return Ack(400, "text/plain; charset=utf-8", b"fail")


def detail_csv(archive: bytes) -> bytes:
    """The detail CSV of an Alipay bill zip (member names are GBK unless flagged UTF-8), as UTF-8 bytes."""
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
            members = []
            for info in bundle.infolist():
                name = info.filename
                if not info.flag_bits & 0x800:
                    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
                        name = name.encode("cp437").decode("gb18030")
                members.append((name, info))
            chosen = [info for name, info in members if "明细" in name and "汇总" not in name]
            if not chosen:
                raise ChannelUnavailable("alipay bill: no detail file in the archive")
            if chosen[0].file_size > 200 * 1024 * 1024:
                raise ChannelUnavailable("alipay bill: the detail file is too large")
            raw = bundle.read(chosen[0])
    except (zipfile.BadZipFile, KeyError, OSError):
        raise ChannelUnavailable("alipay bill: not a zip archive") from None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding).encode("utf-8")
        except UnicodeDecodeError:
            continue
    raise ChannelUnavailable("alipay bill: unknown encoding")


def canonical(params: Mapping[str, str]) -> str:
    """What an Alipay notification's signature covers (for tests and tools): sorted non-empty parameters except
    ``sign`` and ``sign_type``."""
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k not in ("sign", "sign_type") and v != "")
