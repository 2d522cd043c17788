"""Channel configuration, in one place: which channels are enabled (``KEHOU_PAYMENT_CHANNELS``) and how a channel
reads its settings from the environment and its keys and certificates from the files the environment names.
Nothing secret is in settings modules, the repository or the logs; a missing or unreadable setting is an
``ImproperlyConfigured`` that the gateway lookup turns into ``channel_unavailable``."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

GATEWAYS = {
    "simulator": "kehou.payments.channels.simulator.SimulatorGateway",
    "wechat": "kehou.payments.channels.wechat.WechatGateway",
    "alipay": "kehou.payments.channels.alipay.AlipayGateway",
    "ganfutong": "kehou.payments.channels.ganfutong.GanfutongGateway",
}


def enabled_channels() -> list[str]:
    return [c for c in settings.KEHOU_PAYMENT_CHANNELS if c in GATEWAYS]


def env(name: str, *, required: bool = True) -> str:
    """A setting from the environment (stripped); required ones must be set."""
    value = os.environ.get(name, "").strip()
    if required and not value:
        raise ImproperlyConfigured(f"{name} is not set (see docs/payments.md)")
    return value


def read_text(name: str, *, required: bool = True) -> str:
    """The text of the file the environment variable ``name`` names ("" when optional and unset)."""
    path = env(name, required=required)
    if not path:
        return ""
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError:
        raise ImproperlyConfigured(f"the file named by {name} cannot be read") from None


def read_bytes(name: str) -> bytes:
    """The bytes of the file the environment variable ``name`` names."""
    try:
        return Path(env(name)).read_bytes()
    except OSError:
        raise ImproperlyConfigured(f"the file named by {name} cannot be read") from None
