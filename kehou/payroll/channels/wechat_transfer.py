"""WeChat Pay APIv3 merchant transfer (商家转账, the 2025 "transfer-bills" API): teachers' class-hour pay.

One transfer per payout: ``POST /v3/fund-app/mch-transfer/transfer-bills`` under our ``out_bill_no``. Sent again
under the same number (with the same parameters), WeChat answers with the bill it already has, as it is: that is
the idempotency the payout service relies on. A bill is followed by
``GET /v3/fund-app/mch-transfer/transfer-bills/out-bill-no/{out_bill_no}`` and by the ``MCHTRANSFER.BILL.FINISHED``
notification.

The merchant side (keys, certificates, the APIv3 key, the API base) is the payments app's :class:`WechatConfig`;
requests are signed and answers verified by the same rules as :class:`kehou.payments.channels.wechat.WechatGateway`
(we never fetch platform certificates: an unknown serial is a rejection). The payee's real name is encrypted with
the platform's key (RSA-OAEP with SHA-1, as WeChat specifies) and the request then names that key in
``Wechatpay-Serial``.

Configuration, from the environment, besides the merchant's: ``KEHOU_WECHAT_TRANSFER_SCENE_ID`` (the transfer scene
approved for the merchant; default ``1005``, 佣金报酬) and ``KEHOU_WECHAT_TRANSFER_NOTIFY_URL`` (optional: without
it WeChat sends no notification and bills are followed by queries only).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import requests
from django.core.exceptions import ImproperlyConfigured
from wechatpayv3.utils import build_authorization, load_private_key, load_public_key, rsa_encrypt, rsa_verify

from kehou.payments.channels import config as channel_config
from kehou.payments.channels import wechat_v3
from kehou.payments.channels.base import NotificationRejected
from kehou.payments.channels.wechat import USER_AGENT, WechatConfig

from .base import (
    PayoutAck,
    PayoutNotificationRejected,
    PayoutRefused,
    PayoutUnavailable,
    TransferRequest,
    TransferResult,
)

TRANSFER_PATH = "/v3/fund-app/mch-transfer/transfer-bills"
QUERY_PATH = TRANSFER_PATH + "/out-bill-no/{out_bill_no}"
EVENT_FINISHED = "MCHTRANSFER.BILL.FINISHED"
DEFAULT_SCENE_ID = "1005"  # 佣金报酬

OUT_BILL_NO = re.compile(r"[A-Za-z0-9]{5,32}")
MAX_REMARK_CHARS = 32  # transfer_remark and each report info_content
NAME_ALLOWED_FEN = 30  # WeChat accepts user_name from 0.3 yuan on
NAME_REQUIRED_FEN = 200_000  # and requires it from 2,000 yuan on

# The bill's states as WeChat names them; lower-cased into TransferResult.state.
STATES = {"ACCEPTED", "PROCESSING", "WAIT_USER_CONFIRM", "TRANSFERING", "SUCCESS", "FAIL", "CANCELING", "CANCELLED"}
# Error codes that mean "try again later with the same out_bill_no", not "this transfer is refused".
RETRY_LATER = {"SYSTEM_ERROR", "FREQUENCY_LIMITED", "NOT_ENOUGH", "RATELIMIT_EXCEEDED"}
# What a 404 on the query says when WeChat has no bill under the number.
NOT_FOUND_CODES = {"NOT_FOUND", "RESOURCE_NOT_EXISTS", ""}

# The report items each scene requires (transfer_scene_report_infos), as (info_type, how to fill it).
POST_TYPE = "课后服务教师"
SCENE_REPORTS: dict[str, tuple[tuple[str, str], ...]] = {
    "1005": (("岗位类型", "post"), ("报酬说明", "remark")),
}


@dataclass(frozen=True)
class TransferConfig:
    """The transfer's own settings: the scene (its report items are in SCENE_REPORTS) and the notification URL."""

    scene_id: str = DEFAULT_SCENE_ID
    notify_url: str = ""

    def __post_init__(self) -> None:
        if self.scene_id not in SCENE_REPORTS:
            raise ImproperlyConfigured(
                f"KEHOU_WECHAT_TRANSFER_SCENE_ID {self.scene_id!r} is not a supported transfer scene "
                f"({', '.join(sorted(SCENE_REPORTS))})"
            )
        if self.notify_url and not self.notify_url.startswith("https://"):
            raise ImproperlyConfigured("KEHOU_WECHAT_TRANSFER_NOTIFY_URL must be an https:// address")

    @classmethod
    def from_env(cls) -> TransferConfig:
        return cls(
            scene_id=channel_config.env("KEHOU_WECHAT_TRANSFER_SCENE_ID", required=False) or DEFAULT_SCENE_ID,
            notify_url=channel_config.env("KEHOU_WECHAT_TRANSFER_NOTIFY_URL", required=False),
        )


