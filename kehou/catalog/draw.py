"""The reproducible random draw of review panels.

Anyone can re-run a draw from what is published with the panel: its ``seed`` and its ``pool`` (the sorted ids of
the experts who were eligible). The order of the pool is the order of ``sha256("<seed>:<expert id>")`` as hex;
the panel is the first ``size`` experts of that order, and each expert who declines is replaced by the next one
in the same order. No language's random number generator is involved, so the result does not depend on Python.

    >>> draw_order("3f2a…", [4, 9, 17]) # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence


def new_seed() -> str:
    return secrets.token_hex(16)


def draw_key(seed: str, expert_id: int) -> str:
    return hashlib.sha256(f"{seed}:{expert_id}".encode()).hexdigest()


def draw_order(seed: str, pool: Iterable[int]) -> list[int]:
    """The whole pool in draw order."""
    return sorted(set(pool), key=lambda expert_id: (draw_key(seed, expert_id), expert_id))


def first(seed: str, pool: Iterable[int], size: int) -> list[int]:
    return draw_order(seed, pool)[:size]


def next_position(order: Sequence[int], used_positions: Iterable[int]) -> int | None:
    """The replacement for a decliner: the first position in the order not used yet."""
    used = set(used_positions)
    for position in range(len(order)):
        if position not in used:
            return position
    return None
