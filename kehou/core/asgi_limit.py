"""A bound on the HTTP requests one server process runs in Django at once.

Django runs each ASGI request's synchronous code in a thread of its own. Under a rush of a thousand open
connections that is a thousand threads per process, each holding (SQLite) or waiting for (PostgreSQL pool) a
database connection: SQLite writers then queue on the database lock past its busy timeout ("database is locked",
a 500), and the threads fight over the GIL. With a bound, the requests beyond it wait in the event loop, which
costs nothing, and are served in arrival order. ``KEHOU_MAX_CONCURRENT_REQUESTS`` (0: no bound).

A long-lived response (Server-Sent Events) would hold its place for as long as it streams: such paths must be
left out of the bound (``exempt_prefixes``) when they arrive.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
App = Callable[..., Awaitable[None]]


class ConcurrencyLimit:
    def __init__(self, app: App, limit: int, exempt_prefixes: tuple[str, ...] = ()) -> None:
        self.app, self.limit, self.exempt_prefixes = app, limit, exempt_prefixes
        self._semaphore: asyncio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.limit <= 0 or scope["type"] != "http" or scope.get("path", "").startswith(self.exempt_prefixes):
            await self.app(scope, receive, send)
            return
        if self._semaphore is None:  # made in the server's event loop, on the first request
            self._semaphore = asyncio.Semaphore(self.limit)
        async with self._semaphore:
            await self.app(scope, receive, send)
