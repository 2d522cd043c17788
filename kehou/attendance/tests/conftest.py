from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _builtin_statuses(request: pytest.FixtureRequest) -> Any:
    """A transactional test elsewhere on this worker flushes the tables, migration rows included: put them back."""
    if "django_db" in {m.name for m in request.node.iter_markers()} or "db" in request.fixturenames:
        request.getfixturevalue("db")
        from kehou.attendance.models import ensure_builtin_statuses

        ensure_builtin_statuses()
    yield
