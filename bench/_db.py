"""What the benchmarks share about their databases."""

from __future__ import annotations


def pg_recreate(admin_url: str, name: str, drop_only: bool = False) -> None:
    """Drop the PostgreSQL database ``name`` (connected through ``admin_url``) and, unless ``drop_only``, make it
    again, empty."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')
