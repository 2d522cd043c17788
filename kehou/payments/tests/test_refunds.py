"""Refunds: full before the first session, pro rata after, tiered and deadline policies, the school's approval,
materials until handed out, through the paying channel, final state from the channel; never more than paid."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from kehou.core.errors import Conflict, Forbidden, KehouError, NotFound
from kehou.enrolment.models import ClassSession
from kehou.enrolment.tests.factories import NOW, SHANGHAI, city_region, key, school_admin
from kehou.ledger.selectors import verify
from kehou.people.models import Role
from kehou.testing import factories as f

from ..channels.simulator import SimulatorGateway
from ..models import OrderLine, Refund
from ..services.refunds import policy_set, quote, refund_decide, refund_request, refunds_poll
from ..services.ticker import simulator_deliver
from .factories import held_seat, ordered, pay_with_simulator

pytestmark = pytest.mark.django_db


def paid_seat(**kw):
    seat = held_seat(**kw)
    order = ordered(seat, materials=bool(kw.get("materials")))
    pay_with_simulator(seat, order)
    order.refresh_from_db()
    assert order.status == "paid"
    return seat, order


def after_sessions(seat, n: int) -> datetime:
    """A moment just after the n-th session of the seat's class ended."""
    session = ClassSession.objects.get(course_class=seat.course_class, number=n)
    return datetime.combine(session.date, session.ends_at, tzinfo=SHANGHAI) + timedelta(minutes=1)


def city_admin():
    user = f.UserFactory()
    f.grant(user, Role.CITY_ADMIN)
    return user


def test_before_the_first_session_the_whole_course_fee_is_refunded(simulator):
    _seat, order = paid_seat()
    q = quote(order, now=NOW)
    assert (q.course_fen, q.materials_fen, q.basis["sessions_held"], q.basis["rule"]) == (
        order.total_fen,
        0,
        0,
        "before_start",
    )


def test_cancel_after_two_sessions_refunds_pro_rata_through_the_channel(simulator):
    seat, order = paid_seat(price=3000)
    sessions = seat.course_class.session_count
    when = after_sessions(seat, 2)

    refund, created = refund_request(actor=seat.parent, order=order, request_key=key(), now=when, reason="孩子转学")

    expected = order.total_fen * (sessions - 2) // sessions
    assert created and refund.amount_fen == expected == 3000 * (sessions - 2)
    assert refund.basis == {"sessions_total": sessions, "sessions_held": 2, "rule": "pro_rata"}
    assert refund.status == "processing" and refund.channel == "simulator" and refund.channel_refund_id
    seat.enrolment.refresh_from_db()
    assert seat.enrolment.status == "cancelled"
    order.refresh_from_db()
    assert order.refunded_fen == expected
    # The channel finishes the refund and says so.
    SimulatorGateway().settle_refund(out_refund_no=refund.refund_no, now=when + timedelta(minutes=1))
    simulator_deliver(now=when + timedelta(minutes=1, seconds=1))
    refund.refresh_from_db()
    assert refund.status == "succeeded"
    result = verify()
    assert result.balanced and result.escrow_fen == order.total_fen - expected


def test_a_lost_refund_notification_is_found_by_the_query(simulator):
    seat, order = paid_seat()
    refund, _ = refund_request(actor=seat.parent, order=order, request_key=key(), now=NOW)
    from ..models import SimulatorDelivery, SimulatorTrade

    SimulatorGateway().settle_refund(out_refund_no=refund.refund_no, now=NOW + timedelta(minutes=1))
    SimulatorDelivery.objects.filter(event_type="REFUND.SUCCESS").delete()  # lost on the way
    assert SimulatorTrade.objects.get(out_refund_no=refund.refund_no).status == "succeeded"
    assert refunds_poll(now=NOW + timedelta(minutes=5)) == 1
    refund.refresh_from_db()
    assert refund.status == "succeeded" and verify().balanced


def test_materials_are_refunded_until_handed_out(simulator):
    _seat, order = paid_seat(materials=8000)
    assert quote(order, now=NOW).materials_fen == 8000
    OrderLine.objects.filter(order=order, kind="materials").update(handed_out_at=NOW)
    assert quote(order, now=NOW).materials_fen == 0


