"""Paying for a held seat through the simulator, end to end through the real notification path; closing unpaid
orders; late and double payments refunded; the ledger balanced after each."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kehou.core.errors import Conflict, KehouError, NotFound
from kehou.enrolment.tests.factories import NOW, key
from kehou.ledger.selectors import balances, verify
from kehou.ledger.services import clearing_code, prepaid_code
from kehou.notify.models import Notification

from ..channels.simulator import SimulatorGateway
from ..models import ChannelNotification, Order, PaymentAttempt, Refund
from ..services.orders import PAYMENT_GRACE, order_create, orders_close_expired, payment_start
from ..services.ticker import payments_tick, simulator_deliver
from .factories import held_seat, ordered, pay_with_simulator

pytestmark = pytest.mark.django_db


def test_an_order_has_the_course_line_and_the_materials_only_when_chosen(simulator):
    seat = held_seat(materials=8000)
    without = ordered(seat)
    assert [(line.kind, line.amount_fen) for line in without.lines.all()] == [("course", seat.enrolment.fee_fen)]
    assert without.total_fen == seat.enrolment.fee_fen and without.expires_at == seat.enrolment.hold_expires_at
    other = held_seat(materials=8000, school=seat.school)
    with_materials = ordered(other, materials=True)
    assert sorted((line.kind, line.amount_fen) for line in with_materials.lines.all()) == [
        ("course", other.enrolment.fee_fen),
        ("materials", 8000),
    ]
    assert with_materials.total_fen == other.enrolment.fee_fen + 8000


def test_the_same_key_or_the_same_seat_gives_the_same_order(simulator):
    seat = held_seat()
    k = key()
    first, created = order_create(
        actor=seat.parent, enrolment_id=seat.enrolment.pk, include_materials=False, request_key=k, now=NOW
    )
    again, again_created = order_create(
        actor=seat.parent, enrolment_id=seat.enrolment.pk, include_materials=False, request_key=k, now=NOW
    )
    other_key, _ = order_create(
        actor=seat.parent, enrolment_id=seat.enrolment.pk, include_materials=False, request_key=key(), now=NOW
    )
    assert created and not again_created and first.pk == again.pk == other_key.pk
    assert Order.objects.count() == 1


def test_someone_elses_seat_cannot_be_ordered(simulator):
    seat = held_seat()
    stranger = held_seat(school=seat.school).parent
    with pytest.raises(NotFound):
        order_create(
            actor=stranger, enrolment_id=seat.enrolment.pk, include_materials=False, request_key=key(), now=NOW
        )
    assert Order.objects.count() == 0


def test_paying_through_the_simulator_confirms_the_seat_and_posts_the_ledger(simulator):
    seat = held_seat()
    order = ordered(seat)
    attempt, delivered = pay_with_simulator(seat, order)

    assert delivered == 1
    order.refresh_from_db()
    seat.enrolment.refresh_from_db()
    assert (order.status, order.paid_fen, order.channel) == ("paid", order.total_fen, "simulator")
    assert attempt.status == "paid" and attempt.channel_trade_no.startswith("SIM")
    assert seat.enrolment.status == "confirmed"
    assert balances()[clearing_code("simulator")] == order.total_fen
    assert balances()[prepaid_code(seat.school.pk)] == order.total_fen
    assert verify().balanced and verify().escrow_fen == order.total_fen
    assert ChannelNotification.objects.get().outcome == "applied"
    assert Notification.objects.filter(user=seat.parent, kind="payment_received").exists()


def test_a_duplicated_notification_is_answered_as_success_and_changes_nothing(simulator):
    seat = held_seat()
    order = ordered(seat)
    _attempt, _delivered = pay_with_simulator(seat, order, scenario="duplicate")
    simulator_deliver(now=NOW + timedelta(minutes=1))
    outcomes = sorted(ChannelNotification.objects.values_list("outcome", flat=True))
    assert outcomes == ["applied", "duplicate"]
    assert verify().transactions == 1 and verify().escrow_fen == order.total_fen


def test_a_delayed_notification_arrives_later_and_a_failed_payment_leaves_the_order_open(simulator):
    seat = held_seat()
    order = ordered(seat)
    _attempt, delivered = pay_with_simulator(seat, order, scenario="delayed")
    assert delivered == 0
    order.refresh_from_db()
    assert order.status == "pending"
    assert simulator_deliver(now=NOW + timedelta(minutes=2)) == 1
    order.refresh_from_db()
    assert order.status == "paid"

    failing = held_seat(school=seat.school)
    failed_order = ordered(failing)
    attempt, delivered = pay_with_simulator(failing, failed_order, scenario="fail")
    assert delivered == 0 and SimulatorGateway().query_payment(out_trade_no=attempt.out_trade_no).status == "failed"
    failed_order.refresh_from_db()
    assert failed_order.status == "pending"


def test_an_unpaid_order_closes_with_its_hold_and_a_late_payment_is_refunded_whole(
    simulator, django_capture_on_commit_callbacks
):
    seat = held_seat()
    order = ordered(seat)
    attempt, _start = payment_start(actor=seat.parent, order=order, channel="simulator", now=NOW)
    expiry = seat.enrolment.hold_expires_at
    # The hold runs out while the payer has the cashier open; after the grace for a payment under way the ticker
    # closes the order (having asked the channel: nothing paid) and the seat is freed.
    assert payments_tick(now=expiry)["orders_closed"] == 0
    expiry += PAYMENT_GRACE
    result = payments_tick(now=expiry)
    assert result["orders_closed"] == 1
    order.refresh_from_db()
    assert order.status == "closed"
    # The payer had the cashier open and pays anyway: the channel lets it through (it was not closed in time).
    from ..models import SimulatorTrade

    SimulatorTrade.objects.filter(out_trade_no=attempt.out_trade_no).update(status="created")
    SimulatorGateway().pay(out_trade_no=attempt.out_trade_no, now=expiry + timedelta(seconds=30))
    with django_capture_on_commit_callbacks(execute=True):  # the refund goes to the channel after the commit
        simulator_deliver(now=expiry + timedelta(seconds=40))

    record = ChannelNotification.objects.get()
    assert record.outcome == "late_refunded"
    refund = Refund.objects.get()
    assert refund.amount_fen == order.total_fen and refund.status == "processing"
    SimulatorGateway().settle_refund(out_refund_no=refund.refund_no, now=expiry + timedelta(minutes=1))
    simulator_deliver(now=expiry + timedelta(minutes=1, seconds=5))
    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert verify().balanced and verify().escrow_fen == 0


def test_paying_twice_through_two_channels_refunds_the_second_payment(simulator, django_capture_on_commit_callbacks):
    seat = held_seat()
    order = ordered(seat)
    first, _ = payment_start(actor=seat.parent, order=order, channel="simulator", now=NOW)
    # A second attempt made through the simulator outside the switch-channel path (as if the close came too late).
    second = PaymentAttempt.objects.create(
        order=order, channel="simulator", out_trade_no="KPSTRAY0001", amount_fen=order.total_fen, created_at=NOW
    )
    SimulatorGateway().start_payment(
        out_trade_no=second.out_trade_no, amount_fen=second.amount_fen, description="x", expires_at=NOW
    )
    for attempt in (first, second):
        SimulatorGateway().pay(out_trade_no=attempt.out_trade_no, now=NOW + timedelta(seconds=5))
    with django_capture_on_commit_callbacks(execute=True):
        simulator_deliver(now=NOW + timedelta(seconds=10))

    order.refresh_from_db()
    assert order.status == "paid" and order.paid_fen == order.total_fen and order.refunded_fen == 0
    stray = Refund.objects.get()
    assert stray.stray and stray.amount_fen == order.total_fen and stray.status == "processing"
    assert stray.attempt.status == "stray"
    assert verify().balanced and verify().escrow_fen == 2 * order.total_fen  # until the channel refunds


def test_a_waived_seat_orders_at_zero_and_confirms_without_a_channel(simulator):
    from kehou.enrolment.services.waivers import waiver_decide, waiver_request
    from kehou.enrolment.tests.factories import autumn_term, school_admin

    seat = held_seat()
    parent, pupil = seat.parent, seat.pupil
    # The waiver is approved after the seat was held at full fee: the order for a new seat is free.
    waiver = waiver_request(actor=school_admin(seat.school), pupil=pupil, term=autumn_term(), reason="低保", now=NOW)
    waiver_decide(actor=school_admin(seat.school), waiver=waiver, approve=True, now=NOW)
    from kehou.enrolment.services.selection import enrolment_select
    from kehou.enrolment.tests.factories import TUE_1600, make_class

    free_class = make_class(seat.school, slots=[TUE_1600], name="书法")
    row = enrolment_select(
        actor=parent, pupil_id=pupil.pk, class_id=free_class.pk, request_key=key(), now=NOW
    ).enrolment
    order, created = order_create(
        actor=parent, enrolment_id=row.pk, include_materials=False, request_key=key(), now=NOW
    )
    assert created and (order.status, order.total_fen, order.channel) == ("paid", 0, "waiver")
    assert verify().transactions == 0


def test_payment_start_refuses_closed_orders_and_unknown_channels(simulator, settings):
    seat = held_seat()
    order = ordered(seat)
    with pytest.raises(KehouError) as err:
        payment_start(actor=seat.parent, order=order, channel="bitcoin", now=NOW)
    assert err.value.code == "channel_unavailable"
    orders_close_expired(now=seat.enrolment.hold_expires_at)
    order.refresh_from_db()
    with pytest.raises(Conflict) as err:
        payment_start(actor=seat.parent, order=order, channel="simulator", now=NOW)
    assert err.value.code == "order_not_pending"


def test_a_payment_made_within_the_hold_keeps_the_seat_though_its_notification_comes_after_expiry(simulator):
    from kehou.enrolment.services.waitlist import holds_expire

    seat = held_seat()
    order = ordered(seat)
    attempt, _start = payment_start(actor=seat.parent, order=order, channel="simulator", now=NOW)
    expiry = seat.enrolment.hold_expires_at
    SimulatorGateway().pay(out_trade_no=attempt.out_trade_no, now=expiry - timedelta(seconds=1))
    # The hold runs out before the notification arrives: the seat waits for the channel's word.
    assert holds_expire(now=expiry + timedelta(seconds=30)) == 0
    assert payments_tick(now=expiry + timedelta(seconds=30))["orders_closed"] == 0
    simulator_deliver(now=expiry + timedelta(seconds=40))
    seat.enrolment.refresh_from_db()
    order.refresh_from_db()
    assert seat.enrolment.status == "confirmed" and order.status == "paid" and order.refunded_fen == 0
    assert not Refund.objects.exists() and verify().balanced


def test_a_cancelled_hold_cannot_be_paid(simulator):
    from kehou.enrolment.services.selection import enrolment_cancel

    seat = held_seat()
    order = ordered(seat)
    enrolment_cancel(actor=seat.parent, enrolment=seat.enrolment, now=NOW)
    order.refresh_from_db()
    assert order.status == "closed"
    with pytest.raises(Conflict):
        payment_start(actor=seat.parent, order=order, channel="simulator", now=NOW)
