"""A hypothesis state machine over money: parents take seats and order, pay through the simulator (once, twice,
late, reordered notifications), notifications are delivered in any order, time passes into the term, parents cancel
and get partial refunds (sometimes asking twice), the channel settles or fails refunds, lost notifications are found
by queries. After every step ``ledger_verify``'s invariants hold and no order is refunded beyond what it was paid."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import transaction
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from kehou.core.errors import KehouError
from kehou.enrolment.models import ClassSession
from kehou.enrolment.tests.factories import NOW, SHANGHAI, key
from kehou.ledger.selectors import verify
from kehou.testing import factories as f

from ..channels.simulator import SimulatorGateway
from ..models import Order, PaymentAttempt, Refund, SimulatorDelivery
from ..services.orders import order_create, payment_start
from ..services.refunds import refund_request
from ..services.ticker import payments_tick, simulator_deliver
from .factories import Seat, held_seat

pytestmark = pytest.mark.django_db


class MoneyMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.school = f.SchoolFactory()
        self.seats: list[Seat] = []
        self.now = NOW

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    @initialize(
        families=st.lists(
            st.tuples(st.booleans(), st.sampled_from(["once", "duplicate", "delayed", "reordered", "fail", "unpaid"])),
            min_size=3,
            max_size=3,
        )
    )
    def three_families_order(self, families: list[tuple[bool, str]]) -> None:
        for materials, scenario in families:
            self.take_a_seat_order_and_pay(materials, scenario)

    @rule(
        materials=st.booleans(),
        scenario=st.sampled_from(["once", "duplicate", "delayed", "reordered", "fail", "unpaid"]),
    )
    def take_a_seat_order_and_pay(self, materials: bool, scenario: str) -> None:
        if len(self.seats) >= 6 or self.now > NOW + timedelta(days=3):
            return
        seat = held_seat(school=self.school, materials=5000 if materials else 0, capacity=10)
        # The seat was held at NOW; re-hold it relative to the machine's clock.
        seat.enrolment.hold_expires_at = self.now + timedelta(minutes=15)
        seat.enrolment.save(update_fields=["hold_expires_at"])
        order, _created = order_create(
            actor=seat.parent,
            enrolment_id=seat.enrolment.pk,
            include_materials=materials,
            request_key=key(),
            now=self.now,
        )
        self.seats.append(seat)
        if scenario != "unpaid":
            self._pay(order, seat, scenario)

    def _pay(self, order: Order, seat: Seat, scenario: str) -> None:
        attempt, _start = payment_start(actor=seat.parent, order=order, channel="simulator", now=self.now)
        SimulatorGateway().pay(out_trade_no=attempt.out_trade_no, now=self.now, scenario=scenario)
        simulator_deliver(now=self.now)  # what is due now arrives now; delayed and reordered ones later

    @rule(pick=st.integers(0, 100), scenario=st.sampled_from(["once", "duplicate", "delayed", "reordered", "fail"]))
    def pay_a_pending_order(self, pick: int, scenario: str) -> None:
        pending = list(Order.objects.filter(status="pending", expires_at__gt=self.now))
        if pending:
            order = pending[pick % len(pending)]
            self._pay(order, next(s for s in self.seats if s.enrolment.pk == order.enrolment_id), scenario)

    @rule(pick=st.integers(0, 100))
    def pay_a_closed_order_anyway(self, pick: int) -> None:
        """The payer had the cashier open when the order closed: the channel still takes the money."""
        attempts = list(PaymentAttempt.objects.filter(status="closed", order__paid_fen=0))
        if attempts:
            from ..models import SimulatorTrade

            attempt = attempts[pick % len(attempts)]
            SimulatorTrade.objects.filter(out_trade_no=attempt.out_trade_no, status="closed").update(status="created")
            SimulatorGateway().pay(out_trade_no=attempt.out_trade_no, now=self.now)

    @rule(seconds=st.integers(1, 200))
    def time_passes_and_the_ticker_runs(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)
        payments_tick(now=self.now)

    @precondition(lambda self: Order.objects.filter(status="paid").exists())
    @rule(sessions=st.integers(1, 8))
    def into_the_term(self, sessions: int) -> None:
        """Jump to just after the n-th session of the term (refunds become partial)."""
        first = ClassSession.objects.filter(number=sessions).order_by("date").first()
        if first is None:
            return
        when = datetime.combine(first.date, first.ends_at, tzinfo=SHANGHAI) + timedelta(minutes=1)
        if when > self.now:
            self.now = when
            payments_tick(now=self.now)

    @rule(pick=st.integers(0, 100), twice=st.booleans(), channel=st.sampled_from(["later", "settles", "fails"]))
    def cancel_and_refund(self, pick: int, twice: bool, channel: str) -> None:
        paid = list(Order.objects.filter(status="paid").exclude(channel="waiver"))
        if not paid:
            return
        order = paid[pick % len(paid)]
        seat = next(s for s in self.seats if s.enrolment.pk == order.enrolment_id)
        for _ in range(2 if twice else 1):
            try:
                refund_request(actor=seat.parent, order=Order.objects.get(pk=order.pk), request_key=key(), now=self.now)
            except KehouError as refusal:
                assert refusal.code in {"refund_exceeds_paid"}, refusal.code
        if channel != "later":
            for refund in Refund.objects.filter(order=order, status="processing"):
                SimulatorGateway().settle_refund(
                    out_refund_no=refund.refund_no, now=self.now, scenario="fail" if channel == "fails" else "once"
                )
            simulator_deliver(now=self.now)

    @rule(pick=st.integers(0, 100), fail=st.booleans())
    def channel_settles_a_refund(self, pick: int, fail: bool) -> None:
        from ..models import SimulatorTrade

        open_ = list(SimulatorTrade.objects.filter(kind="refund", status="processing"))
        if open_:
            trade = open_[pick % len(open_)]
            SimulatorGateway().settle_refund(
                out_refund_no=trade.out_refund_no, now=self.now, scenario="fail" if fail else "once"
            )

    @rule(lose=st.integers(0, 3))
    def a_notification_is_lost(self, lose: int) -> None:
        if lose:
            return
        first = SimulatorDelivery.objects.filter(delivered_at__isnull=True).order_by("pk").first()
        if first is not None:
            SimulatorDelivery.objects.filter(pk=first.pk).update(delivered_at=self.now, answer="lost")

    @invariant()
    def the_ledger_balances_and_orders_agree(self) -> None:
        result = verify()
        assert result.balanced, result.breaches
        for order in Order.objects.all():
            assert 0 <= order.refunded_fen <= order.paid_fen <= order.total_fen
            if order.status == "paid" and order.enrolment.status == "confirmed":
                assert order.refunded_fen == 0
        for refund in Refund.objects.filter(stray=False):
            assert refund.amount_fen <= refund.order.paid_fen


def test_money_state_machine(db: Any, settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = tmp_path
    settings.KEHOU_PAYMENT_CHANNELS = ["simulator"]
    run_state_machine_as_test(MoneyMachine, settings=settings_(max_examples=20, stateful_step_count=30))


def settings_(**kw: Any) -> Any:
    return settings(deadline=None, **kw)
