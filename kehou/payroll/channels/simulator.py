"""The payout simulator for the demo and the tests: WeChat Pay's merchant transfer, played locally.

It keeps its own record of transfers (``payments.SimulatorTrade`` rows of kind ``transfer``, keyed by
``out_bill_no``), answers a repeated bill number with the transfer it already has (as the channel does), answers
queries, and finishes each transfer :data:`FINISH_AFTER` later with a signed ``MCHTRANSFER.BILL.FINISHED``
notification (RSA-SHA256 over timestamp/nonce/body by its platform key, resource AES-256-GCM with its APIv3 key:
the same scheme and keys as the payment simulator) delivered through the real receiving path by the task worker.

What a real channel does by itself it does by the payee's openid, so that the demo is deterministic: an openid
ending ``-timeout`` loses the first answer (the transfer is made, the caller hears nothing and sends again under the
same number); ``-fail`` ends in ``FAIL`` (the real name does not match the WeChat account); ``-slow`` takes ten
times longer.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction

from kehou.payments.channels import wechat_v3
from kehou.payments.channels.base import NotificationRejected
from kehou.payments.channels.simulator import MERCHANT_ID, SERIAL, SimulatorGateway
from kehou.payments.models import SimulatorDelivery, SimulatorTrade

from .base import PayoutAck, PayoutNotificationRejected, PayoutUnavailable, TransferRequest, TransferResult

EVENT = "MCHTRANSFER.BILL.FINISHED"
FINISH_AFTER = timedelta(seconds=30)
FAIL_REASON = "REAL_NAME_CHECK_FAIL"


def _state(trade: SimulatorTrade) -> str:
    return {"created": "accepted", "succeeded": "success", "failed": "fail"}.get(trade.status, trade.status)


def _result(trade: SimulatorTrade) -> TransferResult:
    return TransferResult(
        out_bill_no=trade.out_trade_no,
        state=_state(trade),
        transfer_bill_no=trade.channel_id,
        fail_reason=FAIL_REASON if trade.status == "failed" else "",
        at=trade.finished_at or trade.created_at,
    )


class PayoutSimulator:
    channel = "simulator"

    def __init__(self) -> None:
        self.payments = SimulatorGateway()

    def transfer(self, request: TransferRequest, *, now: datetime) -> TransferResult:
        if request.amount_fen <= 0:
            raise ValueError("amount")
        first = False
        try:
            with transaction.atomic():
                trade = SimulatorTrade.objects.create(
                    kind="transfer",
                    out_trade_no=request.out_bill_no,
                    out_refund_no="",
                    channel_id="1330" + secrets.token_hex(14).upper(),
                    amount_fen=request.amount_fen,
                    status="created",
                    created_at=now,
                )
                first = True
                delay = FINISH_AFTER * (10 if request.openid.endswith("-slow") else 1)
                succeeded = not request.openid.endswith("-fail")
                SimulatorDelivery.objects.create(
                    event_type=EVENT,
                    data={
                        "out_bill_no": request.out_bill_no,
                        "openid": request.openid,
                        "state": "SUCCESS" if succeeded else "FAIL",
                    },
                    deliver_at=now + delay,
                )
        except IntegrityError:
            trade = SimulatorTrade.objects.get(kind="transfer", out_trade_no=request.out_bill_no)
            if trade.amount_fen != request.amount_fen:
                from .base import PayoutRefused

                raise PayoutRefused("INVALID_REQUEST", "out_bill_no reused with different parameters") from None
        if first and request.openid.endswith("-timeout"):
            raise PayoutUnavailable("simulator: the answer was lost (read timed out)")
        return _result(trade)

    def query(self, *, out_bill_no: str) -> TransferResult | None:
        trade = SimulatorTrade.objects.filter(kind="transfer", out_trade_no=out_bill_no).first()
        return _result(trade) if trade is not None else None

    def parse_notification(self, *, headers: Mapping[str, str], body: bytes, now: datetime) -> TransferResult:
        try:
            data = wechat_v3.verify_notification(
                headers=headers, body=body, keys=self.payments.platform_keys(), apiv3_key=self.payments._apiv3, now=now
            )
        except NotificationRejected as exc:
            raise PayoutNotificationRejected(exc.reason, exc.detail) from None
        return result_from_resource(data)

    def ack(self, *, ok: bool) -> PayoutAck:
        if ok:
            return PayoutAck(200, "application/json", b"")
        return PayoutAck(400, "application/json", json.dumps({"code": "FAIL", "message": "rejected"}).encode())

    # --- the simulated outside world -----------------------------------------------------------------------
    def finish_due(self, *, now: datetime) -> list[tuple[dict[str, str], bytes]]:
        """The transfers whose time has come finish; their notifications, signed, ready to deliver (oldest first).
        Each delivery is claimed by one conditional UPDATE (two workers never send it twice)."""
        out: list[tuple[dict[str, str], bytes]] = []
        for delivery in SimulatorDelivery.objects.filter(
            event_type=EVENT, delivered_at__isnull=True, deliver_at__lte=now
        ).order_by("deliver_at", "pk")[:200]:
            if not SimulatorDelivery.objects.filter(pk=delivery.pk, delivered_at__isnull=True).update(delivered_at=now):
                continue
            data = dict(delivery.data)
            succeeded = data.get("state") == "SUCCESS"
            SimulatorTrade.objects.filter(
                kind="transfer", out_trade_no=str(data.get("out_bill_no", "")), status="created"
            ).update(status="succeeded" if succeeded else "failed", finished_at=delivery.deliver_at)
            trade = SimulatorTrade.objects.filter(
                kind="transfer", out_trade_no=str(data.get("out_bill_no", ""))
            ).first()
            if trade is None:
                continue
            out.append(self.signed(trade, openid=str(data.get("openid", "")), now=now))
        return out

    def signed(self, trade: SimulatorTrade, *, openid: str, now: datetime) -> tuple[dict[str, str], bytes]:
        resource = {
            "out_bill_no": trade.out_trade_no,
            "transfer_bill_no": trade.channel_id,
            "state": _state(trade).upper(),
            "mch_id": MERCHANT_ID,
            "transfer_amount": trade.amount_fen,
            "openid": openid,
            "create_time": trade.created_at.isoformat(timespec="seconds"),
            "update_time": (trade.finished_at or now).isoformat(timespec="seconds"),
            **({"fail_reason": FAIL_REASON} if trade.status == "failed" else {}),
        }
        return wechat_v3.sign_notification(
            data=resource,
            event_type=EVENT,
            platform_private_key=self.payments._private,
            serial=SERIAL,
            apiv3_key=self.payments._apiv3,
            now=now,
            associated_data="mch_payment",
        )


def result_from_resource(data: Mapping[str, object]) -> TransferResult:
    """A decrypted ``MCHTRANSFER.BILL.FINISHED`` resource as a result (the simulator and WeChat say the same)."""
    event = str(data.get("_event_type", EVENT))
    if event != EVENT:
        raise PayoutNotificationRejected("unexpected_event", event[:40])
    out_bill_no, state = data.get("out_bill_no"), data.get("state")
    if not isinstance(out_bill_no, str) or not out_bill_no or not isinstance(state, str) or not state:
        raise PayoutNotificationRejected("malformed", "out_bill_no/state")
    when = str(data.get("update_time") or data.get("create_time") or "")
    try:
        at = datetime.fromisoformat(when) if when else None
    except ValueError:
        at = None
    return TransferResult(
        out_bill_no=out_bill_no,
        state=state.lower(),
        transfer_bill_no=str(data.get("transfer_bill_no") or ""),
        fail_reason=str(data.get("fail_reason") or "")[:200],
        at=at,
    )
