"""Fixed-window rate limits kept in Django's cache (Redis when ``REDIS_URL`` is set, so shared by every server
process; the in-process cache in the embedded mode).

A limit is a list of rates such as ``"20/minute,200/hour"``. Windows are aligned to the clock the caller passes
(``now``), so tests move them with ``kehou.core.clock``. Counting is ``cache.add`` + ``cache.incr``, atomic on
both backends, so concurrent requests never slip past a limit together.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache

PERIODS = {"s": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        """``"20/minute"``, ``"5/10s"``: at most ``count`` events per period (second, minute, hour, day)."""
        count, _, period = text.strip().partition("/")
        number = "".join(ch for ch in period if ch.isdigit()) or "1"
        unit = period.strip().lstrip("0123456789").strip().lower()
        if unit not in PERIODS or not count.strip().isdigit():
            raise ValueError(f"not a rate: {text!r} (e.g. 20/minute)")
        return cls(int(count), int(number) * PERIODS[unit])


def rates(value: str | Iterable[str]) -> tuple[Rate, ...]:
    """A setting as rates: ``"20/minute,200/hour"`` or a list of such strings; empty means no limit."""
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(Rate.parse(item) for item in items if item.strip())


def address_key(ip: str | None) -> str | None:
    """The client an address stands for: itself (IPv4), its /64 network (IPv6: one host holds a whole /64)."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip[:64]
    if address.version == 6 and address.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address.ipv4_mapped or address) if address.version == 6 else str(address)


def _key(bucket: str, rate: Rate, now: datetime) -> tuple[str, int]:
    ts = int(now.timestamp())
    window = ts // rate.seconds
    return f"kehou:rl:{bucket}:{rate.seconds}:{window}", (window + 1) * rate.seconds - ts


def wait(bucket: str, limits: Sequence[Rate], *, now: datetime) -> int | None:
    """Seconds until ``bucket`` may be counted again when it has reached a limit, else None. Counts nothing."""
    waits = [left for rate in limits for key, left in [_key(bucket, rate, now)] if (cache.get(key) or 0) >= rate.count]
    return max(waits) if waits else None


def count(bucket: str, rate: Rate, *, now: datetime) -> int:
    """Count one event in the current window of ``rate``; how many there are now in it."""
    key = _key(bucket, rate, now)[0]
    cache.add(key, 0, timeout=rate.seconds + 60)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=rate.seconds + 60)
        return 1


def hit(bucket: str, limits: Sequence[Rate], *, now: datetime) -> int | None:
    """Count one event in every window of ``limits``; the seconds to wait when that went over one, else None."""
    waits = [_key(bucket, rate, now)[1] for rate in limits if count(bucket, rate, now=now) > rate.count]
    return max(waits) if waits else None


def clear(bucket: str, limits: Sequence[Rate], *, now: datetime) -> None:
    """Forget the current windows' counts of ``bucket``."""
    cache.delete_many([_key(bucket, rate, now)[0] for rate in limits])
