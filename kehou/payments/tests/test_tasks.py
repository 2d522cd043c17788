"""Payments' background work on the task worker. Above all the automatic refund of a late payment: the worker sends
it to the channel; a refusal is asked again (a new refund number) 30 s, 2 min and 10 min later, an unreachable
channel tried again as long; past the last try the city's operators are alerted and the task is on the failed-tasks
page. The money is where the ledger says at every step."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django_tasks_db.models import DBTaskResult

from kehou.conftest import page_as
from kehou.core.audit_actions import AuditAction
from kehou.core.jobs import run_inline
from kehou.core.models import AuditEntry, FailedTask
from kehou.core.tests.taskworker import run_worker, time_passes
from kehou.enrolment.tests.factories import NOW
from kehou.ledger.selectors import balances, verify
from kehou.ledger.services import REFUNDS_PAYABLE, prepaid_code
from kehou.notify.models import Notification
from kehou.people.models import Role
from kehou.testing import factories as f

from ..channels.base import ChannelUnavailable, RefundSubmitted
from ..channels.simulator import SimulatorGateway
from ..models import Order, Refund, SimulatorTrade
from ..services.orders import PAYMENT_GRACE, payment_start
from ..services.ticker import payments_tick, simulator_deliver
from .factories import held_seat, ordered

pytestmark = pytest.mark.django_db

TASK = "kehou.payments.tasks.pursue_automatic_refund"


@pytest.fixture
def city_admin() -> Any:
    user = f.UserFactory(username="city-operator")
    f.grant(user, Role.CITY_ADMIN)
    return user


def late_payment() -> Order:
    """A payment that arrives after its order closed (the hold ran out): it is refunded whole, automatically."""
    seat = held_seat()
    order = ordered(seat)
    attempt, _start = payment_start(actor=seat.parent, order=order, channel="simulator", now=NOW)
    expiry = seat.enrolment.hold_expires_at + PAYMENT_GRACE
    assert payments_tick(now=expiry)["orders_closed"] == 1
    SimulatorTrade.objects.filter(out_trade_no=attempt.out_trade_no).update(status="created")
    SimulatorGateway().pay(out_trade_no=attempt.out_trade_no, now=expiry + timedelta(seconds=30))
    simulator_deliver(now=expiry + timedelta(seconds=40))
    order.refresh_from_db()
    return order


def refunds_of(order: Order) -> list[Refund]:
    return list(Refund.objects.filter(order=order).order_by("pk"))


def test_the_automatic_refund_goes_to_the_channel_on_the_worker(
    simulator: Any, db_tasks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = late_payment()
    [refund] = refunds_of(order)
    assert refund.status == "processing" and not refund.channel_refund_id  # enqueued with the payment, not sent
    assert DBTaskResult.objects.filter(task_path=TASK, status="READY").count() == 1
    run_worker(monkeypatch)
    refund.refresh_from_db()
    assert refund.channel_refund_id and refund.status == "processing"
    assert DBTaskResult.objects.get(task_path=TASK).return_value == "processing"
    assert verify().balanced


def test_a_refused_automatic_refund_is_asked_again_then_the_city_is_alerted(
    simulator: Any, db_tasks: None, monkeypatch: pytest.MonkeyPatch, city_admin: Any
) -> None:
    # Given a channel that refuses every refund (e.g. the merchant account's balance is short)
    monkeypatch.setattr(
        SimulatorGateway, "refund", lambda self, **kw: RefundSubmitted(status="failed", failure="NOT_ENOUGH")
    )
    order = late_payment()
    school = prepaid_code(order.school_id)

    # When the worker sends the refund, and each time the back-off has passed
    run_worker(monkeypatch)
    [first] = refunds_of(order)
    assert first.status == "failed"  # refused: the money went back to the school's prepayments, for now
    order.refresh_from_db()
    assert balances()[school] == order.total_fen and order.refunded_fen == 0
    backoffs = []
    for _ in range(3):
        assert not Notification.objects.filter(kind="refund_alert").exists()
        backoffs += time_passes()
        run_worker(monkeypatch)

    # Then the payment was refunded four times under four numbers, 30 s, 2 min and 10 min apart
    tries = refunds_of(order)
    assert backoffs == [30, 120, 600]
    assert [r.status for r in tries] == ["failed"] * 4
    assert len({r.refund_no for r in tries}) == 4
    assert [r.basis.get("try", 1) for r in tries] == [1, 2, 3, 4]
    # and then the worker gave up: the city's operators are told, the task is on the failed-tasks page and audited
    [alert] = Notification.objects.filter(kind="refund_alert")
    assert alert.user == city_admin and tries[-1].refund_no in alert.title
    assert "NOT_ENOUGH" in alert.body and "prepayments" in alert.body and alert.link == "/tasks/failed/"
    failure = FailedTask.objects.get(task_path=TASK)
    assert failure.error_class == "kehou.core.jobs.GiveUp" and failure.arguments["kwargs"] == {
        "refund_id": tries[-1].pk
    }
    assert AuditEntry.objects.filter(action=AuditAction.TASK_FAILED, object_id=str(failure.pk)).exists()
    assert TASK in page_as(city_admin).get("/tasks/failed/").content.decode()
    # and the ledger says where the money is: in the school's prepayments, nothing left reserved
    order.refresh_from_db()
    assert order.refunded_fen == 0
    assert (balances()[school], balances()[REFUNDS_PAYABLE]) == (order.total_fen, 0)
    result = verify()
    assert result.balanced, result.breaches
    assert not DBTaskResult.objects.filter(status="READY").exists()


def test_an_unreachable_channel_is_tried_again_then_the_city_is_alerted(
    simulator: Any, db_tasks: None, monkeypatch: pytest.MonkeyPatch, city_admin: Any
) -> None:
    def unreachable(self: Any, **kw: Any) -> RefundSubmitted:
        raise ChannelUnavailable("simulator refund: HTTP 503")

    monkeypatch.setattr(SimulatorGateway, "refund", unreachable)
    order = late_payment()
    run_worker(monkeypatch)
    backoffs = []
    for _ in range(3):
        backoffs += time_passes()
        run_worker(monkeypatch)
    assert backoffs == [30, 120, 600]
    # The same refund (same number: the channel never had it) was tried four times, then the city was told
    [refund] = refunds_of(order)
    assert refund.status == "processing"  # still reserved; the refunds poll keeps sending it
    assert DBTaskResult.objects.filter(task_path=TASK, status="FAILED").count() == 4
    failure = FailedTask.objects.get(task_path=TASK)
    assert failure.attempts == 4 and failure.error_class.endswith("AutomaticRefundNotSent")
    assert "HTTP 503" in failure.error
    [alert] = Notification.objects.filter(kind="refund_alert", user=city_admin)
    assert refund.refund_no in alert.title and "still reserved" in alert.body
    assert verify().balanced


def test_a_refund_the_channel_fails_later_is_asked_again_and_goes_through(
    simulator: Any, db_tasks: None, monkeypatch: pytest.MonkeyPatch, city_admin: Any
) -> None:
    order = late_payment()
    run_worker(monkeypatch)
    [first] = refunds_of(order)
    # The channel accepted it, then reports it failed (WeChat's ABNORMAL) in its notification
    SimulatorGateway().settle_refund(out_refund_no=first.refund_no, now=NOW + timedelta(hours=1), scenario="fail")
    simulator_deliver(now=NOW + timedelta(hours=1))
    first.refresh_from_db()
    assert first.status == "failed"
    assert time_passes() == [30]
    run_worker(monkeypatch)
    _first, second = refunds_of(order)
    assert second.status == "processing" and second.channel_refund_id and second.basis["try"] == 2
    SimulatorGateway().settle_refund(out_refund_no=second.refund_no, now=NOW + timedelta(hours=2))
    simulator_deliver(now=NOW + timedelta(hours=2))
    second.refresh_from_db()
    assert second.status == "succeeded"
    assert not Notification.objects.filter(kind="refund_alert").exists() and not FailedTask.objects.exists()
    order.refresh_from_db()
    assert order.refunded_fen == order.total_fen
    result = verify()
    assert result.balanced and result.escrow_fen == 0, result.breaches


def test_with_the_test_settings_the_retries_run_at_once(
    simulator: Any, monkeypatch: pytest.MonkeyPatch, city_admin: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # The immediate backend (no worker) cannot wait out a back-off: the tries follow one another at once
    monkeypatch.setattr(
        SimulatorGateway, "refund", lambda self, **kw: RefundSubmitted(status="failed", failure="REFUSED")
    )
    with django_capture_on_commit_callbacks(execute=True):
        order = late_payment()
    assert [r.status for r in refunds_of(order)] == ["failed"] * 4
    assert Notification.objects.filter(kind="refund_alert", user=city_admin).count() == 1
    assert verify().balanced


def test_the_periodic_tasks_wrap_the_services(simulator: Any) -> None:
    assert run_inline("kehou.payments.tasks.poll_payments") == {"payments_found": 0}
    assert run_inline("kehou.payments.tasks.close_expired_orders") == {"orders_closed": 0}
    assert run_inline("kehou.payments.tasks.deliver_simulator_notifications") == {"notifications_delivered": 0}
    assert run_inline("kehou.payments.tasks.poll_refunds") == {"refunds_settled": 0}
