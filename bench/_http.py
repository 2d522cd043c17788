"""A small HTTP/1.1 keep-alive client on asyncio streams, for the benchmarks.

One connection per simulated client, requests sent one after another on it. It is a few lines of socket code,
so that the load generator, which shares the machine's cores with the server it measures, costs far less CPU per
request than a general client library (httpx spends more time per request than the sold-out answer it measures).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any


class HttpError(Exception):
    pass


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=1 << 20)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        """Send one request and read its answer: (status, parsed JSON body or None). Reconnects once if the
        server closed the kept-alive connection."""
        payload = b"" if body is None else json.dumps(body).encode()
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(payload)}"]
        if body is not None:
            lines.append("Content-Type: application/json")
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload
        for attempt in (1, 2):
            if self.writer is None:
                await self._open()
            assert self.reader is not None and self.writer is not None
            try:
                self.writer.write(raw)
                return await self._read()
            except (ConnectionError, asyncio.IncompleteReadError) as exc:
                await self.close()
                if attempt == 2:
                    raise HttpError(str(exc)) from exc
        raise AssertionError("unreachable")

    async def _read(self) -> tuple[int, Any]:
        assert self.reader is not None
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        length, close, chunked = 0, False, False
        for line in header_lines:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection" and value.strip().lower() == "close":
                close = True
            elif name == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
        if chunked:
            data = b""
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                data += chunk[:-2]
        else:
            data = await self.reader.readexactly(length) if length else b""
        if close:
            await self.close()
        try:
            parsed = json.loads(data) if data else None
        except ValueError:
            parsed = {"raw": data[:200].decode("utf-8", "replace")}
        return status, parsed


async def wait_ready(port: int, token: str, proc: Any, timeout: float = 90, where: str = "") -> None:
    """Until the server on ``port`` answers ``GET /api/v1/me/`` with 200 for ``token``; raises if its process
    (``proc``, a ``subprocess.Popen``) exits first or the time runs out. ``where`` says where its log is."""
    import time

    hint = f"; see {where}" if where else ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited while starting{hint}")
        conn = Connection("127.0.0.1", port)
        try:
            status, _ = await conn.request("GET", "/api/v1/me/", headers={"Authorization": f"Bearer {token}"})
            if status == 200:
                return
        except (OSError, HttpError):
            pass
        finally:
            await conn.close()
        await asyncio.sleep(0.25)
    raise RuntimeError(f"the server did not answer in time{hint}")
