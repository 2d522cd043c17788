"""SMS behind an adapter. The demo adapter writes messages to the log; tests use the in-memory outbox.

A production adapter for a provider (e.g. a carrier gateway) implements :class:`SmsBackend` and is selected with
``KEHOU_SMS_BACKEND``. Message texts never reach the audit log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger("kehou.sms")


class SmsBackend(Protocol):
    def send(self, *, phone: str, text: str) -> None: ...


class LogSmsBackend:
    """Demo adapter: the message goes to the server log (so a demo user can read the login code there)."""

    def send(self, *, phone: str, text: str) -> None:
        log.warning("SMS to %s: %s", phone, text)


@dataclass
class SentSms:
    phone: str
    text: str


class MemorySmsBackend:
    outbox: list[SentSms] = []

    def send(self, *, phone: str, text: str) -> None:
        MemorySmsBackend.outbox.append(SentSms(phone=phone, text=text))


@cache
def _backend(path: str) -> SmsBackend:
    return import_string(path)()  # type: ignore[no-any-return]


def get_backend() -> SmsBackend:
    return _backend(settings.KEHOU_SMS_BACKEND)
