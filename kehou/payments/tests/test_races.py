"""Money races, run for real on PostgreSQL and on a file SQLite (see catalog/tests/test_concurrency.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from kehou.catalog.tests.test_concurrency import Race
from kehou.core.errors import KehouError
from kehou.enrolment.models import Enrolment
from kehou.enrolment.services.selection import enrolment_cancel
from kehou.enrolment.tests.factories import NOW, key
from kehou.ledger.selectors import verify

from ..channels.simulator import SimulatorGateway
from ..models import Order, Refund, SimulatorDelivery
from ..services.notifications import notification_receive
from ..services.orders import payment_start
from ..services.refunds import refund_request
from .factories import held_seat, ordered, pay_with_simulator

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def race(tmp_path: Path) -> Iterator[Race]:
    r = Race(tmp_path)
    yield r
    r.stop()


def no_crash(results: list[Any]) -> None:
    for r in results:
        if isinstance(r, Exception) and not isinstance(r, KehouError):
            raise r


@pytest.mark.parametrize("attempt_", range(3))
def test_a_payment_and_a_cancel_racing_leave_the_money_consistent(simulator: Any, race: Race, attempt_: int) -> None:
    # Given a held seat whose order the parent is paying, and whose notification is about to arrive
    seat = held_seat()
    order = ordered(seat)
    attempt, _start = payment_start(actor=seat.parent, order=order, channel="simulator", now=NOW)
    SimulatorGateway().pay(out_trade_no=attempt.out_trade_no, now=NOW + timedelta(seconds=1))
    delivery = SimulatorDelivery.objects.get()
    headers, body = SimulatorGateway().signed(delivery, now=NOW + timedelta(seconds=2))
    race.start()
    # When the notification and the parent's cancel arrive at the same moment
    results = race.run(
        lambda: notification_receive(channel="simulator", headers=headers, body=body, now=NOW + timedelta(seconds=2)),
        lambda: enrolment_cancel(actor=seat.parent, enrolment=seat.enrolment, now=NOW + timedelta(seconds=2)),
    )
    no_crash(results)

    # Then either the seat is confirmed and nothing is refunded (the cancel was told the place is paid for), or the
    # place is cancelled and the payment is refunded whole; the ledger balances either way
    def state() -> tuple[str, str, int, int, list[int], bool]:
        o = Order.objects.get(pk=order.pk)
        return (
            Enrolment.objects.get(pk=seat.enrolment.pk).status,
            o.status,
            o.paid_fen,
            o.refunded_fen,
            list(Refund.objects.values_list("amount_fen", flat=True)),
            verify().balanced,
        )

    place, status, paid, refunded, refunds, balanced = race.read(state)
    assert balanced and status == "paid" and paid == order.total_fen
    if place == "confirmed":
        assert refunded == 0 and refunds == []
        assert isinstance(results[1], KehouError) and results[1].code == "paid_place_needs_refund"
    else:
        assert place == "cancelled" and refunded == paid and refunds == [paid]


def test_two_refund_requests_at_once_never_refund_more_than_was_paid(simulator: Any, race: Race) -> None:
    seat = held_seat()
    order = ordered(seat)
    pay_with_simulator(seat, order)
    race.start()
    results = race.run(
        *(
            lambda: refund_request(actor=seat.parent, order=Order.objects.get(pk=order.pk), request_key=key(), now=NOW)
            for _ in range(6)
        )
    )
    no_crash(results)

    def state() -> tuple[int, int, int, bool]:
        o = Order.objects.get(pk=order.pk)
        return o.paid_fen, o.refunded_fen, Refund.objects.count(), verify().balanced

    paid, refunded, count, balanced = race.read(state)
    assert balanced and refunded == paid and count == 1
