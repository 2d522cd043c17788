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


class JPushBackend:
    """JPush (极光推送) REST API v3: ``POST {KEHOU_JPUSH_URL}`` (default https://api.jpush.cn/v3/push) with HTTP Basic
    authentication ``appKey:masterSecret`` and a JSON body addressing the account by its alias (the apps register
    the alias ``u<account id>`` after login). A 200 answer carries ``msg_id``; anything else raises, so that the
    task worker retries with back-off. The same notification is never sent twice (``push`` claims it first)."""

    def __init__(self) -> None:
        self.url = getattr(settings, "KEHOU_JPUSH_URL", "https://api.jpush.cn/v3/push")
        self.app_key = getattr(settings, "KEHOU_JPUSH_APP_KEY", "")
        self.master_secret = getattr(settings, "KEHOU_JPUSH_MASTER_SECRET", "")
        self.production = bool(getattr(settings, "KEHOU_JPUSH_APNS_PRODUCTION", False))

    def body(self, *, user_id: int, title: str, body: str, link: str) -> dict[str, object]:
        extras = {"link": link} if link else {}
        alert = body or title
        return {
            "platform": "all",
            "audience": {"alias": [f"u{user_id}"]},
            "notification": {
                "alert": alert,
                "android": {"alert": alert, "title": title, "extras": extras},
                "ios": {"alert": {"title": title, "body": body}, "sound": "default", "extras": extras},
            },
            "options": {"time_to_live": 86400, "apns_production": self.production},
        }

    def send(self, *, user_id: int, title: str, body: str, link: str) -> None:
        import base64
        import json
        import urllib.request

        if not (self.app_key and self.master_secret):
            raise RuntimeError("KEHOU_JPUSH_APP_KEY and KEHOU_JPUSH_MASTER_SECRET are not set")
        token = base64.b64encode(f"{self.app_key}:{self.master_secret}".encode()).decode()
        request = urllib.request.Request(  # noqa: S310 (the configured https endpoint)
            self.url,
            data=json.dumps(self.body(user_id=user_id, title=title, body=body, link=link), ensure_ascii=False).encode(),
            headers={"Authorization": f"Basic {token}", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            reply = json.loads(answer.read() or b"{}")
        if "msg_id" not in reply:
            raise RuntimeError(f"JPush answered without msg_id: {str(reply)[:200]}")
        log.info("push to account %s: msg_id %s", user_id, reply["msg_id"])
