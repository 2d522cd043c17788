"""Builders for payment tests: a held seat, its order, a simulator payment delivered through the real path."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from kehou.enrolment.models import CourseClass, Enrolment
from kehou.enrolment.services.selection import enrolment_select
from kehou.enrolment.tests.factories import NOW, family, key, make_class, open_window
from kehou.orgs.models import School
from kehou.people.models import Pupil, User
from kehou.testing import factories as f

from ..channels.simulator import SimulatorGateway
from ..models import Order, PaymentAttempt
from ..services.orders import order_create, payment_start
from ..services.ticker import simulator_deliver


@pytest.fixture
def simulator(settings: Any, tmp_path: Any) -> SimulatorGateway:
    settings.VAR_DIR = tmp_path
    settings.KEHOU_PAYMENT_CHANNELS = ["simulator", "wechat", "alipay", "ganfutong"]
    return SimulatorGateway()


@dataclass
class Seat:
    school: School
    course_class: CourseClass
    parent: User
    pupil: Pupil
    enrolment: Enrolment


def held_seat(*, capacity: int = 20, materials: int = 0, price: int = 3000, school: School | None = None) -> Seat:
    school = school or f.SchoolFactory()
    extra: dict[str, Any] = {"materials_name": "机器人套件", "materials_fee_fen": materials} if materials else {}
    course_class = make_class(school, capacity=capacity, price=price, **extra)
    if not school.selection_windows.exists():
        open_window(school, 3, hours=24 * 30)
    parent, [pupil] = family(school)
    enrolment = enrolment_select(
        actor=parent, pupil_id=pupil.pk, class_id=course_class.pk, request_key=key(), now=NOW
    ).enrolment
    return Seat(school, course_class, parent, pupil, enrolment)


def ordered(seat: Seat, *, materials: bool = False, now: datetime = NOW) -> Order:
    order, _created = order_create(
        actor=seat.parent, enrolment_id=seat.enrolment.pk, include_materials=materials, request_key=key(), now=now
    )
    return order


def pay_with_simulator(
    seat: Seat, order: Order, *, now: datetime = NOW, scenario: str = "once"
) -> tuple[PaymentAttempt, int]:
    """Start a simulator payment, let the payer pay, and deliver what is due now. (attempt, delivered)."""
    attempt, _start = payment_start(actor=seat.parent, order=order, channel="simulator", now=now)
    SimulatorGateway().pay(out_trade_no=attempt.out_trade_no, now=now + timedelta(seconds=5), scenario=scenario)
    delivered = simulator_deliver(now=now + timedelta(seconds=10))
    attempt.refresh_from_db()
    return attempt, delivered


def walker_rows(city: Any) -> None:
    """For the URL walker: for the hold of each of schools A1, A2 and B1 (enrolment walker rows), a paid order
    with its lines, attempt, a refund in progress, a channel notification and the ledger postings; one rejected
    notification with no order; a reconciliation (the city's)."""
    from django.utils import timezone

    from kehou.enrolment.models import Enrolment
    from kehou.ledger.services import REFUNDS_PAYABLE, Leg, clearing_code, post, prepaid_code

    from ..models import ChannelNotification, OrderLine, Reconciliation, ReconciliationItem, Refund

    now = timezone.now()
    for enrolment in Enrolment.objects.filter(request_key__startswith="walker-").select_related("course_class"):
        school_id = enrolment.course_class.school_id
        tag = enrolment.request_key.removeprefix("walker-")
        order = Order.objects.create(
            order_no=f"KHWALK{tag}",
            enrolment=enrolment,
            school_id=school_id,
            pupil=enrolment.pupil,
            payer=enrolment.requested_by,
            description="围棋",
            total_fen=enrolment.fee_fen,
            paid_fen=enrolment.fee_fen,
            status="paid",
            channel="simulator",
            request_key=f"walker-order-{tag}",
            created_at=now,
            expires_at=now,
            paid_at=now,
        )
        OrderLine.objects.create(order=order, kind="course", description="围棋", amount_fen=enrolment.fee_fen)
        attempt = PaymentAttempt.objects.create(
            order=order,
            channel="simulator",
            out_trade_no=f"KPWALK{tag}",
            amount_fen=order.total_fen,
            status="paid",
            created_at=now,
            finished_at=now,
        )
        post(
            key=f"payment:{attempt.out_trade_no}",
            kind="payment",
            legs=[Leg(clearing_code("simulator"), prepaid_code(school_id), attempt.amount_fen)],
            now=now,
            school_id=school_id,
        )
        refund = Refund.objects.create(
            order=order,
            attempt=attempt,
            refund_no=f"KRWALK{tag}",
            channel="simulator",
            course_fen=100,
            amount_fen=100,
            reason="walker",
            status="processing",
            requested_by=enrolment.requested_by,
            request_key=f"walker-refund-{tag}",
            requested_at=now,
        )
        Order.objects.filter(pk=order.pk).update(refunded_fen=100)
        OrderLine.objects.filter(order=order).update(refunded_fen=100)
        post(
            key=f"refund:{refund.refund_no}:reserve",
            kind="refund",
            legs=[Leg(prepaid_code(school_id), REFUNDS_PAYABLE, 100)],
            now=now,
            school_id=school_id,
        )
        ChannelNotification.objects.create(
            channel="simulator",
            received_at=now,
            body="{}",
            verified=True,
            outcome="applied",
            out_trade_no=attempt.out_trade_no,
            order=order,
        )
    ChannelNotification.objects.create(
        channel="wechat", received_at=now, body="{}", outcome="rejected", reason="bad_signature", alert=True
    )
    rec = Reconciliation.objects.create(channel="simulator", bill_date=now.date(), imported_at=now, rows=1)
    ReconciliationItem.objects.create(reconciliation=rec, kind="extra", trade_kind="payment", reference="KPUNKNOWN")
