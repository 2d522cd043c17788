"""Benchmark: the live event channel (``GET /api/v1/events/``) with thousands of idle streams open, while a teacher
comments on pupils and each comment must reach the one guardian whose child it is about.

    .venv/bin/python bench/push.py [--streams 2000] [--pupils 40] [--comments 200] [--rate 10]
                                   [--database-url postgres://postgres@127.0.0.1:5432/kehou_bench_push]
                                   [--redis-url redis://127.0.0.1:6379/14] [--skip-redis]

One run:

1. Seeds a fresh database (a SQLite file in a new folder under /tmp, or the PostgreSQL database named by
   ``--database-url``, dropped and made, dropped again at the end): one school, one teacher, one class of
   ``--pupils`` pupils whose first session is moved to now (Asia/Shanghai), so that its roll call is open, and
   ``--streams`` parent accounts with a bearer token each; the first ``--pupils`` of them are the pupils' guardians
   (one each), the others idle parents.
2. One server process (``uvicorn kehou.asgi:application``, no Redis): a warm-up comment, its RSS; then every
   parent opens a stream (``--batch`` at a time, each waits for ``: connected``), the RSS again; then the teacher
   posts ``--comments`` comments (unique texts, spread over the pupils, ``--rate`` a second) on its own kept-alive
   connection, and each is timed from the moment its POST was sent to the moment its ``comment`` event reached the
   guardian's stream.
3. The same with two server processes on Redis (``--redis-url``, the database number is the benchmark's; the keys
   the servers leave there, ``kehou:*``, are deleted at the end): the streams on process B, the teacher posting to
   process A, so that every event crosses Redis (or, if a message is lost, the poll of ``KEHOU_EVENTS_POLL_SECONDS``).

Prints one JSON line: {"streams", "pupils", "comments", "database", "one_process": {...},
"two_processes_redis": {...}}; each phase has ``rss_per_stream_kib`` ((RSS with the streams open − RSS before) ÷
streams, of the process that holds them), ``delivery_ms`` and ``post_ms`` ({"p50", "p95", "max"}), ``lost`` (a
comment whose event did not reach its guardian within ``--lost-after`` seconds of its POST), ``duplicated`` (an
event number seen twice on one stream, or a comment twice), ``misdelivered`` (a comment event on any other stream;
``idle_streams_hit`` counts the idle parents' streams among them), the servers' CPU seconds during the comments, and
the time to open the streams. Targets (issue 10): delivery p95 ≤ 500 ms at 2,000 streams, nothing lost or
duplicated. A quick run: ``--streams 50 --comments 20``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import _db  # noqa: E402
from _http import Connection, HttpError, wait_ready  # noqa: E402

HOST = "127.0.0.1"
EVENTS_PATH = "/api/v1/events/"


# --- database set-up -------------------------------------------------------------------------------------------


@dataclass
class World:
    session_id: int
    teacher_token: str
    pupils: list[int]  # pupils[i]'s guardian is account i
    tokens: list[str]  # one per parent account


def pg_admin_url(database_url: str) -> tuple[str, str]:
    """(the URL of the server's ``postgres`` database, the benchmark database's name)."""
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    if not name:
        raise SystemExit("--database-url must name a database")
    scheme = "postgresql" if parts.scheme in ("postgres", "postgresql", "pgsql") else parts.scheme
    return urlunsplit((scheme, parts.netloc, "/postgres", "", "")), name


def pg_recreate(database_url: str, drop_only: bool = False) -> None:
    admin, name = pg_admin_url(database_url)
    _db.pg_recreate(admin, name, drop_only=drop_only)


def seed(args: argparse.Namespace) -> World:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from kehou.attendance.services.common import session_bounds
    from kehou.attendance.tests.factories import class_with_pupils, first_session
    from kehou.enrolment.models import ClassSession, Enrolment
    from kehou.orgs.models import School
    from kehou.people.models import ApiToken, Guardian, Role, RoleAssignment, User
    from kehou.people.services import token_issue
    from kehou.testing import factories as f

    call_command("migrate", verbosity=0, interactive=False)
    now = timezone.now()
    school: School = f.SchoolFactory()  # type: ignore[assignment]  # factory_boy makes a School
    teacher = f.teacher_at(school)
    cls, pupils = class_with_pupils(school, args.pupils, teacher=teacher.teacher_profile, capacity=max(45, args.pupils))
    # The first session is now: from ten minutes ago to an hour on, within today (the roll call is open from 30
    # minutes before the start to 120 after the end).
    session = first_session(cls)
    local = timezone.localtime(now).replace(second=0, microsecond=0)
    midnight = local.replace(hour=0, minute=0)
    starts = max(midnight, local - timedelta(minutes=10))
    ends = min(midnight.replace(hour=23, minute=59), local + timedelta(minutes=60))
    ClassSession.objects.filter(pk=session.pk).update(date=local.date(), starts_at=starts.time(), ends_at=ends.time())
    session.refresh_from_db()
    start, _end = session_bounds(session)
    # The places were confirmed by the factories' fixed date: before the session, whatever today is.
    Enrolment.objects.filter(course_class=cls, confirmed_at__gte=start).update(
        confirmed_at=start - timedelta(days=1), created_at=start - timedelta(days=1)
    )

    users = User.objects.bulk_create(
        [
            User(username=f"bench-parent-{i}", full_name=f"家长{i}", password="!", date_joined=now)
            for i in range(args.streams)
        ]
    )
    Guardian.objects.bulk_create(
        [Guardian(pupil=p, user=u, relation="mother") for p, u in zip(pupils, users, strict=False)]
    )
    RoleAssignment.objects.bulk_create([RoleAssignment(user=u, role=Role.PARENT, granted_at=now) for u in users])
    tokens = ["kh_" + secrets.token_urlsafe(32) for _ in users]  # as token_issue makes them (no audit row each)
    ttl = timedelta(seconds=settings.KEHOU_TOKEN_TTL_SECONDS)
    ApiToken.objects.bulk_create(
        [
            ApiToken(
                user=u,
                key_hash=hashlib.sha256(raw.encode()).hexdigest(),
                prefix=raw[3:11],
                created_at=now,
                expires_at=now + ttl,
            )
            for u, raw in zip(users, tokens, strict=True)
        ]
    )
    world = World(
        session_id=session.pk,
        teacher_token=token_issue(user=teacher, now=now).raw,
        pupils=[p.pk for p in pupils],
        tokens=tokens,
    )
    connection.close()
    return world


# --- the servers -----------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    log: str

    @property
    def pid(self) -> int:
        return self.proc.pid


def start_server(env: dict[str, str], tmp: str, name: str) -> Server:
    port = free_port()
    log = os.path.join(tmp, f"server-{name}.log")
    cmd = [
        str(ROOT / ".venv" / "bin" / "uvicorn"),
        "kehou.asgi:application",
        "--host",
        HOST,
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
        "--backlog",
        "4096",
        "--timeout-graceful-shutdown",
        "5",
    ]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    return Server(proc=proc, port=port, log=log)


def stop_server(server: Server) -> None:
    proc = server.proc
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()  # this one process, by its pid
        proc.wait(timeout=5)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- the streams -----------------------------------------------------------------------------------------------


@dataclass
class Tally:
    """What the streams of one phase received, and what the teacher sent."""

    guardian_of: dict[str, int] = field(default_factory=dict)  # comment text → the account that should get it
    sent: dict[str, float] = field(default_factory=dict)  # comment text → when its POST was sent
    arrived: dict[str, float] = field(default_factory=dict)  # comment text → when it reached its guardian
    post_ms: list[float] = field(default_factory=list)
    post_errors: dict[str, int] = field(default_factory=dict)
    duplicated: int = 0
    misdelivered: int = 0
    idle_hit: set[int] = field(default_factory=set)
    unexpected: int = 0  # comment events of texts this phase did not send
    other_events: int = 0  # the guardians' notification events, and whatever else
    heartbeats: int = 0


class Stream:
    """One parent's ``GET /api/v1/events/`` on a raw socket: enough HTTP/1.1 and SSE to find the events."""

    def __init__(self, account: int, token: str, guardian: bool, tally: Tally) -> None:
        self.account, self.token, self.guardian, self.tally = account, token, guardian, tally
        self.connected = asyncio.Event()
        self.ended = False
        self.closing = False
        self.ids: set[int] = set()
        self.texts: set[str] = set()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.task: asyncio.Task[None] | None = None

    async def open(self, port: int) -> None:
        self.reader, self.writer = await asyncio.open_connection(HOST, port)
        request = (
            f"GET {EVENTS_PATH} HTTP/1.1\r\nHost: {HOST}:{port}\r\nAuthorization: Bearer {self.token}\r\n"
            "Accept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n"
        )
        self.writer.write(request.encode("latin-1"))
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        if status != 200:
            raise HttpError(f"the stream answered {status}")
        chunked = b"transfer-encoding: chunked" in head.lower()
        self.task = asyncio.create_task(self._read(chunked))

    async def _read(self, chunked: bool) -> None:
        assert self.reader is not None
        buf = b""
        try:
            while True:
                if chunked:
                    size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
                    data = (await self.reader.readexactly(size + 2))[:-2]
                    if size == 0:
                        break
                else:
                    data = await self.reader.read(65536)
                    if not data:
                        break
                at = time.perf_counter()
                buf += data
                while b"\n\n" in buf:
                    message, buf = buf.split(b"\n\n", 1)
                    self._message(message, at)
        except (asyncio.IncompleteReadError, ConnectionError, OSError, ValueError):
            pass
        finally:
            self.ended = not self.closing

    def _message(self, message: bytes, at: float) -> None:
        seq: int | None = None
        data: list[bytes] = []
        for line in message.split(b"\n"):
            if line.startswith(b":"):
                if b"connected" in line:
                    self.connected.set()
                elif b"heartbeat" in line:
                    self.tally.heartbeats += 1
            elif line.startswith(b"id:"):
                seq = int(line[3:].strip())
            elif line.startswith(b"data:"):
                data.append(line[5:].removeprefix(b" "))
        if seq is not None:
            if seq in self.ids:
                self.tally.duplicated += 1
            self.ids.add(seq)
        if not data:
            return
        payload = json.loads(b"\n".join(data))
        if not isinstance(payload, dict) or payload.get("kind") != "comment":
            self.tally.other_events += 1
            return
        text = str(payload.get("text", ""))
        expected = self.tally.guardian_of.get(text)
        if expected is None:
            self.tally.unexpected += 1
        elif expected != self.account:
            self.tally.misdelivered += 1
            if not self.guardian:
                self.tally.idle_hit.add(self.account)
        elif text in self.texts:
            self.tally.duplicated += 1
        else:
            self.tally.arrived[text] = at
        self.texts.add(text)

    async def close(self) -> None:
        self.closing = True
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await self.writer.wait_closed()


