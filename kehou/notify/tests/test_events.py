"""The live event channel: numbering, the ASGI stream (auth, live delivery, resume, heartbeats, the poll, Redis),
and the WSGI fallback of the same path."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import transaction
from django.test import Client, override_settings

from kehou.core import clock
from kehou.notify import events
from kehou.notify.models import Event, EventSeq
from kehou.people.services import token_issue
from kehou.testing import asgi
from kehou.testing.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _app() -> Any:
    from kehou.asgi import application

    return application


def _publish(user_id: int, text: str, **extra: Any) -> None:
    events.publish(user_ids=[user_id], kind="comment", data={"text": text, **extra}, now=clock.now())


def _frames(text: str) -> list[dict[str, Any]]:
    """The data frames of a stream, with their ids."""
    out = []
    for block in text.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "data" in lines:
            out.append({"id": lines.get("id"), **json.loads(lines["data"])})
    return out


def test_numbers_are_per_account_and_in_commit_order() -> None:
    a, b = UserFactory(), UserFactory()
    _publish(a.pk, "一")
    _publish(b.pk, "二")
    _publish(a.pk, "三")
    assert list(Event.objects.filter(user=a).order_by("seq").values_list("seq", flat=True)) == [1, 2]
    assert list(Event.objects.filter(user=b).values_list("seq", flat=True)) == [1]
    assert EventSeq.objects.get(user=a).seq == 2
    assert [json.loads(d)["text"] for _s, d in events.events_after(a.pk, 0, 10)] == ["一", "三"]
    assert [s for s, _d in events.events_after(a.pk, 1, 10)] == [2]


def test_an_event_rolled_back_is_never_seen_and_its_number_not_reused_by_a_gap() -> None:
    a = UserFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        _publish(a.pk, "作废")
        raise RuntimeError
    _publish(a.pk, "有效")
    assert [(s, json.loads(d)["text"]) for s, d in events.events_after(a.pk, 0, 10)] == [(1, "有效")]


def test_stream_needs_a_login_and_refuses_bad_resume_points_and_topics() -> None:
    user = UserFactory()
    token = token_issue(user=user, now=clock.now()).raw

    async def go() -> None:
        anon = asgi.start(_app(), events.PATH)
        await asyncio.wait_for(anon.done.wait(), 5)
        assert anon.status == 401 and json.loads(anon.text)["error"]["code"] == "not_authenticated"
        bad = asgi.start(_app(), events.PATH, headers={"Authorization": "Bearer kh_nope"})
        await asyncio.wait_for(bad.done.wait(), 5)
        assert bad.status == 401 and json.loads(bad.text)["error"]["code"] == "token_invalid"
        for headers, query, code in [
            ({"Last-Event-ID": "abc"}, "", "event_id_invalid"),
            ({}, "last_event_id=99999999999999999999", "event_id_invalid"),
            ({}, "topic=nothing:1", "topic_invalid"),
            ({}, "topic=session:x", "topic_invalid"),
        ]:
            call = asgi.start(_app(), events.PATH, headers={"Authorization": f"Bearer {token}", **headers}, query=query)
            await asyncio.wait_for(call.done.wait(), 5)
            assert call.status == 400 and json.loads(call.text)["error"]["code"] == code, (headers, query, call.text)
        post = asgi.start(_app(), events.PATH, headers={"Authorization": f"Bearer {token}"}, method="POST")
        await asyncio.wait_for(post.done.wait(), 5)
        assert post.status == 405

    asyncio.run(go())
    assert Event.objects.count() == 0


def test_live_delivery_resume_and_heartbeat_over_bearer_and_session() -> None:
    parent, other = UserFactory(), UserFactory()
    token = token_issue(user=parent, now=clock.now()).raw
    client = Client()
    client.force_login(parent)
    cookie = f"sessionid={client.cookies['sessionid'].value}"

    async def go() -> None:
        bearer = asgi.start(_app(), events.PATH, headers={"Authorization": f"Bearer {token}"})
        session = asgi.start(_app(), events.PATH, headers={"Cookie": cookie})
        await bearer.wait_for(": connected")
        await session.wait_for(": connected")
        assert bearer.headers["content-type"].startswith("text/event-stream")
        await sync_to_async(_publish)(parent.pk, "认真听讲", pupil=7)
        await sync_to_async(_publish)(other.pk, "别人的孩子")
        await bearer.wait_for("认真听讲")
        await session.wait_for("认真听讲")
        await bearer.finish()
        # while the stream is away, two more arrive; resuming after the first loses none and repeats none
        await sync_to_async(_publish)(parent.pk, "第二条")
        await sync_to_async(_publish)(parent.pk, "第三条")
        first = _frames(bearer.text)[0]
        assert first["kind"] == "comment" and first["pupil"] == 7 and first["id"] == "1"
        again = asgi.start(
            _app(), events.PATH, headers={"Authorization": f"Bearer {token}", "Last-Event-ID": first["id"]}
        )
        await again.wait_for("第三条")
        await session.wait_for("第三条")
        with override_settings(KEHOU_EVENTS={**events.rules(), "HEARTBEAT_SECONDS": 0.2}):
            beat = asgi.start(_app(), events.PATH, headers={"Authorization": f"Bearer {token}"})
            await beat.wait_for(": heartbeat")
            await beat.finish()
        await again.finish()
        await session.finish()
        assert [f["text"] for f in _frames(again.text)] == ["第二条", "第三条"]
        assert [f["text"] for f in _frames(session.text)] == ["认真听讲", "第二条", "第三条"]
        assert "别人的孩子" not in bearer.text + again.text + session.text
        assert events.hub.streams == 0

    asyncio.run(go())


def test_events_written_by_another_process_arrive_through_the_poll() -> None:
    """The task worker writes events in its own process: no in-process wake; the hub's poll finds them."""
    parent = UserFactory()
    token = token_issue(user=parent, now=clock.now()).raw

    def foreign_write() -> None:
        with transaction.atomic():
            seq = events._take_numbers(parent.pk, 1)
            Event.objects.create(
                user=parent, seq=seq, kind="notification", data={"kind": "notification"}, created_at=clock.now()
            )

    async def go() -> None:
        with override_settings(KEHOU_EVENTS={**events.rules(), "POLL_SECONDS": 0.1}, REDIS_URL=""):
            call = asgi.start(_app(), events.PATH, headers={"Authorization": f"Bearer {token}"})
            await call.wait_for(": connected")
            await sync_to_async(foreign_write)()
            await call.wait_for('"notification"')
            await call.finish()

    asyncio.run(go())


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL")
def test_redis_wakes_the_stream_of_another_process() -> None:
    """Another process publishes on Redis: the stream wakes at once (the poll is set far away)."""
    import redis

    parent = UserFactory()
    token = token_issue(user=parent, now=clock.now()).raw
    url = os.environ["REDIS_URL"]

    def foreign_write() -> None:
        with transaction.atomic():
            seq = events._take_numbers(parent.pk, 1)
            Event.objects.create(
                user=parent,
                seq=seq,
                kind="comment",
                data={"kind": "comment", "text": "经Redis"},
                created_at=clock.now(),
            )
        redis.Redis.from_url(url).publish(events.redis_channel(url), json.dumps({"u": [parent.pk]}))

    async def go() -> None:
        with override_settings(KEHOU_EVENTS={**events.rules(), "POLL_SECONDS": 3600}, REDIS_URL=url):
            call = asgi.start(_app(), events.PATH, headers={"Authorization": f"Bearer {token}"})
            await call.wait_for(": connected")
            await asyncio.sleep(0.3)  # the hub's subscription is made
            await sync_to_async(foreign_write)()
            await call.wait_for("经Redis", timeout=3)
            await call.finish()

    asyncio.run(go())


