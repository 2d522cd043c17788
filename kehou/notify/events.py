"""The live event channel: one stream per account (``GET /api/v1/events/``, Server-Sent Events).

Two kinds of event travel on it:

* **An account's own events** (a comment on one's child, an absence notice, a notification): written by
  :func:`publish` as :class:`~kehou.notify.models.Event` rows in the caller's transaction, numbered per account
  (the number is the SSE ``id``), kept ``KEHOU_EVENTS["RETENTION_DAYS"]`` days. A stream that drops resumes with
  ``Last-Event-ID`` and is given every event after that number: none is lost, none is given twice. The numbers are
  taken under a lock on the account's counter row (``EventSeq``) that holds until the transaction commits, so an
  account's events become visible in number order and a resumed stream can never skip one committed late.
* **Topic events** (a roll call's live counts): :func:`broadcast` sends them, after the commit, to the streams that
  asked for the topic (``?topic=session:<id>``) and were allowed to see it by the topic's owner
  (:func:`register_topic`, registered by the app that owns the object). They are not stored: they carry state that
  a page re-reads when its stream (re)connects.

Delivery. Each server process keeps one :class:`Hub` in its event loop, with the streams open in it. After a
commit the writer wakes the streams of its own process directly and, when ``REDIS_URL`` is set, publishes one
message on Redis that every process's hub subscribes to. A hub also polls the event table every
``POLL_SECONDS`` (one query per process, not per stream): that is how events written by another process reach the
streams when there is no Redis (the embedded mode: the task worker writes, the server streams), and a safety net
when a Redis message is lost. A woken stream reads its account's events after the number it last sent (one query).

The stream itself is a small ASGI application (:class:`EventStreamApp`) that ``kehou.asgi`` routes in front of
Django: an idle stream costs a coroutine and a few objects, not a thread. It authenticates once, by the session
cookie or a bearer token, through the project's own authentication classes. Under WSGI (and Django's test client)
the same path is served by a Django view that sends what is waiting and ends (``EventSource`` reconnects by itself).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from kehou.core.error_codes import ErrorCode

from .models import Event

log = logging.getLogger("kehou.events")

PATH = "/api/v1/events/"
REDIS_CHANNEL = "kehou:events"  # + ":<database number>": pub/sub ignores the number, deployments sharing a Redis don't
MAX_TOPICS = 5
TOPIC_RE = re.compile(r"^([a-z_]{1,20}):([1-9][0-9]{0,17})$")
POLL_LOOKBACK = 200  # event rows the poll looks back over for transactions that committed out of row order
TOPIC_QUEUE = 50  # topic events kept for a slow stream; older ones are dropped (they carry state, re-read later)

TopicCheck = Callable[[int, int], bool]  # (user id, object id) → may this account follow the topic?
_topics: dict[str, TopicCheck] = {}


def rules() -> dict[str, Any]:
    return dict(settings.KEHOU_EVENTS)


def register_topic(kind: str, check: TopicCheck) -> None:
    """An app that owns objects of ``kind`` says who may follow ``<kind>:<id>`` (called from its ``ready()``)."""
    _topics[kind] = check


# --- writing ------------------------------------------------------------------------------------------------------
def _take_numbers(user_id: int, n: int) -> int:
    """Reserve ``n`` numbers for an account; returns the last. Locks the counter row until the commit."""
    table = "notify_eventseq"
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {table} (user_id, seq) VALUES (%s, %s) "  # noqa: S608 (constant table name)
            f"ON CONFLICT (user_id) DO UPDATE SET seq = {table}.seq + EXCLUDED.seq RETURNING seq",
            [user_id, n],
        )
        return int(cur.fetchone()[0])


def publish(*, user_ids: Iterable[int], kind: str, data: dict[str, Any], now: datetime) -> list[Event]:
    """An event for each account, in the caller's transaction; the streams hear of it once that commits.
    ``data`` is JSON; its ``kind`` is set to ``kind``."""
    payload = {**data, "kind": kind}
    ids = sorted({int(u) for u in user_ids if u})
    if not ids:
        return []
    rows: list[Event] = []
    with transaction.atomic():
        for uid in ids:  # in id order: two writers for the same accounts lock them in the same order
            seq = _take_numbers(uid, 1)
            rows.append(Event(user_id=uid, seq=seq, kind=kind, data=payload, created_at=now))
        Event.objects.bulk_create(rows)
        transaction.on_commit(lambda: announce(ids))
    return rows


def broadcast(topic: str, data: dict[str, Any]) -> None:
    """A topic event for whoever follows ``topic``, sent once the caller's transaction commits (not stored)."""
    transaction.on_commit(lambda: _broadcast_now(topic, data))


