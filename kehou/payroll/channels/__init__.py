"""The payout channels: WeChat Pay's merchant transfer (``wechat``) and the local simulator (``simulator``)."""

from __future__ import annotations

from django.conf import settings

from .base import PayoutGateway


def payout_gateway(channel: str | None = None) -> PayoutGateway:
    channel = channel or str(settings.KEHOU_PAYROLL["PAYOUT_CHANNEL"])
    if channel == "simulator":
        from .simulator import PayoutSimulator

        return PayoutSimulator()
    if channel == "wechat":
        from .wechat_transfer import WechatTransferGateway

        return WechatTransferGateway()
    raise ValueError(f"unknown payout channel {channel!r}")
