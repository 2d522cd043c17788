"""The local simulator channel for the demo and the tests.

It behaves like a real channel: it keeps its own record of trades and refunds, answers queries, and sends signed
notifications (the WeChat Pay v3 scheme: RSA-SHA256 signature over timestamp/nonce/body by a platform key named by
its serial, resource encrypted with AES-256-GCM) through the same verification path as the real channels. What a
real channel does by itself (the payer pays, the bank is slow, a notification is sent twice or out of order) the
simulator does on request: ``pay(…, scenario=…)``. A refund it accepts finishes by itself :data:`REFUND_DELAY`
later, as a real channel's does: its notification is planned at once (a :class:`SimulatorDelivery`, sent by the
scheduled ``deliver_simulator_notifications`` task) and its queries answer "processing" until then and what the
notification says after; ``settle_refund(…, scenario=…)`` finishes one sooner, or makes it fail. Its keys are made on
first use and kept under ``KEHOU_VAR_DIR/simulator`` (never in the repository, never logged).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from kehou.core import clock

from ..models import SimulatorDelivery, SimulatorTrade
from . import wechat_v3
from .base import Ack, ChannelEvent, NotificationRejected, PaymentStart, RefundSubmitted

MERCHANT_ID = "1900000001"
SERIAL = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
SCENARIOS = ("once", "duplicate", "delayed", "reordered", "fail")
REFUND_DELAY = timedelta(seconds=60)  # a refund the simulator accepts succeeds (and is notified) this long after


@cache
def _keys(directory: str) -> tuple[str, str, str]:
    """(platform private key PEM, platform public key PEM, APIv3 key), made once and kept on disk."""
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    private_file, apiv3_file = path / "platform_private_key.pem", path / "apiv3_key"
    if not private_file.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        private_file.write_bytes(pem)
        private_file.chmod(0o600)
        apiv3_file.write_text(secrets.token_hex(16))  # 32 characters, as WeChat's APIv3 keys
        apiv3_file.chmod(0o600)
    private_pem = private_file.read_text()
    private_key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    public_pem = (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem, apiv3_file.read_text().strip()


@cache
def _loaded_private_key(directory: str) -> Any:
    return serialization.load_pem_private_key(_keys(directory)[0].encode(), password=None)


class SimulatorGateway:
    channel = "simulator"
    merchant_id = MERCHANT_ID

    def __init__(self, key_dir: str | None = None) -> None:
        self.key_dir = key_dir or str(Path(settings.VAR_DIR) / "simulator")

    # --- keys ----------------------------------------------------------------------------------------------
    @property
    def _private(self) -> Any:
        return _loaded_private_key(self.key_dir)

    @property
    def _apiv3(self) -> str:
        return _keys(self.key_dir)[2]

    def platform_keys(self) -> wechat_v3.PlatformKeys:
        return wechat_v3.PlatformKeys.load(public_key=_keys(self.key_dir)[1], public_key_id=SERIAL)

    # --- the gateway interface -----------------------------------------------------------------------------
    def start_payment(
        self, *, out_trade_no: str, amount_fen: int, description: str, expires_at: datetime, payer_ref: str = ""
    ) -> PaymentStart:
        # One INSERT that does nothing when the trade is known (a payer reopening the cashier): the same trade.
        SimulatorTrade.objects.bulk_create(
            [
                SimulatorTrade(
                    kind="payment",
                    out_trade_no=out_trade_no,
                    out_refund_no="",
                    channel_id="SIM" + secrets.token_hex(12).upper(),
                    amount_fen=amount_fen,
                    status="created",
                    created_at=expires_at,
                )
            ],
            ignore_conflicts=True,
        )
        return PaymentStart(kind="redirect", url=f"/pay/simulator/{out_trade_no}/")

    def parse_notification(self, *, headers: Mapping[str, str], body: bytes, now: datetime) -> ChannelEvent:
        data = wechat_v3.verify_notification(
            headers=headers, body=body, keys=self.platform_keys(), apiv3_key=self._apiv3, now=now
        )
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
        """Accept a refund of a paid trade: it succeeds :data:`REFUND_DELAY` later and its notification is planned
        for then. A resend (the same refund number) is the same refund and answers its state."""
        now = now or clock.now()
        paid = SimulatorTrade.objects.filter(kind="payment", out_trade_no=out_trade_no, status="paid").first()
        if paid is None:
            return RefundSubmitted(status="failed", failure="TRADE_NOT_PAID")
        with transaction.atomic():
            trade, created = SimulatorTrade.objects.get_or_create(
                kind="refund",
                out_trade_no=out_trade_no,
                out_refund_no=out_refund_no,
                defaults={
                    "channel_id": "SIMR" + secrets.token_hex(11).upper(),
                    "amount_fen": amount_fen,
                    "status": "processing",
                    "created_at": now,
                },
            )
            if created:
                done = now + REFUND_DELAY
                self._enqueue(_refund_resource(trade, succeeded=True, at=done), "REFUND.SUCCESS", done, "once")
        trade = self._settled(trade, now=now)
        failure = "ABNORMAL" if trade.status == "failed" else ""
        return RefundSubmitted(status=trade.status, channel_refund_id=trade.channel_id, failure=failure)

    def query_payment(self, *, out_trade_no: str) -> ChannelEvent | None:
        trade = SimulatorTrade.objects.filter(kind="payment", out_trade_no=out_trade_no).first()
        if trade is None or trade.status == "created":
            return None
        return ChannelEvent(
            kind="payment",
            status=trade.status,
            out_trade_no=out_trade_no,
            amount_fen=trade.amount_fen,
            merchant_id=MERCHANT_ID,
            channel_trade_no=trade.channel_id,
            occurred_at=trade.finished_at,
        )

    def query_refund(
        self, *, out_refund_no: str, out_trade_no: str, now: datetime | None = None
    ) -> ChannelEvent | None:
        """What the channel knows of a refund at ``now``: processing until its planned time, then what its
        notification says (succeeded, or failed)."""
        trade = SimulatorTrade.objects.filter(kind="refund", out_refund_no=out_refund_no).first()
        if trade is None:
            return None
        trade = self._settled(trade, now=now or clock.now())
        return ChannelEvent(
            kind="refund",
            status=trade.status,
            out_trade_no=trade.out_trade_no,
            out_refund_no=out_refund_no,
            channel_refund_id=trade.channel_id,
            amount_fen=trade.amount_fen,
            merchant_id=MERCHANT_ID,
            occurred_at=trade.finished_at,
        )

    def close(self, *, out_trade_no: str) -> None:
        SimulatorTrade.objects.filter(kind="payment", out_trade_no=out_trade_no, status="created").update(
            status="closed"
        )

    def download_bill(self, *, bill_date: date) -> bytes:
        """A bill in WeChat's trade-bill CSV layout (every field prefixed with a backquote)."""
        from .bills import wechat_bill_csv

        day_end = datetime.combine(
            bill_date + timedelta(days=1), datetime.min.time(), tzinfo=timezone.get_default_timezone()
        )
        self.settle_due(now=day_end - timedelta(microseconds=1))  # refunds that finished that day by themselves
        return wechat_bill_csv(SimulatorTrade.objects.filter(finished_at__date=bill_date), merchant_id=MERCHANT_ID)

    def ack(self, *, ok: bool) -> Ack:
        if ok:
            return Ack(204, "application/json", b"")
        return Ack(400, "application/json", json.dumps({"code": "FAIL", "message": "rejected"}).encode())

    # --- the simulated outside world -----------------------------------------------------------------------
    def pay(self, *, out_trade_no: str, now: datetime, scenario: str = "once") -> SimulatorTrade:
        """The payer pays (or fails to). The notification(s) go to the outbox, delivered by ``deliver``."""
        if scenario not in SCENARIOS:
            raise ValueError(scenario)
        with transaction.atomic():
            trade = SimulatorTrade.objects.select_for_update().get(kind="payment", out_trade_no=out_trade_no)
            if trade.status != "created":
                return trade
            trade.status = "failed" if scenario == "fail" else "paid"
            trade.finished_at = now
            trade.save(update_fields=["status", "finished_at"])
            if scenario == "fail":
                return trade  # WeChat sends no notification for a failed payment; a query finds it
            data = {
                "mchid": MERCHANT_ID,
                "appid": "wxd678efh567hg6787",
                "out_trade_no": out_trade_no,
                "transaction_id": trade.channel_id,
                "trade_type": "JSAPI",
                "trade_state": "SUCCESS",
                "trade_state_desc": "支付成功",
                "success_time": now.isoformat(timespec="seconds"),
                "amount": {"total": trade.amount_fen, "payer_total": trade.amount_fen, "currency": "CNY"},
            }
            self._enqueue(data, "TRANSACTION.SUCCESS", now, scenario)
        return trade

    def settle_refund(self, *, out_refund_no: str, now: datetime, scenario: str = "once") -> SimulatorTrade:
        """The channel finishes a refund at ``now`` (sooner than planned, or failing: ``scenario="fail"``) and
        notifies as the scenario says. A refund already finished (its planned time has passed) stays as it is."""
        if scenario not in SCENARIOS:
            raise ValueError(scenario)
        with transaction.atomic():
            trade = SimulatorTrade.objects.select_for_update().get(kind="refund", out_refund_no=out_refund_no)
            trade = self._settled(trade, now=now)
            if trade.status != "processing":
                return trade
            # The plan changes: its notification, not sent yet, is not sent at all.
            _planned(out_refund_no).filter(delivered_at__isnull=True).delete()
            trade.status = "failed" if scenario == "fail" else "succeeded"
            trade.finished_at = now
            trade.save(update_fields=["status", "finished_at"])
            data = _refund_resource(trade, succeeded=scenario != "fail", at=now)
            self._enqueue(data, "REFUND.ABNORMAL" if scenario == "fail" else "REFUND.SUCCESS", now, scenario)
        return trade

    def settle_due(self, *, now: datetime) -> int:
        """Record every refund whose planned time has come as finished. Returns how many."""
        open_refunds = SimulatorTrade.objects.filter(kind="refund", status="processing")
        return sum(1 for trade in open_refunds if self._settled(trade, now=now).status != "processing")

    def sending(self, delivery: SimulatorDelivery) -> None:
        """The channel sends ``delivery``: a refund it reports as finished is finished in the channel's record
        (when it was not yet: its query said so already, or it was settled by hand)."""
        data = delivery.data
        if not delivery.event_type.startswith("REFUND.") or not isinstance(data, dict):
            return
        occurred = str(data.get("success_time") or "")
        SimulatorTrade.objects.filter(
            kind="refund", out_refund_no=str(data.get("out_refund_no", "")), status="processing"
        ).update(
            status="succeeded" if data.get("refund_status") == "SUCCESS" else "failed",
            finished_at=datetime.fromisoformat(occurred) if occurred else delivery.deliver_at,
        )

    def _settled(self, trade: SimulatorTrade, *, now: datetime) -> SimulatorTrade:
        """A processing refund whose planned notification is due at ``now``: finished, as that notification says."""
        if trade.kind != "refund" or trade.status != "processing":
            return trade
        plan = _planned(trade.out_refund_no).filter(deliver_at__lte=now).order_by("deliver_at", "pk").first()
        if plan is None:
            return trade
        status = "succeeded" if plan.data.get("refund_status") == "SUCCESS" else "failed"
        occurred = str(plan.data.get("success_time") or "")
        finished = datetime.fromisoformat(occurred) if occurred else plan.deliver_at
        SimulatorTrade.objects.filter(pk=trade.pk, status="processing").update(status=status, finished_at=finished)
        trade.refresh_from_db()
        return trade

    def _enqueue(self, data: Mapping[str, object], event_type: str, now: datetime, scenario: str) -> None:
        at = now + timedelta(seconds=60) if scenario == "delayed" else now
        copies = 2 if scenario == "duplicate" else 1
        SimulatorDelivery.objects.bulk_create(
            SimulatorDelivery(
                event_type=event_type,
                data=dict(data),
                # "reordered": this one goes after whatever is queued within the next two minutes
                deliver_at=at + timedelta(seconds=120) if scenario == "reordered" else at + timedelta(seconds=i),
            )
            for i in range(copies)
        )

    def signed(self, delivery: SimulatorDelivery, *, now: datetime) -> tuple[dict[str, str], bytes]:
        """Headers and body of a delivery as sent at ``now``."""
        return wechat_v3.sign_notification(
            data=delivery.data,
            event_type=delivery.event_type,
            platform_private_key=self._private,
            serial=SERIAL,
            apiv3_key=self._apiv3,
            now=now,
            associated_data="refund" if delivery.event_type.startswith("REFUND") else "transaction",
        )


