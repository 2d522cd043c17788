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
