"""Embedded mode: make sure a SQLite database file runs in WAL mode.

The journal mode is stored in the database file, so it is set once (the first connection that finds it otherwise)
rather than in every connection's init command: switching the journal mode needs a lock, and a new connection
that asks for it while another connection writes fails at once with "database is locked" (the busy timeout does
not cover it). Reading the mode takes no lock.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.signals import connection_created


def ensure_wal(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor != "sqlite" or connection.settings_dict["NAME"] in ("", ":memory:"):
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        row = cursor.fetchone()
        if row and str(row[0]).lower() not in ("wal", "memory"):
            cursor.execute("PRAGMA journal_mode=WAL")


def connect() -> None:
    connection_created.connect(ensure_wal, dispatch_uid="kehou.core.sqlite.ensure_wal")