def test_wsgi_fallback_sends_what_is_waiting_and_ends() -> None:
    parent = UserFactory()
    client = Client()
    assert client.get(events.PATH).status_code == 401
    client.force_login(parent)
    _publish(parent.pk, "甲")
    _publish(parent.pk, "乙")
    response = client.get(events.PATH, HTTP_LAST_EVENT_ID="1", HTTP_ACCEPT="text/event-stream")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/event-stream")
    assert [f["text"] for f in _frames(response.content.decode())] == ["乙"]
    fresh = client.get(events.PATH)
    assert fresh.status_code == 200 and "data:" not in fresh.content.decode()
    assert "data:" not in client.get(events.PATH + "?last_event_id=x").content.decode()  # no resume point
    bad = client.get(events.PATH, HTTP_LAST_EVENT_ID="x")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "event_id_invalid"
    assert [f["text"] for f in _frames(client.get(events.PATH + "?last_event_id=0").content.decode())] == ["甲", "乙"]


def test_purge_keeps_recent_events_and_the_numbers() -> None:
    from datetime import timedelta

    parent = UserFactory()
    _publish(parent.pk, "旧")
    Event.objects.update(created_at=clock.now() - timedelta(days=30))
    _publish(parent.pk, "新")
    assert events.purge(now=clock.now()) == 1
    assert list(Event.objects.values_list("seq", flat=True)) == [2]
    _publish(parent.pk, "再")
    assert EventSeq.objects.get(user=parent).seq == 3


def test_a_stream_ends_after_its_time_and_a_revoked_token_cannot_reconnect() -> None:
    from kehou.people.models import ApiToken

    parent = UserFactory()
    issued = token_issue(user=parent, now=clock.now())

    async def go() -> None:
        with override_settings(KEHOU_EVENTS={**events.rules(), "MAX_SECONDS": 0.3}):
            call = asgi.start(_app(), events.PATH, headers={"Authorization": f"Bearer {issued.raw}"})
            await asyncio.wait_for(call.done.wait(), 5)  # ended by the server, not the client
            assert call.status == 200 and ": connected" in call.text
            await sync_to_async(ApiToken.objects.filter(pk=issued.token.pk).update)(revoked_at=clock.now())
            again = asgi.start(_app(), events.PATH, headers={"Authorization": f"Bearer {issued.raw}"})
            await asyncio.wait_for(again.done.wait(), 5)
            assert again.status == 401 and json.loads(again.text)["error"]["code"] == "token_revoked"

    asyncio.run(go())
