"""The roll call's counts and the check-in travel live to whoever follows the session (``topic=session:<id>``);
someone who may not see the session cannot follow it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from kehou.attendance.services import checkin, rollcall
from kehou.conftest import City
from kehou.core import clock
from kehou.notify import events
from kehou.people.services import token_issue
from kehou.testing import asgi

from .factories import at_school, class_with_pupils, first_session, start_of

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sqlite_threads")]


def _app() -> Any:
    from kehou.asgi import application

    return application


def test_the_school_follows_a_sessions_counts_live_and_a_stranger_cannot(
    city: City, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kehou.attendance.models import ensure_builtin_statuses

    ensure_builtin_statuses()
    teacher = city.users["teacher"]
    cls, pupils = class_with_pupils(city.a1, 3, teacher=teacher.teacher_profile)
    session = first_session(cls)
    now = start_of(session, 3)
    monkeypatch.setattr("kehou.core.clock.now", lambda: now)
    school = token_issue(user=city.users["school_admin"], now=now).raw
    stranger = token_issue(user=city.users["nobody"], now=now).raw
    topic = f"topic=session:{session.pk}"

    def mark() -> None:
        checkin.check_in(actor=teacher, session=session, now=clock.now(), **at_school(city.a1))
        rollcall.roll_call_mark(
            actor=teacher, session=session, marks=[{"pupil": pupils[0].pk, "status": "absent"}], now=clock.now()
        )

    async def go() -> None:
        denied = asgi.start(_app(), events.PATH, headers={"Authorization": f"Bearer {stranger}"}, query=topic)
        await asyncio.wait_for(denied.done.wait(), 5)
        assert denied.status == 404
        follower = asgi.start(_app(), events.PATH, headers={"Authorization": f"Bearer {school}"}, query=topic)
        await follower.wait_for(": connected")
        await sync_to_async(mark)()
        await follower.wait_for('"roll_call"')
        await follower.finish()
        frames = [json.loads(line[6:]) for line in follower.text.splitlines() if line.startswith("data: ")]
        kinds = [f["kind"] for f in frames]
        assert "check_in" in kinds and "roll_call" in kinds
        counts = [f for f in frames if f["kind"] == "roll_call"][-1]
        assert (counts["expected"], counts["absent"], counts["unmarked"]) == (3, 1, 2)
        assert counts["topic"] == f"session:{session.pk}"

    asyncio.run(go())