@dataclass(frozen=True)
class WechatTransferResult(TransferResult):
    """A TransferResult with what only WeChat gives: ``package_info``, which the teacher's WeChat client needs
    (``requestMerchantTransfer``) to confirm a bill in WAIT_USER_CONFIRM. Only the transfer answer carries it."""

    package_info: str = ""


def _when(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


def _check_out_bill_no(out_bill_no: str) -> None:
    if not isinstance(out_bill_no, str) or not OUT_BILL_NO.fullmatch(out_bill_no):
        raise ValueError("out_bill_no must be 5 to 32 ASCII letters and digits")


class WechatTransferGateway:
    channel = "wechat"

    def __init__(
        self,
        config: WechatConfig | None = None,
        session: requests.Session | None = None,
        *,
        transfer_config: TransferConfig | None = None,
    ) -> None:
        self.config = config or WechatConfig.from_env()
        self.transfer_config = transfer_config or TransferConfig.from_env()
        self.merchant_id = self.config.mchid
        self.session = session or requests.Session()
        self._private_key = load_private_key(self.config.private_key_pem)

    # --- the wire --------------------------------------------------------------------------------------------
    def _request(
        self, method: str, path: str, body: Mapping[str, Any] | None = None, *, serial: str = ""
    ) -> tuple[int, Any]:
        """Send a signed request; return (status, decoded JSON or {}). A 2xx answer must carry a valid platform
        signature. Network errors, 5xx, 401 (our signature refused: configuration) and 429 raise PayoutUnavailable.
        ``serial`` names the platform key that encrypted a field of the body (``Wechatpay-Serial``)."""
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":")) if body is not None else ""
        where = f"wechat transfer {method} {path.split('?')[0]}"
        headers = {
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Authorization": build_authorization(
                path, method, self.config.mchid, self.config.cert_serial, self._private_key, data=text
            ),
        }
        if serial or self.config.public_key_id:
            headers["Wechatpay-Serial"] = serial or self.config.public_key_id
        try:
            response = self.session.request(
                method,
                self.config.api_base + path,
                data=text.encode("utf-8") if text else None,
                headers=headers,
                timeout=self.config.timeout,
            )
        except requests.RequestException as exc:
            raise PayoutUnavailable(f"{where}: {type(exc).__name__}") from None
        status = response.status_code
        if status >= 500 or status in (401, 429):
            raise PayoutUnavailable(f"{where}: HTTP {status}")
        raw = response.text
        if 200 <= status < 300:
            self._verify_answer(response.headers, raw)
        if not raw:
            return status, {}
        try:
            answer = json.loads(raw)
        except ValueError:
            raise PayoutUnavailable(f"{where}: not JSON (HTTP {status})") from None
        if not isinstance(answer, dict):
            raise PayoutUnavailable(f"{where}: not a JSON object (HTTP {status})")
        return status, answer

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
            raise PayoutUnavailable("wechat transfer: the answer's signature does not verify")

    def _encryption_key(self, now: datetime) -> tuple[str, Any]:
        """The platform key to encrypt a sensitive field with, and its serial: the platform public key when one
        is configured, otherwise the certificate valid at ``now`` that stays valid the longest."""
        if self.config.public_key_pem and self.config.public_key_id:
            return self.config.public_key_id, load_public_key(self.config.public_key_pem)
        at = now.astimezone(UTC)
        valid = [c for c in self.config.certificates if c.not_before <= at <= c.not_after]
        if not valid:
            raise PayoutUnavailable("wechat transfer: no valid platform certificate to encrypt the payee's name")
        newest = max(valid, key=lambda c: c.not_after)
        return newest.serial, newest.public_key

    @staticmethod
    def _code(answer: Any) -> str:
        return str(answer.get("code", "")) if isinstance(answer, dict) else ""

    @staticmethod
    def _result(answer: Mapping[str, Any], out_bill_no: str, where: str) -> WechatTransferResult:
        state = str(answer.get("state", ""))
        if state not in STATES:
            raise PayoutUnavailable(f"{where}: unknown state {state[:32]!r}")
        if str(answer.get("out_bill_no", "")) != out_bill_no:
            raise PayoutUnavailable(f"{where}: the answer is for another bill")
        return WechatTransferResult(
            out_bill_no=out_bill_no,
            state=state.lower(),
            transfer_bill_no=str(answer.get("transfer_bill_no", "")),
            fail_reason=str(answer.get("fail_reason", "") or ""),
            at=_when(answer.get("update_time")) or _when(answer.get("create_time")),
            package_info=str(answer.get("package_info", "") or ""),
        )

    def _report_infos(self, remark: str) -> list[dict[str, str]]:
        values = {"post": POST_TYPE, "remark": remark}
        return [
            {"info_type": info_type, "info_content": values[source]}
            for info_type, source in SCENE_REPORTS[self.transfer_config.scene_id]
        ]

    # --- the payout gateway interface ----------------------------------------------------------------------
    def transfer(self, request: TransferRequest, *, now: datetime) -> WechatTransferResult:
        """Send (or send again, same number and the same parameters) a transfer. Raises PayoutUnavailable (try
        again later with the same ``out_bill_no``) or PayoutRefused (WeChat's code: final for this request)."""
        _check_out_bill_no(request.out_bill_no)
        amount = request.amount_fen
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            raise ValueError("amount_fen must be a positive whole number of fen")
        if not request.openid:
            raise ValueError("openid is required")
        remark = request.remark.strip()
        if not remark or len(remark) > MAX_REMARK_CHARS:
            raise ValueError(f"remark must be 1 to {MAX_REMARK_CHARS} characters")
        name = request.user_name.strip()
        if amount >= NAME_REQUIRED_FEN and not name:
            raise ValueError("WeChat requires the payee's name for a transfer of 2,000 yuan or more")

        body: dict[str, Any] = {
            "appid": self.config.appid,
            "out_bill_no": request.out_bill_no,
            "transfer_scene_id": self.transfer_config.scene_id,
            "openid": request.openid,
            "transfer_amount": amount,
            "transfer_remark": remark,
        }
        serial = ""
        if name and amount >= NAME_ALLOWED_FEN:
            serial, key = self._encryption_key(now)
            body["user_name"] = rsa_encrypt(name, key)
        if self.transfer_config.notify_url:
            body["notify_url"] = self.transfer_config.notify_url
        body["transfer_scene_report_infos"] = self._report_infos(remark)

        where = f"wechat transfer {request.out_bill_no}"
        status, answer = self._request("POST", TRANSFER_PATH, body, serial=serial)
        if 200 <= status < 300:
            return self._result(answer, request.out_bill_no, where)
        code = self._code(answer)
        if not code or code in RETRY_LATER:
            raise PayoutUnavailable(f"{where}: HTTP {status} {code}".rstrip())
        raise PayoutRefused(code, str(answer.get("message", ""))[:200])

    def query(self, *, out_bill_no: str) -> WechatTransferResult | None:
        """WeChat's record of a bill, or None when it has none. Raises PayoutUnavailable."""
        _check_out_bill_no(out_bill_no)
        where = f"wechat transfer query {out_bill_no}"
        status, answer = self._request("GET", QUERY_PATH.format(out_bill_no=quote(out_bill_no, safe="")))
        if status == 404 and self._code(answer) in NOT_FOUND_CODES:
            return None
        if status != 200:
            raise PayoutUnavailable(f"{where}: HTTP {status} {self._code(answer)}".rstrip())
        return self._result(answer, out_bill_no, where)

    def parse_notification(self, *, headers: Mapping[str, str], body: bytes, now: datetime) -> TransferResult:
        """A verified ``MCHTRANSFER.BILL.FINISHED`` notification (its state as given, final or not). Raises
        PayoutNotificationRejected. The same notification twice gives the same result: the caller deduplicates."""
        try:
            data = wechat_v3.verify_notification(
                headers=headers,
                body=body,
                keys=self.config.platform_keys(now.astimezone(UTC)),
                apiv3_key=self.config.apiv3_key,
                now=now,
            )
        except NotificationRejected as exc:
            raise PayoutNotificationRejected(exc.reason, exc.detail) from None
        event_type = str(data.get("_event_type", ""))
        if event_type != EVENT_FINISHED:
            raise PayoutNotificationRejected("unexpected_event", event_type[:64])
        merchant = data.get("mch_id") or data.get("mchid")
        if merchant and str(merchant) != self.config.mchid:
            raise PayoutNotificationRejected("wrong_merchant", str(merchant)[:40])
        out_bill_no = data.get("out_bill_no")
        state = data.get("state")
        if not isinstance(out_bill_no, str) or not out_bill_no:
            raise PayoutNotificationRejected("malformed", "out_bill_no")
        if not isinstance(state, str) or state not in STATES:
            raise PayoutNotificationRejected("malformed", "state")
        return TransferResult(
            out_bill_no=out_bill_no,
            state=state.lower(),
            transfer_bill_no=str(data.get("transfer_bill_no", "") or ""),
            fail_reason=str(data.get("fail_reason", "") or ""),
            at=_when(data.get("update_time")) or _when(data.get("create_time")),
        )

    def ack(self, *, ok: bool) -> PayoutAck:
        """WeChat takes a 200/204 as received; anything else (with a FAIL body) makes it send the notification
        again later."""
        if ok:
            return PayoutAck(204, "application/json", b"")
        return PayoutAck(400, "application/json", json.dumps({"code": "FAIL", "message": "rejected"}).encode())
