"""Pieces every payments service shares: request keys, merchant numbers, the payment grace."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from kehou.core.error_codes import ErrorCode
from kehou.core.errors import KehouError

# A seat whose payment is under way when its hold runs out waits this long for the channel's word (the hold itself
# is not extended: the payment counts only if the channel says it was made within the hold).
PAYMENT_GRACE = timedelta(minutes=5)
KEY_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-")


def check_request_key(key: str) -> str:
    if not (8 <= len(key or "") <= 64 and set(key) <= KEY_CHARS):
        raise KehouError(
            _("Send a request key of 8 to 64 letters, digits or -_.: characters."),
            code=ErrorCode.REQUEST_KEY_INVALID,
            fields={"request_key": key},
        )
    return key


def new_number(prefix: str, now: datetime) -> str:
    """A merchant number channels accept (≤ 32 characters of [A-Za-z0-9]): prefix, time, randomness."""
    return f"{prefix}{now:%y%m%d%H%M%S}{secrets.token_hex(5).upper()}"
