"""Settings: the embedded defaults and the production module."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[3]


def _run_check(extra_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL"}}
    env.update(extra_env)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_check_deploy_without_warnings(tmp_path):
    # Given real values for the secrets and hosts
    result = _run_check(
        {
            "DJANGO_SETTINGS_MODULE": "kehou.settings.production",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "kehou.example.cn",
            "KEHOU_VAR_DIR": str(tmp_path),
        }
    )
    # Then the deployment check reports no issue at all
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_settings_refuse_the_demo_secret(tmp_path):
    result = _run_check({"DJANGO_SETTINGS_MODULE": "kehou.settings.production", "KEHOU_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_embedded_sqlite_mode_uses_wal_immediate_and_busy_timeout():
    db = settings.DATABASES["default"]
    if not db["ENGINE"].endswith("sqlite3"):
        pytest.skip("this run is on PostgreSQL; the SQLite run checks the embedded mode")
    assert db["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "busy_timeout" in db["OPTIONS"]["init_command"]


def test_a_sqlite_database_file_is_switched_to_wal_once(tmp_path):
    import sqlite3
    from types import SimpleNamespace

    from kehou.core.sqlite import ensure_wal

    path = tmp_path / "kehou.sqlite3"
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "delete"

    class Wrapper(SimpleNamespace):
        def cursor(self):
            import contextlib

            @contextlib.contextmanager
            def cm():
                cur = raw.cursor()
                yield cur
                cur.close()

            return cm()

    ensure_wal(None, Wrapper(vendor="sqlite", settings_dict={"NAME": str(path)}))
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_production_hasher_is_argon2():
    from kehou.settings import base

    assert base.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
