"""Per-request context (client address, request id) that services read when writing the audit log."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    client_ip: str | None = None
    request_id: str | None = None


_current: contextvars.ContextVar[RequestContext] = contextvars.ContextVar("kehou_request", default=RequestContext())


def current() -> RequestContext:
    return _current.get()


def activate(ctx: RequestContext) -> contextvars.Token[RequestContext]:
    return _current.set(ctx)


def reset(token: contextvars.Token[RequestContext]) -> None:
    _current.reset(token)
