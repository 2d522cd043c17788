"""Driving an ASGI application from a test without a server: one request, its response read as it streams."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db.backends.signals import connection_created


@dataclass
class StreamCall:
    """A request in flight. ``chunks`` fill as the application sends; ``disconnect()`` ends it as a client would."""

    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    chunks: list[bytes] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    gone: asyncio.Event = field(default_factory=asyncio.Event)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    @property
    def text(self) -> str:
        return b"".join(self.chunks).decode()

    def disconnect(self) -> None:
        self.gone.set()

    async def wait_for(self, needle: str, timeout: float = 5.0) -> str:
        async def until() -> None:
            while needle not in self.text:
                self.arrived.clear()
                if self.done.is_set():
                    raise AssertionError(f"the response ended without {needle!r}: {self.text!r}")
                await self.arrived.wait()

        await asyncio.wait_for(until(), timeout)
        return self.text

    async def finish(self, timeout: float = 5.0) -> None:
        self.disconnect()
        assert self.task is not None
        await asyncio.wait_for(self.task, timeout)


def start(
    app: Callable[..., Awaitable[None]],
    path: str,
    *,
    headers: dict[str, str] | None = None,
    query: str = "",
    method: str = "GET",
) -> StreamCall:
    """Start a request in the running loop; returns at once."""
    call = StreamCall()
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    sent_request = False

    async def receive() -> dict[str, Any]:
        nonlocal sent_request
        if not sent_request:
            sent_request = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await call.gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            call.status = message["status"]
            call.headers = {k.decode().lower(): v.decode() for k, v in message.get("headers", [])}
        elif message["type"] == "http.response.body":
            call.chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                call.done.set()
        call.arrived.set()

    call.task = asyncio.ensure_future(app(scope, receive, send))
    return call


def _read_uncommitted(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        connection.connection.execute("PRAGMA read_uncommitted = 1")


@pytest.fixture
def sqlite_threads() -> Iterator[None]:
    """For tests whose streams read the database from other threads. The in-memory test database is one
    shared-cache SQLite database for every thread: there a reader's table lock makes another thread's write fail
    at once ("database table is locked"), which a file database in WAL mode (the embedded deployment) never does.
    Readers here take no table locks, as under WAL."""
    connection_created.connect(_read_uncommitted)
    yield
    connection_created.disconnect(_read_uncommitted)


@pytest.fixture
def asgi_live_server(transactional_db: None, sqlite_threads: None) -> Iterator[str]:
    """The project's ASGI application under uvicorn, in a thread of this process, on a free loopback port (the
    event stream needs the ASGI server; pytest-django's live server is WSGI). Yields its base URL."""
    import socket
    import threading
    import time

    import uvicorn

    from kehou.asgi import application

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, name="asgi-live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the ASGI test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