def test_a_tiered_district_policy_with_a_deadline_and_approval(simulator):
    seat, order = paid_seat(price=3000)
    district = seat.school.district
    admin = f.UserFactory()
    f.grant(admin, Role.DISTRICT_ADMIN, district=district)
    policy_set(
        actor=admin,
        region=district,
        after_start="tiered",
        tiers=[{"held_upto": 0.25, "percent": 100}, {"held_upto": 0.5, "percent": 50}],
        no_refund_after=Decimal("0.5"),
        approval_after_start=True,
        now=NOW,
    )
    total = seat.course_class.session_count
    early = quote(order, now=after_sessions(seat, 2))
    assert early.course_fen == 3000 * (total - 2) and early.needs_approval
    mid_n = total // 4 + 1
    mid = quote(order, now=after_sessions(seat, mid_n))
    assert mid.course_fen == 3000 * (total - mid_n) // 2
    late = quote(order, now=after_sessions(seat, total // 2 + 1))
    assert late.course_fen == 0 and late.basis["rule"] == "after_deadline"

    # With approval: the school decides; the refund waits until then.
    refund, _ = refund_request(actor=seat.parent, order=order, request_key=key(), now=after_sessions(seat, 2))
    assert refund.status == "pending_approval"
    with pytest.raises(NotFound):
        refund_decide(actor=school_admin(f.SchoolFactory()), refund=refund, approve=True, now=NOW)
    approved = refund_decide(actor=school_admin(seat.school), refund=refund, approve=True, now=NOW)
    assert approved.status == "processing"


def test_a_rejected_refund_gives_the_amount_back_to_the_prepayments(simulator):
    seat, order = paid_seat()
    policy_set(actor=city_admin(), region=city_region(), after_start="pro_rata", approval_after_start=True, now=NOW)
    refund, _ = refund_request(actor=seat.parent, order=order, request_key=key(), now=after_sessions(seat, 1))
    rejected = refund_decide(actor=school_admin(seat.school), refund=refund, approve=False, now=NOW)
    assert rejected.status == "rejected"
    order.refresh_from_db()
    assert order.refunded_fen == 0
    with pytest.raises(Conflict):
        refund_decide(actor=school_admin(seat.school), refund=refund, approve=True, now=NOW)
    result = verify()
    assert result.balanced and result.escrow_fen == order.total_fen


def test_a_district_cannot_set_the_city_policy_and_bad_tiers_are_refused(simulator):
    district_admin = f.UserFactory()
    district = f.RegionFactory()
    f.grant(district_admin, Role.DISTRICT_ADMIN, district=district)
    with pytest.raises(Forbidden):
        policy_set(actor=district_admin, region=city_region(), after_start="pro_rata", now=NOW)
    with pytest.raises(KehouError) as err:
        policy_set(actor=district_admin, region=district, after_start="tiered", tiers=[{"held_upto": 2}], now=NOW)
    assert err.value.code == "invalid_tiers"


def test_the_same_refund_key_is_one_refund_and_a_second_cancel_refunds_nothing_more(simulator):
    seat, order = paid_seat()
    k = key()
    first, created = refund_request(actor=seat.parent, order=order, request_key=k, now=NOW)
    again, created_again = refund_request(actor=seat.parent, order=order, request_key=k, now=NOW)
    assert created and not created_again and first.pk == again.pk
    order.refresh_from_db()
    nothing, _ = refund_request(actor=seat.parent, order=order, request_key=key(), now=NOW)
    assert nothing is None
    order.refresh_from_db()
    assert order.refunded_fen == order.paid_fen and Refund.objects.count() == 1


def test_strangers_cannot_refund_and_nothing_changes(simulator):
    seat, order = paid_seat()
    stranger = held_seat(school=seat.school).parent
    with pytest.raises((NotFound, Forbidden)):
        refund_request(actor=stranger, order=order, request_key=key(), now=NOW)
    order.refresh_from_db()
    seat.enrolment.refresh_from_db()
    assert order.refunded_fen == 0 and seat.enrolment.status == "confirmed" and Refund.objects.count() == 0


def test_a_second_refund_request_after_the_start_adds_nothing_to_the_pro_rata_share(simulator):
    seat, order = paid_seat(price=3000)
    when = after_sessions(seat, 2)
    first, _ = refund_request(actor=seat.parent, order=order, request_key=key(), now=when)
    order.refresh_from_db()
    second, _ = refund_request(actor=seat.parent, order=order, request_key=key(), now=when + timedelta(minutes=1))
    order.refresh_from_db()
    assert second is None and order.refunded_fen == first.amount_fen < order.paid_fen


def test_cancelling_a_class_refunds_its_paid_seats_and_closes_its_unpaid_orders(simulator):
    from kehou.enrolment.services.classes import class_cancel
    from kehou.enrolment.services.selection import enrolment_select
    from kehou.enrolment.tests.factories import family

    from ..services.orders import order_create

    seat, order = paid_seat()
    # a second family holds a seat in the same class, with an order not yet paid
    parent, [kid] = family(seat.school)
    row = enrolment_select(
        actor=parent, pupil_id=kid.pk, class_id=seat.course_class.pk, request_key=key(), now=NOW
    ).enrolment
    pending, _ = order_create(actor=parent, enrolment_id=row.pk, include_materials=False, request_key=key(), now=NOW)
    class_cancel(actor=school_admin(seat.school), course_class=seat.course_class, reason="教师调离", now=NOW)
    refund = Refund.objects.get(order=order)
    assert refund.amount_fen == order.total_fen and refund.status == "processing"
    pending.refresh_from_db()
    assert pending.status == "closed"
    assert verify().balanced


def test_nan_tiers_are_refused(simulator):
    with pytest.raises(KehouError) as err:
        policy_set(
            actor=city_admin(),
            region=city_region(),
            after_start="tiered",
            tiers=[{"held_upto": "NaN", "percent": 50}],
            now=NOW,
        )
    assert err.value.code == "invalid_tiers"