async def open_streams(
    port: int, world: World, tally: Tally, batch: int, timeout: float
) -> tuple[list[Stream], list[float], int]:
    """Every parent's stream, ``batch`` at a time, each waited for until ``: connected``: (the streams that
    connected, their times to ``: connected`` in ms, how many failed)."""
    streams: list[Stream] = []
    opened_ms: list[float] = []
    failed = 0

    async def one(account: int) -> Stream | None:
        stream = Stream(account, world.tokens[account], account < len(world.pupils), tally)
        t0 = time.perf_counter()
        try:
            await stream.open(port)
            await asyncio.wait_for(stream.connected.wait(), timeout)
        except (OSError, HttpError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
            print(f"stream {account} did not open: {exc!r}", file=sys.stderr)
            await stream.close()
            return None
        opened_ms.append((time.perf_counter() - t0) * 1000)
        return stream

    for first in range(0, len(world.tokens), batch):
        got = await asyncio.gather(*(one(a) for a in range(first, min(first + batch, len(world.tokens)))))
        for s in got:
            if s is None:
                failed += 1
            else:
                streams.append(s)
    return streams, opened_ms, failed


async def close_streams(streams: list[Stream]) -> None:
    for first in range(0, len(streams), 200):
        await asyncio.gather(*(s.close() for s in streams[first : first + 200]))


# --- the comments ----------------------------------------------------------------------------------------------


def comment_url(world: World) -> str:
    return f"/api/v1/sessions/{world.session_id}/comments"


async def post_comment(conn: Connection, world: World, pupil: int, text: str) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {world.teacher_token}"}
    return await conn.request("POST", comment_url(world), {"pupil": pupil, "text": text}, headers)


async def warm_up(post_port: int, stream_port: int, world: World, label: str) -> None:
    """Before the first RSS: a comment through the whole path (it makes the roll call) and a stream opened and
    closed on the streaming process (its hub, its poll and, with Redis, its subscription start)."""
    conn = Connection(HOST, post_port)
    try:
        status, body = await post_comment(conn, world, world.pupils[0], f"{label} warm-up {secrets.token_hex(4)}")
        if status != 201:
            raise RuntimeError(f"the warm-up comment was refused: {status} {body}")
    finally:
        await conn.close()
    probe = Stream(-1, world.teacher_token, False, Tally())
    await probe.open(stream_port)
    await asyncio.wait_for(probe.connected.wait(), 30)
    await probe.close()


async def post_comments(args: argparse.Namespace, port: int, world: World, tally: Tally, label: str) -> float:
    """``--comments`` comments at ``--rate`` a second on ``--post-concurrency`` kept-alive connections, comment
    i on pupil i mod P (its guardian is account i mod P). Returns when the last POST was sent."""
    conns = [Connection(HOST, port) for _ in range(args.post_concurrency)]
    order = iter(range(args.comments))
    start = time.perf_counter() + 0.1
    last_sent = [start]

    async def worker(conn: Connection) -> None:
        for i in order:
            delay = start + i / args.rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            p = i % len(world.pupils)
            text = f"{label} 点评{i} 今天搭的机器人会转弯了 {secrets.token_hex(4)}"
            tally.guardian_of[text] = p
            t0 = time.perf_counter()
            tally.sent[text] = t0
            last_sent[0] = max(last_sent[0], t0)
            try:
                status, body = await post_comment(conn, world, world.pupils[p], text)
            except HttpError as exc:
                status, body = 0, {"error": {"code": str(exc)}}
            tally.post_ms.append((time.perf_counter() - t0) * 1000)
            if status != 201:
                code = f"{status}:{(body or {}).get('error', {}).get('code', '')}" if isinstance(body, dict) else "?"
                tally.post_errors[code] = tally.post_errors.get(code, 0) + 1
                tally.sent.pop(text)

    try:
        await asyncio.gather(*(worker(c) for c in conns))
    finally:
        for c in conns:
            await c.close()
    return last_sent[0]


# --- one phase -------------------------------------------------------------------------------------------------


def quantiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": 0.0, "p95": 0.0, "max": 0.0}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {"p50": at(0.50), "p95": at(0.95), "max": round(ordered[-1], 1)}


async def phase(args: argparse.Namespace, world: World, post: Server, streams_on: Server, label: str) -> dict[str, Any]:
    servers = [post] if post is streams_on else [post, streams_on]
    for s in servers:
        await wait_ready(s.port, world.teacher_token, s.proc, where=str(s.log))
    await warm_up(post.port, streams_on.port, world, label)
    await asyncio.sleep(1)
    rss_before = rss_kib(streams_on.pid)
    tally = Tally()
    t0 = time.perf_counter()
    streams, opened_ms, failed = await open_streams(streams_on.port, world, tally, args.batch, args.open_timeout)
    open_s = time.perf_counter() - t0
    streams = [s for s in streams if not s.ended]
    await asyncio.sleep(2)  # the last batch's threads and queries settle
    rss_after = rss_kib(streams_on.pid)
    cpu_before = [cpu_seconds(s.pid) for s in servers]
    try:
        last_sent = await post_comments(args, post.port, world, tally, label)
        deadline = last_sent + args.lost_after
        while time.perf_counter() < deadline and len(tally.arrived) < len(tally.sent):
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # a duplicate or a misdelivery would come about as late as the last event
        cpu_after = [cpu_seconds(s.pid) for s in servers]
        dropped = sum(1 for s in streams if s.ended)
    finally:
        await close_streams(streams)
    delivery = []
    lost = 0
    for text, sent in tally.sent.items():
        at = tally.arrived.get(text)
        if at is None or at - sent > args.lost_after:
            lost += 1
        else:
            delivery.append((at - sent) * 1000)
    n = len(streams)
    return {
        "servers": len(servers),
        "streams_open": n,
        "streams_failed": failed,
        "streams_dropped": dropped,
        "open_s": round(open_s, 1),
        "open_ms": quantiles(opened_ms),
        "rss_before_kib": rss_before,
        "rss_after_kib": rss_after,
        "rss_per_stream_kib": round((rss_after - rss_before) / n, 1) if n else None,
        "comments_posted": len(tally.sent),
        "post_errors": tally.post_errors,
        "delivery_ms": quantiles(delivery),
        "post_ms": quantiles(tally.post_ms),
        "lost": lost,
        "duplicated": tally.duplicated,
        "misdelivered": tally.misdelivered,
        "idle_streams_hit": len(tally.idle_hit),
        "unexpected": tally.unexpected,
        "other_events": tally.other_events,
        "server_cpu_s": [round(a - b, 2) for a, b in zip(cpu_after, cpu_before, strict=True)],
    }


# --- main ------------------------------------------------------------------------------------------------------


def redis_cleanup(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    keys = list(client.scan_iter(match="kehou:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--streams", type=int, default=2000, help="parent accounts, each with a stream open")
    parser.add_argument("--pupils", type=int, default=40, help="pupils of the class; their guardians are parents")
    parser.add_argument("--comments", type=int, default=200, help="comments the teacher posts, per phase")
    parser.add_argument("--rate", type=float, default=10.0, help="comments sent per second")
    parser.add_argument("--post-concurrency", type=int, default=1, help="the teacher's connections")
    parser.add_argument("--batch", type=int, default=100, help="streams opened at a time")
    parser.add_argument("--open-timeout", type=float, default=60.0, help="seconds a stream may take to connect")
    parser.add_argument("--lost-after", type=float, default=5.0, help="seconds after which an event counts lost")
    parser.add_argument("--database-url", default="", help="PostgreSQL instead of SQLite (dropped and made)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--skip-redis", action="store_true", help="only the one-process phase")
    parser.add_argument("--max-concurrent-requests", default="16", help="KEHOU_MAX_CONCURRENT_REQUESTS")
    parser.add_argument("--poll-seconds", default="", help="KEHOU_EVENTS_POLL_SECONDS of the servers")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (database, server logs)")
    args = parser.parse_args()
    args.pupils = max(1, min(args.pupils, args.streams))

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = args.streams + 512
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(
            resource.RLIMIT_NOFILE, (wanted if hard == resource.RLIM_INFINITY else min(wanted, hard), hard)
        )

    tmp = tempfile.mkdtemp(prefix="kehou-bench-push-", dir="/tmp")
    for name in ("DATABASE_URL", "REDIS_URL", "SQLITE_PATH"):
        os.environ.pop(name, None)
    env = {
        "DJANGO_SETTINGS_MODULE": "kehou.settings.base",
        "LOG_LEVEL": "WARNING",
        "KEHOU_VAR_DIR": tmp,
        "KEHOU_MAX_CONCURRENT_REQUESTS": str(args.max_concurrent_requests),
    }
    if args.poll_seconds:
        env["KEHOU_EVENTS_POLL_SECONDS"] = args.poll_seconds
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
        pg_recreate(args.database_url)
    else:
        env["SQLITE_PATH"] = os.path.join(tmp, "push.sqlite3")
    os.environ.update(env)
    if not args.skip_redis:
        os.environ["REDIS_URL"] = args.redis_url  # the set-up's cache, as the servers' below
    servers: list[Server] = []
    result: dict[str, Any] = {
        "streams": args.streams,
        "pupils": args.pupils,
        "comments": args.comments,
        "rate_per_s": args.rate,
        "database": "postgresql" if args.database_url else "sqlite",
    }
    try:
        t0 = time.perf_counter()
        world = seed(args)
        result["seed_s"] = round(time.perf_counter() - t0, 1)
        base_env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}

        one = start_server(base_env, tmp, "one")
        servers.append(one)
        result["one_process"] = asyncio.run(phase(args, world, one, one, "单进程"))
        stop_server(one)

        if not args.skip_redis:
            redis_env = {**base_env, "REDIS_URL": args.redis_url}
            a, b = start_server(redis_env, tmp, "a"), start_server(redis_env, tmp, "b")
            servers += [a, b]
            result["two_processes_redis"] = asyncio.run(phase(args, world, a, b, "双进程"))
    finally:
        for s in servers:
            stop_server(s)
        if args.database_url and not args.keep:
            pg_recreate(args.database_url, drop_only=True)
        if not args.skip_redis:
            with contextlib.suppress(Exception):
                redis_cleanup(args.redis_url)
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
