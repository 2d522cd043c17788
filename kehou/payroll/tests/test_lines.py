"""Pay lines from the evidence of delivery, release from escrow, the school's and the operator's approvals, disputes,
payouts through the simulator, and the ledger's invariants after each."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from kehou.attendance.services.common import session_bounds
from kehou.conftest import City
from kehou.core.errors import KehouError
from kehou.ledger.selectors import balances, verify
from kehou.payments.models import OrderLine, Release
from kehou.payroll.models import PayLine, Payout, PayoutBatch
from kehou.payroll.services import lines as pl
from kehou.payroll.services import payouts as po
from kehou.payroll.tax import withholding

from .factories import RATE, bind_payee, deliver, paid_class, sessions, standard_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def lesson(city: City) -> Any:
    cls, orders = paid_class(city.a1, 4, teacher=city.users["teacher"].teacher_profile)
    standard_for(cls)
    return cls, orders


def _code(excinfo: Any) -> str:
    return str(excinfo.value.code)


def _compute(at: Any) -> pl.ComputeResult:
    return pl.pay_lines_compute(now=at, since=at.date() - timedelta(days=400))


def test_a_delivered_session_pays_its_teacher_and_releases_its_share(city: City, lesson: Any) -> None:
    cls, orders = lesson
    first = sessions(cls)[0]
    after = deliver(first)
    result = _compute(after)
    assert (result.created, result.unrated) == (1, 0)
    line = PayLine.objects.get(session=first)
    assert (line.teacher_id, line.amount_fen, line.status) == (cls.teacher_id, RATE, "computed")
    assert line.period == f"{first.date:%Y-%m}" and line.rate_basis == "district_standard"
    share = cls.fee_fen // cls.session_count
    assert result.released_fen == share * 4
    assert set(OrderLine.objects.filter(order__in=orders).values_list("released_fen", flat=True)) == {share}
    assert balances()[f"earned:school:{city.a1.pk}"] == share * 4
    # Computing again changes nothing: no second line, no second release.
    again = _compute(after)
    assert (again.created, again.released_fen) == (0, 0)
    assert Release.objects.count() == 4
    assert verify().balanced, verify().breaches


def test_undelivered_sessions_never_pay(city: City, lesson: Any) -> None:
    cls, _orders = lesson
    s = sessions(cls)
    deliver(s[0], outcome="outside")  # outside, no make-up
    deliver(s[1], marked=False)  # the sheet closed with nobody marked
    deliver(s[2], closed=False)  # the roll call is still open
    deliver(s[3], outcome="missed", makeup="pending")  # a make-up the school has not approved
    deliver(s[4], outcome="missed", makeup="approved")  # … and one it approved: this one pays
    result = _compute(session_bounds(s[4])[1] + timedelta(days=1))
    assert result.created == 1
    assert list(PayLine.objects.values_list("session_id", flat=True)) == [s[4].pk]
    assert Release.objects.filter(session__in=s[:4]).count() == 0


def test_a_substitutes_session_pays_the_substitute(city: City, lesson: Any) -> None:
    from kehou.attendance.models import SessionSubstitute
    from kehou.testing import factories as f

    cls, _orders = lesson
    first = sessions(cls)[0]
    other = f.teacher_at(city.a1).teacher_profile
    SessionSubstitute.objects.create(
        session=first,
        teacher=other,
        reason="病假",
        named_by=city.users["school_admin"],
        named_at=first.course_class.created_at,
    )
    _compute(deliver(first, teacher=other))
    line = PayLine.objects.get(session=first)
    assert line.teacher_id == other.pk and line.substitute


def test_approval_goes_school_then_operator_and_locks(city: City, lesson: Any) -> None:
    cls, _orders = lesson
    s = sessions(cls)
    after = max(deliver(x) for x in s[:3])
    _compute(after)
    period = PayLine.objects.first().period  # type: ignore[union-attr]
    school, operator = city.users["school_admin"], city.users["operator_staff"]
    # The operator cannot approve before the school.
    with pytest.raises(KehouError) as e:
        pl.pay_operator_approve(actor=operator, school=city.a1, period=period, now=after)
    assert _code(e) == "pay_nothing_to_approve"
    # Others may not approve for the school.
    for who in ("operator_staff", "teacher", "district_admin"):
        with pytest.raises(KehouError) as e:
            pl.pay_school_approve(actor=city.users[who], school=city.a1, period=period, now=after)
        assert _code(e) in ("not_pay_approver", "not_found")
    assert PayLine.objects.filter(status="computed").count() == 3
    assert pl.pay_school_approve(actor=school, school=city.a1, period=period, now=after) == 3
    with pytest.raises(KehouError) as e:  # twice
        pl.pay_school_approve(actor=school, school=city.a1, period=period, now=after)
    assert _code(e) == "pay_nothing_to_approve"
    with pytest.raises(KehouError) as e:  # the school is not the operator
        pl.pay_operator_approve(actor=school, school=city.a1, period=period, now=after)
    assert _code(e) == "not_pay_approver"
    assert pl.pay_operator_approve(actor=operator, school=city.a1, period=period, now=after) == 3
    assert balances()["teacher_pay_payable"] == 3 * RATE
    # Locked: rejecting or recomputing an approved line changes nothing.
    line = PayLine.objects.first()
    with pytest.raises(KehouError) as e:
        pl.pay_line_reject(actor=school, line=line, reason="不对", now=after)  # type: ignore[arg-type]
    assert _code(e) == "pay_line_state"
    standard_for(cls).__class__.objects.update(rate_fen=RATE * 2)
    _compute(after)
    assert set(PayLine.objects.values_list("amount_fen", "status")) == {(RATE, "approved")}
    assert verify().balanced, verify().breaches


def test_an_operator_not_authorised_for_the_school_cannot_approve(city: City) -> None:
    from kehou.core.roles import Role
    from kehou.testing import factories as f

    cls, _orders = paid_class(city.b1, 2)
    standard_for(cls)
    after = deliver(sessions(cls)[0])
    _compute(after)
    b1_admin = f.UserFactory(username="school_b1")
    f.grant(b1_admin, Role.SCHOOL_ADMIN, school=city.b1)
    period = PayLine.objects.get().period
    pl.pay_school_approve(actor=b1_admin, school=city.b1, period=period, now=after)
    with pytest.raises(KehouError) as e:
        pl.pay_operator_approve(actor=city.users["operator_staff"], school=city.b1, period=period, now=after)
    assert _code(e) in ("not_found", "not_pay_approver")
    assert PayLine.objects.get().status == "school_approved"


def test_reject_dispute_reinstate(city: City, lesson: Any) -> None:
    cls, _orders = lesson
    first = sessions(cls)[0]
    after = deliver(first)
    _compute(after)
    line = PayLine.objects.get()
    school, teacher = city.users["school_admin"], city.users["teacher"]
    with pytest.raises(KehouError) as e:
        pl.pay_line_reject(actor=school, line=line, reason="  ", now=after)
    assert _code(e) == "pay_reason_invalid"
    pl.pay_line_reject(actor=school, line=line, reason="当天学生春游，未上课", now=after)
    line.refresh_from_db()
    assert line.status == "rejected"
    with pytest.raises(KehouError) as e:  # only the line's teacher disputes
        pl.pay_line_dispute(actor=school, line=line, reason="我上了课", now=after)
    assert _code(e) == "not_line_teacher"
    pl.pay_line_dispute(actor=teacher, line=line, reason="我在学校上了课，有签到记录", now=after)
    with pytest.raises(KehouError) as e:  # once at a time
        pl.pay_line_dispute(actor=teacher, line=line, reason="再一次", now=after)
    assert _code(e) == "pay_line_state"
    pl.pay_dispute_answer(actor=school, line=line, reinstate=True, answer="核实无误，恢复", now=after)
    line.refresh_from_db()
    assert (line.status, line.reject_reason, line.dispute_open) == ("computed", "", False)
    assert pl.pay_school_approve(actor=school, school=city.a1, period=line.period, now=after) == 1


def test_a_refund_takes_only_what_is_not_released(city: City, lesson: Any) -> None:
    from kehou.payments.services.refunds import _reserve

    cls, orders = lesson
    s = sessions(cls)
    _compute(max(deliver(x) for x in s[:2]))
    course = OrderLine.objects.get(order=orders[0], kind="course")
    room = course.amount_fen - course.released_fen
    assert course.released_fen == 2 * (cls.fee_fen // cls.session_count)
    from django.db import transaction

    with pytest.raises(KehouError) as e, transaction.atomic():
        _reserve(orders[0], course_fen=room + 1, materials_fen=0)
    assert _code(e) == "refund_exceeds_paid"
    _reserve(orders[0], course_fen=room, materials_fen=0)
    course.refresh_from_db()
    assert course.refunded_fen + course.released_fen == course.amount_fen


def test_the_last_session_releases_what_rounding_left(city: City, lesson: Any) -> None:
    cls, orders = lesson
    at = max(deliver(x) for x in sessions(cls))
    _compute(at)
    assert set(OrderLine.objects.filter(order__in=orders).values_list("released_fen", flat=True)) == {cls.fee_fen}
    assert balances()[f"prepaid:school:{city.a1.pk}"] == 0
    assert verify().balanced, verify().breaches


def test_tax_table() -> None:
    from datetime import date

    day = date(2026, 11, 30)
    assert withholding(income_fen=800_00, teacher_kind="outside", on=day) == (0, "labour-2019")
    assert withholding(income_fen=3000_00, teacher_kind="outside", on=day)[0] == 440_00  # (3000−800)×20 %
    assert withholding(income_fen=5000_00, teacher_kind="outside", on=day)[0] == 800_00  # 5000×80 %×20 %
    assert withholding(income_fen=30000_00, teacher_kind="outside", on=day)[0] == 5200_00  # 24000×30 %−2000
    assert withholding(income_fen=100000_00, teacher_kind="outside", on=day)[0] == 25000_00  # 80000×40 %−7000
    assert withholding(income_fen=5000_00, teacher_kind="staff", on=day) == (0, "staff-wages")
    assert withholding(income_fen=4000_01, teacher_kind="outside", on=day)[0] == 640_00  # 320000.8 fen → 64000.16


def _approved(city: City, lesson: Any, n: int = 3) -> tuple[str, Any]:
    cls, _orders = lesson
    after = max(deliver(x) for x in sessions(cls)[:n])
    _compute(after)
    period = PayLine.objects.first().period  # type: ignore[union-attr]
    pl.pay_school_approve(actor=city.users["school_admin"], school=city.a1, period=period, now=after)
    pl.pay_operator_approve(actor=city.users["operator_staff"], school=city.a1, period=period, now=after)
    return period, after


def _operator(city: City) -> Any:
    from kehou.orgs.models import OperatorCompany

    return OperatorCompany.objects.get(staff__user=city.users["operator_staff"])


def test_a_payout_batch_pays_each_teacher_once_through_the_simulator(city: City, lesson: Any, settings: Any) -> None:
    settings.KEHOU_PAYROLL = {**settings.KEHOU_PAYROLL, "PAYOUT_CHANNEL": "simulator"}
    period, after = _approved(city, lesson)
    teacher = city.users["teacher"].teacher_profile
    bind_payee(teacher)
    operator = _operator(city)
    with pytest.raises(KehouError) as e:
        po.payout_batch_start(
            actor=city.users["school_admin"], operator=operator, period=period, request_key="batch-key-1", now=after
        )
    assert _code(e) in ("not_pay_approver", "not_found")
    batch, skipped = po.payout_batch_start(
        actor=city.users["operator_staff"], operator=operator, period=period, request_key="batch-key-1", now=after
    )
    assert skipped == []
    payout = Payout.objects.get(batch=batch)
    assert (payout.gross_fen, payout.tax_fen, payout.net_fen) == (3 * RATE, 0, 3 * RATE)
    assert set(PayLine.objects.values_list("status", flat=True)) == {"paying"}
    # The same request again answers with the same batch; a new one finds nothing left to pay.
    assert (
        po.payout_batch_start(
            actor=city.users["operator_staff"], operator=operator, period=period, request_key="batch-key-1", now=after
        )[0]
        == batch
    )
    with pytest.raises(KehouError) as e:
        po.payout_batch_start(
            actor=city.users["operator_staff"], operator=operator, period=period, request_key="batch-key-2", now=after
        )
    assert _code(e) in ("payout_batch_running", "payout_nothing")
    assert po.payout_send(payout_id=payout.pk, now=after) == "with the channel (accepted)"
    assert po.simulator_deliver(now=after + timedelta(seconds=31)) == 1
    payout.refresh_from_db()
    assert payout.status == "paid"
    assert set(PayLine.objects.values_list("status", flat=True)) == {"paid"}
    b = balances()
    assert b["teacher_pay_payable"] == 0
    assert PayoutBatch.objects.get(pk=batch.pk).status == "done"
    # A repeated notification changes nothing.
    from kehou.payments.models import SimulatorTrade
    from kehou.payroll.channels.simulator import PayoutSimulator

    trade = SimulatorTrade.objects.get(kind="transfer")
    headers, body = PayoutSimulator().signed(trade, openid="x", now=after + timedelta(seconds=40))
    po.payout_notification_receive(channel="simulator", headers=headers, body=body, now=after + timedelta(seconds=40))
    assert balances() == b
    assert verify().balanced, verify().breaches


def test_a_lost_answer_is_sent_again_under_the_same_bill_number(city: City, lesson: Any, settings: Any) -> None:
    settings.KEHOU_PAYROLL = {**settings.KEHOU_PAYROLL, "PAYOUT_CHANNEL": "simulator"}
    period, after = _approved(city, lesson, 2)
    bind_payee(city.users["teacher"].teacher_profile, openid="oTIMEOUT-timeout")
    batch, _ = po.payout_batch_start(
        actor=city.users["operator_staff"],
        operator=_operator(city),
        period=period,
        request_key="batch-key-0",
        now=after,
    )
    payout = Payout.objects.get(batch=batch)
    assert po.payout_send(payout_id=payout.pk, now=after).startswith("unknown")
    payout.refresh_from_db()
    assert (payout.status, payout.attempts) == ("pending", 1)
    po.payouts_poll(now=after + timedelta(seconds=31))
    payout.refresh_from_db()
    assert (payout.status, payout.attempts) == ("sent", 2)
    from kehou.payments.models import SimulatorTrade

    assert SimulatorTrade.objects.filter(kind="transfer").count() == 1  # one transfer, one number
    po.simulator_deliver(now=after + timedelta(seconds=62))
    payout.refresh_from_db()
    assert payout.status == "paid"
    assert verify().balanced, verify().breaches


def test_a_failed_payout_gives_its_lines_back_and_a_forged_notice_is_refused(
    city: City, lesson: Any, settings: Any
) -> None:
    settings.KEHOU_PAYROLL = {**settings.KEHOU_PAYROLL, "PAYOUT_CHANNEL": "simulator"}
    period, after = _approved(city, lesson, 2)
    bind_payee(city.users["teacher"].teacher_profile, openid="oFAIL-fail")
    batch, _ = po.payout_batch_start(
        actor=city.users["operator_staff"],
        operator=_operator(city),
        period=period,
        request_key="batch-key-0",
        now=after,
    )
    payout = Payout.objects.get(batch=batch)
    po.payout_send(payout_id=payout.pk, now=after)
    with pytest.raises(KehouError) as e:
        po.payout_notification_receive(
            channel="simulator",
            headers={
                "Wechatpay-Serial": "X",
                "Wechatpay-Timestamp": "1",
                "Wechatpay-Nonce": "n",
                "Wechatpay-Signature": "s",
            },
            body=b"{}",
            now=after,
        )
    assert _code(e) == "payout_notification_rejected"
    po.simulator_deliver(now=after + timedelta(seconds=31))
    payout.refresh_from_db()
    assert payout.status == "failed" and payout.failure
    assert set(PayLine.objects.values_list("status", "payout")) == {("approved", None)}
    assert balances()["teacher_pay_payable"] == 2 * RATE
    # A later batch pays them under a new number.
    Payee = payout.teacher.payee.__class__
    Payee.objects.filter(teacher=payout.teacher).update(openid="oFIXED")
    batch2, _ = po.payout_batch_start(
        actor=city.users["operator_staff"],
        operator=_operator(city),
        period=period,
        request_key="batch-key-2",
        now=after,
    )
    second = Payout.objects.get(batch=batch2)
    assert second.out_bill_no != payout.out_bill_no
    assert verify().balanced, verify().breaches


def test_an_outside_teacher_has_tax_withheld(city: City, settings: Any) -> None:
    from kehou.testing import factories as f

    settings.KEHOU_PAYROLL = {**settings.KEHOU_PAYROLL, "PAYOUT_CHANNEL": "simulator"}
    outsider = f.teacher_at(city.a1).teacher_profile
    cls, _orders = paid_class(city.a1, 30, teacher=outsider)
    outsider.__class__.objects.filter(pk=outsider.pk).update(kind="outside")  # (admitted through the library)
    outsider.refresh_from_db()
    standard_for(cls, kind="outside", rate=300_00)
    after = max(deliver(x) for x in sessions(cls)[:12])
    _compute(after)
    for period in sorted(set(PayLine.objects.values_list("period", flat=True))):
        pl.pay_school_approve(actor=city.users["school_admin"], school=city.a1, period=period, now=after)
        pl.pay_operator_approve(actor=city.users["operator_staff"], school=city.a1, period=period, now=after)
    bind_payee(outsider)
    period = PayLine.objects.order_by("period").first().period  # type: ignore[union-attr]
    batch, _ = po.payout_batch_start(
        actor=city.users["operator_staff"],
        operator=_operator(city),
        period=period,
        request_key="batch-key-0",
        now=after,
    )
    payout = Payout.objects.get(batch=batch)
    assert payout.tax_fen == withholding(income_fen=payout.gross_fen, teacher_kind="outside", on=after.date())[0] > 0
    po.payout_send(payout_id=payout.pk, now=after)
    po.simulator_deliver(now=after + timedelta(seconds=31))
    assert balances()["tax_withheld_payable"] == payout.tax_fen
    assert verify().balanced, verify().breaches


def test_a_payout_with_no_answer_after_every_attempt_is_asked_about_then_failed(
    city: City, lesson: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kehou.payroll.channels.base import PayoutUnavailable
    from kehou.payroll.channels.simulator import PayoutSimulator

    settings.KEHOU_PAYROLL = {**settings.KEHOU_PAYROLL, "PAYOUT_CHANNEL": "simulator", "SEND_ATTEMPTS": 2}
    period, after = _approved(city, lesson, 2)
    bind_payee(city.users["teacher"].teacher_profile)
    batch, _ = po.payout_batch_start(
        actor=city.users["operator_staff"],
        operator=_operator(city),
        period=period,
        request_key="batch-key-9",
        now=after,
    )
    payout = Payout.objects.get(batch=batch)

    def down(self: Any, request: Any, *, now: Any) -> Any:
        raise PayoutUnavailable("the channel is down")

    monkeypatch.setattr(PayoutSimulator, "transfer", down)  # it never reached the channel
    po.payout_send(payout_id=payout.pk, now=after)
    po.payouts_poll(now=after + timedelta(seconds=31))
    payout.refresh_from_db()
    assert (payout.status, payout.attempts) == ("pending", 2)
    po.payouts_poll(now=after + timedelta(seconds=62))  # no more sends: the channel has nothing under the number
    payout.refresh_from_db()
    assert (payout.status, payout.failure) == ("failed", "NO_ANSWER_AFTER_RETRIES")
    assert set(PayLine.objects.values_list("status", flat=True)) == {"approved"}
    assert PayoutBatch.objects.get(pk=batch.pk).status == "done"
    assert verify().balanced, verify().breaches


def test_a_pay_period_may_span_several_months(city: City, lesson: Any, settings: Any) -> None:
    from datetime import date

    settings.KEHOU_PAYROLL = {**settings.KEHOU_PAYROLL, "PERIOD_MONTHS": 3}
    assert pl.period_of(date(2026, 11, 9)) == "2026-10" and pl.period_of(date(2027, 1, 4)) == "2027-01"
    assert pl.period_label("2026-10") == "2026-10 – 2026-12"
    cls, _orders = lesson
    after = max(deliver(x) for x in sessions(cls)[:3])
    _compute(after)
    period = pl.period_of(sessions(cls)[0].date)
    assert set(PayLine.objects.values_list("period", flat=True)) <= {period, pl.period_of(sessions(cls)[2].date)}
    misaligned = f"{period[:5]}{int(period[5:]) + 1:02d}"
    with pytest.raises(KehouError) as e:
        pl.pay_school_approve(actor=city.users["school_admin"], school=city.a1, period=misaligned, now=after)
    assert _code(e) == "pay_period_invalid"
    assert pl.pay_school_approve(actor=city.users["school_admin"], school=city.a1, period=period, now=after) >= 1