def _planned(out_refund_no: str) -> Any:
    """The notifications the simulator has planned (or sent) about a refund."""
    return SimulatorDelivery.objects.filter(event_type__startswith="REFUND.", data__out_refund_no=out_refund_no)


def _refund_resource(trade: SimulatorTrade, *, succeeded: bool, at: datetime) -> dict[str, object]:
    """A refund notification's resource (WeChat Pay v3's fields) for a refund that finished at ``at``."""
    return {
        "mchid": MERCHANT_ID,
        "out_trade_no": trade.out_trade_no,
        "transaction_id": "",
        "out_refund_no": trade.out_refund_no,
        "refund_id": trade.channel_id,
        "refund_status": "SUCCESS" if succeeded else "ABNORMAL",
        "success_time": at.isoformat(timespec="seconds"),
        "amount": {"total": 0, "refund": trade.amount_fen, "payer_refund": trade.amount_fen},
    }


def event_from_wechat(data: Mapping[str, object]) -> ChannelEvent:
    """A decrypted WeChat Pay v3 transaction or refund resource as a ChannelEvent."""
    try:
        amount = data.get("amount") or {}
        assert isinstance(amount, dict)
        event_type = str(data.get("_event_type", ""))
        occurred = str(data.get("success_time") or "")
        when = datetime.fromisoformat(occurred) if occurred else None
        if "out_refund_no" in data or event_type.startswith("REFUND"):
            state = str(data.get("refund_status", ""))
            return ChannelEvent(
                kind="refund",
                status={"SUCCESS": "succeeded", "PROCESSING": "processing"}.get(state, "failed"),
                out_trade_no=str(data["out_trade_no"]),
                out_refund_no=str(data["out_refund_no"]),
                channel_refund_id=str(data.get("refund_id", "")),
                amount_fen=int(amount["refund"]),
                merchant_id=str(data.get("mchid", "")),
                occurred_at=when,
                raw=dict(data),
            )
        state = str(data.get("trade_state", ""))
        return ChannelEvent(
            kind="payment",
            status={"SUCCESS": "paid", "CLOSED": "closed", "PAYERROR": "failed"}.get(state, "failed"),
            out_trade_no=str(data["out_trade_no"]),
            channel_trade_no=str(data.get("transaction_id", "")),
            amount_fen=int(amount["total"]),
            merchant_id=str(data.get("mchid", "")),
            occurred_at=when,
            raw=dict(data),
        )
    except (KeyError, ValueError, TypeError, AssertionError) as exc:
        raise NotificationRejected("malformed", type(exc).__name__) from None
