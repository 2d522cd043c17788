"""App pushes (to the parents' and teachers' phone apps) behind an adapter, like SMS.

A production adapter for a push provider implements :class:`PushBackend` and is selected with
``KEHOU_PUSH_BACKEND``. The demo adapter writes the push to the log; tests use the in-memory outbox.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger("kehou.push")


class PushBackend(Protocol):
    def send(self, *, user_id: int, title: str, body: str, link: str) -> None: ...


class LogPushBackend:
    def send(self, *, user_id: int, title: str, body: str, link: str) -> None:
        log.info("push to account %s: %s", user_id, title)


@dataclass
class SentPush:
    user_id: int
    title: str
    body: str
    link: str


class MemoryPushBackend:
    outbox: list[SentPush] = []

    def send(self, *, user_id: int, title: str, body: str, link: str) -> None:
        MemoryPushBackend.outbox.append(SentPush(user_id=user_id, title=title, body=body, link=link))


@cache
def _backend(path: str) -> PushBackend:
    return import_string(path)()  # type: ignore[no-any-return]


def get_backend() -> PushBackend:
    return _backend(settings.KEHOU_PUSH_BACKEND)