def _broadcast_now(topic: str, data: dict[str, Any]) -> None:
    payload = {**data, "topic": topic}
    hub.from_thread(lambda: hub.topic_event(topic, payload))
    _redis_publish({"t": topic, "d": payload})


def announce(user_ids: list[int]) -> None:
    """Wake the streams of these accounts, here and (through Redis) in every other process."""
    hub.from_thread(lambda: hub.wake_users(user_ids))
    _redis_publish({"u": user_ids})


def redis_channel(url: str) -> str:
    from urllib.parse import urlparse

    return f"{REDIS_CHANNEL}:{urlparse(url).path.strip('/') or '0'}"


@cache
def _redis_client(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def _redis_publish(message: dict[str, Any]) -> None:
    url = getattr(settings, "REDIS_URL", "")
    if not url:
        return
    try:
        _redis_client(url).publish(redis_channel(url), json.dumps(message, ensure_ascii=False))
    except Exception:  # the hubs' poll delivers the events anyway, a moment later
        log.warning("Could not publish an event on Redis; the streams' poll will deliver it", exc_info=True)


# --- reading ------------------------------------------------------------------------------------------------------
def events_after(user_id: int, seq: int, limit: int) -> list[tuple[int, str]]:
    """(number, SSE data) of the account's events after ``seq``, oldest first."""
    rows = Event.objects.filter(user_id=user_id, seq__gt=seq).order_by("seq").values_list("seq", "data")[:limit]
    return [(s, json.dumps(d, ensure_ascii=False, separators=(",", ":"))) for s, d in rows]


def last_number(user_id: int) -> int:
    from .models import EventSeq

    return EventSeq.objects.filter(user_id=user_id).values_list("seq", flat=True).first() or 0


def recent_numbers(after_id: int, limit: int = 5000) -> list[tuple[int, int, int]]:
    """(row id, account, number) of the events written after row ``after_id``."""
    return list(Event.objects.filter(pk__gt=after_id).order_by("pk").values_list("pk", "user_id", "seq")[:limit])


def last_row_id() -> int:
    return Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def purge(*, now: datetime) -> int:
    """Events older than the retention period are deleted (the counters stay: numbers are never reused)."""
    cutoff = now - timedelta(days=int(rules()["RETENTION_DAYS"]))
    deleted, _detail = Event.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def _reset_broken_connections() -> None:
    """The stream's reads run on a few shared executor threads, each keeping its database connection open between
    reads (no request cycle closes it); one that failed is closed so that the next read opens a fresh one."""
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        if conn.connection is not None and conn.errors_occurred and not conn.is_usable():
            conn.close()


def frame(seq: int | None, data: str) -> bytes:
    head = f"id: {seq}\n" if seq is not None else ""
    return f"{head}data: {data}\n\n".encode()


# --- who is asking ------------------------------------------------------------------------------------------------
class StreamError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class StreamRequest:
    user_id: int
    after: int | None  # the number to resume after; None: from now
    topics: list[str]
    now_at: int = 0  # the account's last number when the stream opened (where a stream "from now" starts)


def parse_stream_params(
    last_event_id: str | None, topics: list[str], *, query_last_event_id: str | None = None
) -> tuple[int | None, list[str]]:
    """The resume point and the topics. The ``Last-Event-ID`` header (what a browser sends back) must be an event
    number; the ``last_event_id`` query parameter follows the house rule for query filters (anything but digits:
    no resume point; digits beyond 64 bits: 400)."""
    after: int | None = None
    if last_event_id not in (None, ""):
        text = str(last_event_id).strip()
        if not (text.isascii() and text.isdigit()) or int(text) > 2**63 - 1:
            raise StreamError(400, ErrorCode.EVENT_ID_INVALID, _("Last-Event-ID is not an event number."))
        after = int(text)
    elif query_last_event_id:
        text = query_last_event_id.strip()
        if text.isascii() and text.isdigit():
            if int(text) > 2**63 - 1:
                raise StreamError(400, ErrorCode.EVENT_ID_INVALID, _("Last-Event-ID is not an event number."))
            after = int(text)
    wanted = [t for t in dict.fromkeys(topics) if t]
    if len(wanted) > MAX_TOPICS:
        raise StreamError(400, ErrorCode.TOPIC_INVALID, _("At most five topics."))
    for t in wanted:
        m = TOPIC_RE.match(t)
        if m is None or m.group(1) not in _topics:
            raise StreamError(400, ErrorCode.TOPIC_INVALID, _("Unknown topic %(topic)s.") % {"topic": t[:40]})
    return after, wanted


def allowed_topics(user_id: int, topics: list[str]) -> None:
    for t in topics:
        m = TOPIC_RE.match(t)
        assert m is not None
        if not _topics[m.group(1)](user_id, int(m.group(2))):
            raise StreamError(404, ErrorCode.NOT_FOUND, _("Not found."))


def authenticate(cookie: str, authorization: str) -> int:
    """The account behind a session cookie or a bearer token (the project's own authentication classes), or a
    401 :class:`StreamError`."""
    from django.contrib.auth import get_user
    from django.http import HttpRequest, parse_cookie
    from django.utils.module_loading import import_string
    from rest_framework.authentication import SessionAuthentication
    from rest_framework.exceptions import APIException
    from rest_framework.request import Request
    from rest_framework.settings import api_settings

    request = HttpRequest()
    request.method = "GET"
    request.META["HTTP_AUTHORIZATION"] = authorization
    if authorization:
        for cls in api_settings.DEFAULT_AUTHENTICATION_CLASSES:
            auth_class = import_string(cls) if isinstance(cls, str) else cls
            if issubclass(auth_class, SessionAuthentication):
                continue
            try:
                found = auth_class().authenticate(Request(request))
            except APIException as exc:
                codes = exc.get_codes()
                raise StreamError(401, str(codes if isinstance(codes, str) else "token_invalid"), str(exc.detail))
            if found is not None:
                return int(found[0].pk)
    key = parse_cookie(cookie).get(settings.SESSION_COOKIE_NAME, "")
    if key:
        from importlib import import_module

        request.session = import_module(settings.SESSION_ENGINE).SessionStore(key)
        user = get_user(request)
        if user.is_authenticated and user.is_active:
            return int(user.pk)
    raise StreamError(401, ErrorCode.NOT_AUTHENTICATED, _("Log in to receive live updates."))


def open_stream(
    cookie: str, authorization: str, last_event_id: str | None, topics: list[str], query_last_event_id: str | None
) -> StreamRequest:
    after, wanted = parse_stream_params(last_event_id, topics, query_last_event_id=query_last_event_id)
    user_id = authenticate(cookie, authorization)
    allowed_topics(user_id, wanted)
    return StreamRequest(
        user_id=user_id, after=after, topics=wanted, now_at=last_number(user_id) if after is None else 0
    )


# --- the hub ------------------------------------------------------------------------------------------------------
@dataclass(eq=False)
class Listener:
    user_id: int
    topics: list[str]
    cursor: int = 0
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    topic_items: deque[str] = field(default_factory=lambda: deque(maxlen=TOPIC_QUEUE))


class Hub:
    """The open streams of this process, woken by writers here, by Redis, and by the poll."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.users: dict[int, set[Listener]] = {}
        self.topics: dict[str, set[Listener]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._start: asyncio.Future[int] | None = None

    # called from any thread
    def from_thread(self, fn: Callable[[], None]) -> None:
        loop = self.loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(fn)

    # the rest runs in the hub's loop
    def attach(self, listener: Listener) -> None:
        loop = asyncio.get_running_loop()
        if self.loop is not loop:  # first stream of this loop (a server process has one; tests make several)
            self.loop = loop
            self.users, self.topics = {}, {}
            self._start = loop.create_future()
            self._tasks = [loop.create_task(self._poll(self._start))]
            if getattr(settings, "REDIS_URL", ""):
                self._tasks.append(loop.create_task(self._subscribe(settings.REDIS_URL)))
        self.users.setdefault(listener.user_id, set()).add(listener)
        for t in listener.topics:
            self.topics.setdefault(t, set()).add(listener)

    def detach(self, listener: Listener) -> None:
        group = self.users.get(listener.user_id)
        if group is not None:
            group.discard(listener)
            if not group:
                del self.users[listener.user_id]
        for t in listener.topics:
            followers = self.topics.get(t)
            if followers is not None:
                followers.discard(listener)
                if not followers:
                    del self.topics[t]

    @property
    def streams(self) -> int:
        return sum(len(g) for g in self.users.values())

    def wake_users(self, user_ids: Iterable[int], numbers: dict[int, int] | None = None) -> None:
        for uid in user_ids:
            for listener in self.users.get(uid, ()):
                if numbers is None or numbers.get(uid, 0) > listener.cursor:
                    listener.wake.set()

    def topic_event(self, topic: str, payload: dict[str, Any]) -> None:
        data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        for listener in self.topics.get(topic, ()):
            listener.topic_items.append(data)
            listener.wake.set()

    async def ready(self) -> None:
        """Wait until the poll knows where the event table stands (before a stream reads its own position)."""
        if self._start is not None:
            await asyncio.shield(self._start)

    async def _poll(self, start: asyncio.Future[int]) -> None:
        """Events written by other processes (the task worker; another server without Redis). Each round reads the
        rows after the last one seen, looking back ``POLL_LOOKBACK`` rows for a transaction that took its row id
        earlier and committed later; a stream is woken only for a number beyond the one it has sent."""
        try:
            seen = await sync_to_async(last_row_id, thread_sensitive=False)()
        except Exception:
            seen = 0
        start.set_result(seen)
        while True:
            await asyncio.sleep(float(rules()["POLL_SECONDS"]))
            if not self.users:
                continue
            try:
                rows = await sync_to_async(recent_numbers, thread_sensitive=False)(max(0, seen - POLL_LOOKBACK))
            except Exception:
                log.warning("The event poll failed; trying again", exc_info=True)
                continue
            numbers: dict[int, int] = {}
            for pk, uid, seq in rows:
                seen = max(seen, pk)
                numbers[uid] = max(numbers.get(uid, 0), seq)
            if numbers:
                self.wake_users(numbers, numbers)

    async def _subscribe(self, url: str) -> None:
        import redis.asyncio as aredis

        while True:
            try:
                client = aredis.Redis.from_url(url)
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                await pubsub.subscribe(redis_channel(url))
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    try:
                        body = json.loads(message["data"])
                    except (ValueError, TypeError):
                        continue
                    if "u" in body:
                        self.wake_users([int(u) for u in body["u"]])
                    elif "t" in body:
                        self.topic_event(str(body["t"]), body.get("d") or {})
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("Lost the Redis event subscription; subscribing again in 1 s", exc_info=True)
                await asyncio.sleep(1)


hub = Hub()


async def event_frames(request: StreamRequest, stop: asyncio.Event) -> AsyncIterator[bytes]:
    """The stream's bytes: a retry hint, the events after the resume point, then each new one as it comes, with a
    heartbeat comment when nothing happened for ``HEARTBEAT_SECONDS``. Ends when ``stop`` is set."""
    conf = rules()
    heartbeat, batch = float(conf["HEARTBEAT_SECONDS"]), int(conf["REPLAY_MAX"])
    # A stream ends after MAX_SECONDS and the client reconnects (resuming after its last event): the credentials are
    # checked again, so a logged-out session or a revoked token stops receiving within that time.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + float(conf["MAX_SECONDS"])
    listener = Listener(user_id=request.user_id, topics=request.topics)
    hub.attach(listener)
    try:
        await hub.ready()
        yield f"retry: {int(conf['RETRY_MS'])}\n\n".encode()
        if request.after is None:
            # read before the listener was attached: a wake for anything after it is set and read below
            listener.cursor = request.now_at
            listener.wake.set()
            yield b": connected\n\n"
        else:
            listener.cursor = request.after
            listener.wake.set()
        while not stop.is_set() and loop.time() < deadline:
            if listener.wake.is_set():
                listener.wake.clear()
                while listener.topic_items:
                    yield frame(None, listener.topic_items.popleft())
                while True:
                    rows = await sync_to_async(events_after, thread_sensitive=False)(
                        request.user_id, listener.cursor, batch
                    )
                    for seq, data in rows:
                        listener.cursor = seq
                        yield frame(seq, data)
                    if len(rows) < batch:
                        break
                continue
            waker = asyncio.ensure_future(listener.wake.wait())
            stopper = asyncio.ensure_future(stop.wait())
            wait = max(0.0, min(heartbeat, deadline - loop.time()))
            done, pending = await asyncio.wait({waker, stopper}, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
            for p in pending:
                p.cancel()
            if not done and loop.time() < deadline:
                yield b": heartbeat\n\n"
    finally:
        hub.detach(listener)


# --- the ASGI application -----------------------------------------------------------------------------------------
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

STREAM_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-store"),
    (b"x-accel-buffering", b"no"),
    (b"x-content-type-options", b"nosniff"),
]


def _language(accept: str) -> str:
    from django.utils.translation.trans_real import get_supported_language_variant, parse_accept_lang_header

    for lang, _q in parse_accept_lang_header(accept):
        if lang == "*":
            break
        try:
            return get_supported_language_variant(lang)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


class EventStreamApp:
    """``GET /api/v1/events/`` under ASGI: authenticate once, then stream until the client goes."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if scope.get("method") not in ("GET", "HEAD"):
            await self._error(
                send,
                StreamError(405, ErrorCode.METHOD_NOT_ALLOWED, "The event stream answers GET only."),
                allow=True,
            )
            return
        from urllib.parse import parse_qs

        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        try:
            request = await sync_to_async(self._open, thread_sensitive=False)(
                headers.get("cookie", ""),
                headers.get("authorization", ""),
                (headers.get("last-event-id"), (query.get("last_event_id") or [None])[0]),
                query.get("topic", []),
                headers.get("accept-language", ""),
            )
        except StreamError as err:
            await self._error(send, err)
            return
        await send({"type": "http.response.start", "status": 200, "headers": STREAM_HEADERS})
        if scope.get("method") == "HEAD":
            await send({"type": "http.response.body", "body": b""})
            return
        stop = asyncio.Event()

        async def watch() -> None:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    stop.set()
                    return

        watcher = asyncio.ensure_future(watch())
        try:
            async for chunk in event_frames(request, stop):
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        except OSError:  # the client went while we wrote
            pass
        finally:
            watcher.cancel()

    @staticmethod
    def _open(
        cookie: str, authorization: str, last: tuple[str | None, str | None], topics: list[str], accept: str
    ) -> StreamRequest:
        with translation.override(_language(accept)):
            try:
                return open_stream(cookie, authorization, last[0], topics, last[1])
            finally:
                _reset_broken_connections()

    @staticmethod
    async def _error(send: Send, err: StreamError, allow: bool = False) -> None:
        from kehou.core.errors import error_body

        body = json.dumps(error_body(err.code, err.message), ensure_ascii=False).encode()
        out = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]
        if err.status == 401:
            out.append((b"www-authenticate", b'Bearer realm="kehou"'))
        if allow:
            out.append((b"allow", b"GET, HEAD"))
        await send({"type": "http.response.start", "status": err.status, "headers": out})
        await send({"type": "http.response.body", "body": body})
