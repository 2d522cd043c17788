"""Issue 14: a notification whose timestamp no clock can hold (hundreds of digits) is rejected, recorded and
alerted like any forgery, never a 500; whatever a channel's adapter raises is recorded with a reason; a flood of
rejected notifications from one address (or from everywhere) is counted but not stored in full; the city bureau
gets one alert per channel and reason per quarter of an hour, which counts the rest."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db.models import Sum
from django.test import Client, override_settings

from kehou.conftest import City
from kehou.enrolment.tests.factories import NOW
from kehou.notify.models import Notification

from ..channels.simulator import SimulatorGateway
from ..models import ChannelNotification
from .factories import held_seat
from .test_api_notify import URL, paid_by_payer, send, state

pytestmark = pytest.mark.django_db
A, B = "203.0.113.5", "198.51.100.7"


@pytest.fixture(autouse=True)
def moment(monkeypatch: pytest.MonkeyPatch) -> dict[str, datetime]:
    at = {"now": NOW + timedelta(seconds=30)}
    monkeypatch.setattr("kehou.core.clock.now", lambda: at["now"])
    return at


def garbage(client: Client, size: int = 40_000) -> Any:
    return client.post(URL, data=b"x" * size, content_type="application/json")


def counted(**filters: Any) -> int:
    """Notifications received, those stored and those counted into a stored one."""
    rows = ChannelNotification.objects.filter(**filters)
    return rows.count() + (rows.aggregate(n=Sum("repeats"))["n"] or 0)


def alerts(city: City) -> list[Notification]:
    return list(Notification.objects.filter(user=city.users["city_admin"], kind="payment_alert").order_by("pk"))


# --- the timestamp ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "timestamp",
    ["9" * 400, "9" * 5000, "1" + "0" * 20, "²", "١٧٠٠٠٠٠٠٠٠", "１７００００００００", "-1", " 1", "1e9", "0x10"],
)
def test_a_timestamp_no_clock_can_hold_is_rejected_recorded_and_alerted(
    simulator: Any, city: City, timestamp: str
) -> None:
    seat = held_seat()
    _order, delivery = paid_by_payer(seat)
    headers, body = SimulatorGateway().signed(delivery, now=NOW + timedelta(seconds=20))
    headers["Wechatpay-Timestamp"] = timestamp
    before = state()

    response = send(Client(), headers, body)

    assert response.status_code == 400, response.content
    assert response.json() == {"code": "FAIL", "message": "rejected"}
    assert state() == before
    record = ChannelNotification.objects.get()
    assert (record.outcome, record.reason, record.alert, record.verified) == (
        "rejected",
        "stale_timestamp",
        True,
        False,
    )
    assert len(alerts(city)) == 1


def test_whatever_an_adapter_raises_is_recorded_with_a_reason_never_a_500(
    simulator: Any, city: City, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: Any, **kwargs: Any) -> Any:
        raise OverflowError("int too large to convert to float")

    monkeypatch.setattr(SimulatorGateway, "parse_notification", broken)
    held_seat()
    before = state()
    response = garbage(Client(), 100)
    assert response.status_code == 400
    assert state() == before
    record = ChannelNotification.objects.get()
    assert (record.outcome, record.reason, record.alert) == ("rejected", "unverifiable", True)
    assert len(alerts(city)) == 1


# --- the flood ----------------------------------------------------------------------------------------------------
@override_settings(KEHOU_NOTIFY_REJECTED_STORED_PER_ADDRESS=3)
def test_rejected_notifications_beyond_the_limit_of_an_address_are_counted_not_stored_in_full(
    simulator: Any, moment: dict[str, datetime]
) -> None:
    held_seat()
    before = state()
    flood = Client(REMOTE_ADDR=A)
    answers = [garbage(flood) for _ in range(50)]
    assert {a.status_code for a in answers} == {400}
    assert state() == before
    # Every notification is counted; three are stored as received, the rest in one truncated row
    assert counted(source_ip=A) == 50
    rows = list(ChannelNotification.objects.filter(source_ip=A).order_by("pk"))
    assert len(rows) == 4
    assert [len(r.body) for r in rows[:3]] == [20000] * 3 and not any(r.truncated for r in rows[:3])
    summary = rows[3]
    assert summary.truncated and summary.repeats == 46 and len(summary.body) <= 1024
    assert all(len(v) <= 200 for v in summary.headers.values()) and len(summary.headers) <= 10
    assert summary.reason == rows[0].reason and summary.outcome == "rejected"
    # Another address is not affected; a minute later the first one is stored in full again
    garbage(Client(REMOTE_ADDR=B))
    assert not ChannelNotification.objects.get(source_ip=B).truncated
    moment["now"] += timedelta(seconds=61)
    garbage(flood)
    assert ChannelNotification.objects.filter(source_ip=A).count() == 5
    assert not ChannelNotification.objects.filter(source_ip=A).order_by("-pk").first().truncated


@override_settings(KEHOU_NOTIFY_REJECTED_STORED_PER_ADDRESS=100, KEHOU_NOTIFY_REJECTED_STORED_OVERALL=5)
def test_a_flood_from_many_addresses_is_bounded_too(simulator: Any) -> None:
    held_seat()
    for i in range(40):
        garbage(Client(REMOTE_ADDR=f"203.0.113.{i + 1}"))
    assert counted() == 40
    assert ChannelNotification.objects.count() == 6
    assert ChannelNotification.objects.filter(truncated=True).count() == 1


def test_a_signed_notification_from_a_flooding_address_is_still_applied_and_stored(
    simulator: Any, settings: Any
) -> None:
    settings.KEHOU_NOTIFY_REJECTED_STORED_PER_ADDRESS = 2
    seat = held_seat()
    order, delivery = paid_by_payer(seat)
    client = Client(REMOTE_ADDR=A)
    for _ in range(10):
        garbage(client)
    headers, body = SimulatorGateway().signed(delivery, now=NOW + timedelta(seconds=20))
    assert send(client, headers, body).status_code == 204
    applied = ChannelNotification.objects.get(outcome="applied")
    assert applied.order_id == order.pk and not applied.truncated and applied.source_ip == A


# --- the alerts ---------------------------------------------------------------------------------------------------
def test_alerts_are_coalesced_per_channel_and_reason_and_count_the_rest(
    simulator: Any, city: City, moment: dict[str, datetime]
) -> None:
    held_seat()
    for i in range(30):
        garbage(Client(REMOTE_ADDR=f"203.0.113.{i % 3 + 1}"))
    assert len(alerts(city)) == 1
    first = alerts(city)[0]
    assert "+29" in first.body  # the 29 others are counted in the one alert
    # Another reason is alerted on its own: a real alert is never buried under a flood
    headers = {
        "Wechatpay-Serial": "0" * 40,
        "Wechatpay-Timestamp": "1",
        "Wechatpay-Nonce": "n",
        "Wechatpay-Signature": "s",
    }
    send(Client(REMOTE_ADDR=B), headers, b"{}")
    assert len(alerts(city)) == 2 and "unknown_serial" in alerts(city)[1].title
    # A quarter of an hour later the flood raises a new alert
    moment["now"] += timedelta(minutes=15, seconds=1)
    garbage(Client(REMOTE_ADDR=A))
    assert len(alerts(city)) == 3
