"""Which gateway serves a channel. The simulator is always there for the demo and tests; the real channels are
enabled by configuration (``KEHOU_PAYMENT_CHANNELS``) with their keys and certificates from files named in the
environment (see docs/payments.md); nothing secret is in settings modules, the repository or the logs."""

from __future__ import annotations

import logging

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from kehou.core.error_codes import ErrorCode
from kehou.core.errors import KehouError

from .base import Gateway
from .config import GATEWAYS, enabled_channels

log = logging.getLogger("kehou.payments")


def gateway(channel: str) -> Gateway:
    if channel not in enabled_channels():
        raise KehouError(
            _("This payment channel is not available."), code=ErrorCode.CHANNEL_UNAVAILABLE, fields={"channel": channel}
        )
    try:
        return import_string(GATEWAYS[channel])()  # type: ignore[no-any-return]
    except ImproperlyConfigured as missing:
        # Enabled but its keys are not configured: refuse clearly (the message names the variable, never a value).
        log.error("payment channel %s is enabled but not configured: %s", channel, missing)
        raise KehouError(
            _("This payment channel is not available."), code=ErrorCode.CHANNEL_UNAVAILABLE, fields={"channel": channel}
        ) from None
