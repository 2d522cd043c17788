"""The simulator finishes a refund by itself, as a real channel does (issue 14): a refund it accepts succeeds a short
delay later, its notification is delivered by the scheduled task, its query says "processing" until then and what the
notification says after; the parent is told when the money is back, and when a refund failed or was rejected."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from kehou.core.jobs import run_inline
from kehou.enrolment.tests.factories import NOW, city_region, key, school_admin
from kehou.ledger.selectors import verify
from kehou.notify.models import Notification

from ..channels.base import RefundSubmitted
from ..channels.simulator import REFUND_DELAY, SimulatorGateway
from ..models import Order, Refund, SimulatorDelivery
from ..services.refunds import policy_set, refund_decide, refund_request, refunds_poll
from ..services.ticker import simulator_deliver
from .factories import Seat, held_seat, ordered, pay_with_simulator
from .test_refunds import after_sessions, city_admin

pytestmark = pytest.mark.django_db
DELIVER = "kehou.payments.tasks.deliver_simulator_notifications"


def paid() -> tuple[Seat, Order]:
    seat = held_seat(materials=500)
    order = ordered(seat, materials=True)
    pay_with_simulator(seat, order)
    order.refresh_from_db()
    assert order.status == "paid"
    return seat, order


def told(user: Any, kind: str) -> list[Notification]:
    return list(Notification.objects.filter(user=user, kind=kind))


def test_a_parents_refund_finishes_by_itself_through_the_scheduled_delivery(
    simulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a paid place, cancelled by the parent: the refund goes to the simulator and is with the channel
    seat, order = paid()
    refund, _created = refund_request(actor=seat.parent, order=order, request_key=key(), now=NOW)
    assert refund is not None and refund.status == "processing"
    clock = {"now": NOW + REFUND_DELAY - timedelta(seconds=1)}
    monkeypatch.setattr("kehou.core.clock.now", lambda: clock["now"])

    # When the scheduled delivery runs before the channel's delay has passed, nothing has happened yet
    run_inline(DELIVER)
    refund.refresh_from_db()
    assert refund.status == "processing" and not told(seat.parent, "refund_succeeded")

    # When it runs again once the delay has passed, without anyone telling the simulator anything
    clock["now"] = NOW + REFUND_DELAY
    assert run_inline(DELIVER) == {"notifications_delivered": 1}

    # Then the refund succeeded (through the signed notification), the parent is told, the ledger balances
    refund.refresh_from_db()
    assert refund.status == "succeeded" and refund.finished_at == NOW + REFUND_DELAY
    [note] = told(seat.parent, "refund_succeeded")
    assert note.link == f"/parent/orders/{order.pk}/"
    assert verify().balanced


def test_the_refund_query_says_processing_until_the_delay_then_succeeded(simulator: Any) -> None:
    seat, order = paid()
    refund, _created = refund_request(actor=seat.parent, order=order, request_key=key(), now=NOW)
    assert refund is not None
    sim = SimulatorGateway()
    trade = order.attempts.get(status="paid").out_trade_no

    early = sim.query_refund(out_refund_no=refund.refund_no, out_trade_no=trade, now=NOW + timedelta(seconds=59))
    assert early is not None and early.status == "processing"
    assert refunds_poll(now=NOW + timedelta(seconds=30)) == 0
    # The notification that will say so is lost on the way
    SimulatorDelivery.objects.filter(event_type__startswith="REFUND").update(delivered_at=NOW, answer="lost")

    late = sim.query_refund(out_refund_no=refund.refund_no, out_trade_no=trade, now=NOW + REFUND_DELAY)

    assert late is not None and late.status == "succeeded" and late.amount_fen == refund.amount_fen
    # The refunds poll finds it by the query, and the parent is told
    assert refunds_poll(now=NOW + REFUND_DELAY) == 1
    refund.refresh_from_db()
    assert refund.status == "succeeded" and len(told(seat.parent, "refund_succeeded")) == 1
    assert verify().balanced


def test_a_tiered_refund_the_school_approved_finishes_by_itself(simulator: Any) -> None:
    # Given a policy under which a refund after the start waits for the school, two sessions held
    policy_set(
        actor=city_admin(),
        region=city_region(),
        after_start="tiered",
        tiers=[{"held_upto": "0.5", "percent": "50"}],
        approval_after_start=True,
        now=NOW,
    )
    seat, order = paid()
    when = after_sessions(seat, 2)
    refund, _created = refund_request(actor=seat.parent, order=order, request_key=key(), now=when)
    assert refund is not None and refund.status == "pending_approval"

    # When the school approves, and the delay passes while the scheduled delivery runs
    approved = refund_decide(
        actor=school_admin(seat.school), refund=refund, approve=True, now=when + timedelta(hours=2)
    )
    assert approved.status == "processing"
    simulator_deliver(now=when + timedelta(hours=2) + REFUND_DELAY)

    # Then it is refunded, and the parent is told
    refund.refresh_from_db()
    assert refund.status == "succeeded" and refund.basis["rule"] == "tiered"
    assert len(told(seat.parent, "refund_succeeded")) == 1
    assert verify().balanced


def test_a_refund_the_channel_fails_says_so_in_its_query_and_tells_the_parent(simulator: Any) -> None:
    seat, order = paid()
    refund, _created = refund_request(actor=seat.parent, order=order, request_key=key(), now=NOW)
    assert refund is not None
    trade = order.attempts.get(status="paid").out_trade_no

    # The channel gives up on the refund before its usual time (WeChat's ABNORMAL)
    SimulatorGateway().settle_refund(out_refund_no=refund.refund_no, now=NOW + timedelta(seconds=20), scenario="fail")

    # Its query now says failed, and later still says failed (the planned success is not sent)
    for at in (NOW + timedelta(seconds=20), NOW + REFUND_DELAY * 3):
        event = SimulatorGateway().query_refund(out_refund_no=refund.refund_no, out_trade_no=trade, now=at)
        assert event is not None and event.status == "failed"
    assert simulator_deliver(now=NOW + REFUND_DELAY * 3) == 1
    refund.refresh_from_db()
    assert refund.status == "failed"
    assert not told(seat.parent, "refund_succeeded")
    [note] = told(seat.parent, "refund_failed")
    assert note.link == f"/parent/orders/{order.pk}/" and f"{refund.amount_fen / 100:.2f}" in note.body
    order.refresh_from_db()
    assert order.refunded_fen == 0 and verify().balanced


def test_a_refund_the_channel_answers_at_once_tells_the_parent_too(
    simulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A channel that answers a refund as done at once (Alipay's fund_change=Y)
    monkeypatch.setattr(
        SimulatorGateway, "refund", lambda self, **kw: RefundSubmitted(status="succeeded", channel_refund_id="R1")
    )
    seat, order = paid()
    refund, _created = refund_request(actor=seat.parent, order=order, request_key=key(), now=NOW)
    assert refund is not None and refund.status == "succeeded"
    assert len(told(seat.parent, "refund_succeeded")) == 1


def test_a_refund_the_school_rejects_tells_the_parent(simulator: Any) -> None:
    policy_set(actor=city_admin(), region=city_region(), after_start="pro_rata", approval_after_start=True, now=NOW)
    seat, order = paid()
    refund, _created = refund_request(actor=seat.parent, order=order, request_key=key(), now=after_sessions(seat, 2))
    assert refund is not None and refund.status == "pending_approval"
    refund_decide(actor=school_admin(seat.school), refund=refund, approve=False, now=after_sessions(seat, 3))
    assert Refund.objects.get(pk=refund.pk).status == "rejected"
    [note] = told(seat.parent, "refund_rejected")
    assert note.link == f"/parent/orders/{order.pk}/"
