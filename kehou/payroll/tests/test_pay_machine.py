"""A hypothesis state machine over teachers' pay and the fees it comes out of: sessions are delivered (and their
shares released from escrow), guardians cancel places and are refunded through the simulator (settled, failed or
later), the school approves a month, rejects lines, teachers dispute and the school answers, the operator approves
(the ledger accrues), payout batches start, payouts are sent (some answers lost, some transfers failing for good),
the payout simulator's notifications arrive (and arrive again), time passes.

After every step: the ledger's invariants (``verify()``, with the payments' checks) hold; no place is refunded and
released beyond what it was charged; no pay line is paid twice; what left teachers' pay payable is exactly the gross
of the paid payouts (and what came in, exactly the approved lines); every line's status agrees with its payout."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any, ClassVar

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from kehou.conftest import City
from kehou.core.errors import KehouError
from kehou.enrolment.models import ClassSession, CourseClass
from kehou.enrolment.tests.factories import NOW, key
from kehou.ledger.models import Posting
from kehou.ledger.selectors import balances, verify
from kehou.ledger.services import TAX_WITHHELD_PAYABLE, TEACHER_PAY_PAYABLE
from kehou.orgs.models import OperatorCompany
from kehou.payments.channels.simulator import SimulatorGateway
from kehou.payments.models import Order, OrderLine, Refund, SimulatorTrade
from kehou.payments.services.refunds import refund_request
from kehou.payments.services.ticker import payments_tick
from kehou.payments.services.ticker import simulator_deliver as payments_simulator_deliver
from kehou.payroll.channels.simulator import PayoutSimulator
from kehou.payroll.models import Payee, PayLine, Payout, PayoutBatch
from kehou.payroll.services import lines as pl
from kehou.payroll.services import payouts as po
from kehou.people.models import TeacherProfile, User
from kehou.testing import factories as f

from .factories import bind_payee, deliver, paid_class, standard_for

pytestmark = pytest.mark.django_db

OUTSIDE_RATE = 300_00  # three class hours in a month pass the 800-yuan allowance: tax is withheld
STAFF_MATERIALS = 20_00
OUTSIDE_MATERIALS = 300_00  # released whole with the first session: the school's earned fees cover the outside rate
OPENIDS = ["", "-timeout", "-fail"]

# Refusals an action taken out of order may meet; anything else is a failure.
ALLOWED = {
    "pay_nothing_to_approve",
    "pay_line_state",
    "payout_nothing",
    "payout_batch_running",
    "payee_missing",
    "refund_exceeds_paid",
    "ledger_insufficient",  # the operator's accrual: the school's earned fees do not cover the month's pay
    "payout_notification_rejected",
}


def simulator_payments(orders: list[Order]) -> None:
    """The simulator's own record of each order's payment, so that refunds go through it."""
    for order in orders:
        attempt = order.attempts.get(status="paid")
        SimulatorTrade.objects.create(
            kind="payment",
            out_trade_no=attempt.out_trade_no,
            out_refund_no="",
            channel_id=f"SIM{attempt.out_trade_no}",
            amount_fen=attempt.amount_fen,
            status="paid",
            created_at=attempt.created_at,
            finished_at=attempt.finished_at,
        )


class PayMachine(RuleBasedStateMachine):
    city: ClassVar[City]

    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.now = NOW
        self.refusals: Counter[str] = Counter()
        self.last_batch_key = ""

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # --- the school, its two classes, their teachers ------------------------------------------------------------
    @initialize(
        staff_openid=st.sampled_from(OPENIDS),
        outside_openid=st.sampled_from([*OPENIDS, None]),
        staff_pupils=st.integers(3, 4),
        held=st.tuples(st.integers(0, 4), st.integers(0, 4)),
        stage=st.sampled_from(["held", "school", "operator", "batch"]),
    )
    def a_school_with_two_paid_classes(
        self, staff_openid: str, outside_openid: str | None, staff_pupils: int, held: tuple[int, int], stage: str
    ) -> None:
        city = self.city
        self.school = city.a1
        self.school_admin = city.users["school_admin"]
        self.operator_user = city.users["operator_staff"]
        self.operator = OperatorCompany.objects.get(staff__user=self.operator_user)
        self.staff = city.users["teacher"].teacher_profile
        outsider = f.teacher_at(city.a1).teacher_profile
        staff_class, staff_orders = paid_class(city.a1, staff_pupils, teacher=self.staff, materials=STAFF_MATERIALS)
        outside_class, outside_orders = paid_class(city.a1, 4, teacher=outsider, materials=OUTSIDE_MATERIALS)
        # (Admitted through the teacher library, as the pay tests have it.)
        TeacherProfile.objects.filter(pk=outsider.pk).update(kind="outside")
        outsider.refresh_from_db()
        self.outsider = outsider
        standard_for(staff_class)
        standard_for(outside_class, kind="outside", rate=OUTSIDE_RATE)
        self.classes: list[CourseClass] = [staff_class, outside_class]
        self.orders = staff_orders + outside_orders
        simulator_payments(self.orders)
        # Each place's guardian (the one who cancels and is refunded).
        self.guardian: dict[int, User] = {order.pk: f.guardian_of(order.pupil) for order in self.orders}
        bind_payee(self.staff, openid=f"oSTAFF{staff_openid}")
        if outside_openid is not None:
            bind_payee(outsider, openid=f"oOUT{outside_openid}")
        # The term may have begun: its first sessions were held, and their pay may be on its way.
        for which, count in enumerate(held):
            if count:
                self._deliver(which, count, "inside")
        if stage != "held":
            self.the_school_approves_a_month(pick=1)
        if stage in ("operator", "batch"):
            self.the_operator_approves_a_month(pick=1)
        if stage == "batch":
            self.the_operator_starts_a_payout_batch(pick=1, same_key=False, send=True)

    # --- helpers ---------------------------------------------------------------------------------------------
    def _refused(self, refusal: KehouError) -> None:
        assert str(refusal.code) in ALLOWED, (refusal.code, str(refusal))
        self.refusals[str(refusal.code)] += 1

    def _period(self, pick: int, status: str) -> str:
        """Mostly a month with lines in the status the step acts on; sometimes any month (out of order)."""
        lines = PayLine.objects.all() if pick % 4 == 0 else PayLine.objects.filter(status=status)
        periods = sorted(set(lines.values_list("period", flat=True)))
        return self._pick(periods, pick // 4) or f"{self.now:%Y-%m}"

    def _pick(self, items: list[Any], pick: int) -> Any:
        return items[pick % len(items)] if items else None

    def _compute(self) -> None:
        pl.pay_lines_compute(now=self.now, since=NOW.date() - timedelta(days=30), until=self.now.date())

    # --- delivery --------------------------------------------------------------------------------------------
    @rule(
        which=st.integers(0, 1),
        count=st.integers(1, 3),
        how=st.sampled_from(["inside", "inside", "inside", "makeup", "outside"]),
    )
    def sessions_are_delivered(self, which: int, count: int, how: str) -> None:
        """The next sessions of a class are held (a check-in inside, a make-up the school approved, or a check-in
        outside that pays nothing; a roll call taken and closed), and the pay computation runs."""
        self._deliver(which, count, how)

    def _deliver(self, which: int, count: int, how: str) -> None:
        cls = self.classes[which]
        todo = list(
            ClassSession.objects.filter(course_class=cls, check_in__isnull=True)
            .select_related("course_class")
            .order_by("number")[:count]
        )
        if not todo:
            return
        for session in todo:
            if how == "makeup":
                after = deliver(session, outcome="missed", makeup="approved")
            else:
                after = deliver(session, outcome=how)
            self.now = max(self.now, after)
        self._compute()

    # --- guardians cancel and are refunded ---------------------------------------------------------------------
    @rule(pick=st.integers(0, 100), twice=st.booleans(), channel=st.sampled_from(["later", "settles", "fails"]))
    def a_guardian_cancels_and_is_refunded(self, pick: int, twice: bool, channel: str) -> None:
        order = self._pick(self.orders, pick)
        for _ in range(2 if twice else 1):
            try:
                refund_request(
                    actor=self.guardian[order.pk], order=Order.objects.get(pk=order.pk), request_key=key(), now=self.now
                )
            except KehouError as refusal:
                self._refused(refusal)
        if channel != "later":
            for refund in Refund.objects.filter(order=order, status="processing"):
                SimulatorGateway().settle_refund(
                    out_refund_no=refund.refund_no, now=self.now, scenario="fail" if channel == "fails" else "once"
                )
            payments_simulator_deliver(now=self.now)

    @rule(seconds=st.integers(1, 600))
    def time_passes_and_the_tickers_run(self, seconds: int) -> None:
        """The payments ticker (refunds asked about, their notifications delivered) and payroll's (the payout
        simulator's notifications delivered, payouts whose answer was lost sent again, long silences asked about)."""
        self.now += timedelta(seconds=seconds)
        payments_tick(now=self.now)
        po.simulator_deliver(now=self.now)  # (payroll's follow_payouts task: notifications, then the poll)
        po.payouts_poll(now=self.now)

    # --- the school's and the teacher's steps ------------------------------------------------------------------
    @rule(pick=st.integers(0, 10))
    def the_school_approves_a_month(self, pick: int) -> None:
        period = self._period(pick, "computed")
        try:
            pl.pay_school_approve(actor=self.school_admin, school=self.school, period=period, now=self.now)
        except KehouError as refusal:
            self._refused(refusal)

    @precondition(lambda self: PayLine.objects.exists())
    @rule(pick=st.integers(0, 100))
    def the_school_rejects_a_line(self, pick: int) -> None:
        line = self._pick(list(PayLine.objects.order_by("pk")), pick)
        try:
            pl.pay_line_reject(actor=self.school_admin, line=line, reason="当天未见上课", now=self.now)
        except KehouError as refusal:
            self._refused(refusal)

    @precondition(lambda self: PayLine.objects.exists())
    @rule(pick=st.integers(0, 100))
    def the_teacher_disputes_a_line(self, pick: int) -> None:
        line = self._pick(list(PayLine.objects.select_related("teacher__user").order_by("pk")), pick)
        try:
            pl.pay_line_dispute(actor=line.teacher.user, line=line, reason="我上了课，有签到记录", now=self.now)
        except KehouError as refusal:
            self._refused(refusal)

    @precondition(lambda self: PayLine.objects.filter(disputed_at__isnull=False).exists())
    @rule(pick=st.integers(0, 100), reinstate=st.booleans())
    def the_school_answers_a_dispute(self, pick: int, reinstate: bool) -> None:
        line = self._pick(list(PayLine.objects.filter(disputed_at__isnull=False).order_by("pk")), pick)
        try:
            pl.pay_dispute_answer(
                actor=self.school_admin, line=line, reinstate=reinstate, answer="已核实", now=self.now
            )
        except KehouError as refusal:
            self._refused(refusal)

    # --- the operator's steps ----------------------------------------------------------------------------------
    @rule(pick=st.integers(0, 10))
    def the_operator_approves_a_month(self, pick: int) -> None:
        period = self._period(pick, "school_approved")
        try:
            pl.pay_operator_approve(actor=self.operator_user, school=self.school, period=period, now=self.now)
        except KehouError as refusal:
            self._refused(refusal)

    @rule(pick=st.integers(0, 10), same_key=st.booleans(), send=st.booleans())
    def the_operator_starts_a_payout_batch(self, pick: int, same_key: bool, send: bool) -> None:
        """A batch starts; with ``send``, the worker runs the send tasks it enqueued (on commit, in production)."""
        period = self._period(pick, "approved")
        request_key = self.last_batch_key if same_key and self.last_batch_key else key()
        self.last_batch_key = request_key
        try:
            batch, _skipped = po.payout_batch_start(
                actor=self.operator_user, operator=self.operator, period=period, request_key=request_key, now=self.now
            )
        except KehouError as refusal:
            self._refused(refusal)
            return
        if send:
            for payout in batch.payouts.order_by("pk"):
                po.payout_send(payout_id=payout.pk, now=self.now)

    @rule()
    def the_month_moves_on(self) -> None:
        """Whoever's turn it is takes the next step of the usual course: the school approves, the operator approves,
        the operator pays out (the worker sends), the channel's notifications arrive."""
        statuses = set(PayLine.objects.values_list("status", flat=True))
        if "computed" in statuses:
            self.the_school_approves_a_month(pick=1)
        elif "school_approved" in statuses:
            self.the_operator_approves_a_month(pick=1)
        elif "approved" in statuses and not PayoutBatch.objects.filter(status="sending").exists():
            self.the_operator_starts_a_payout_batch(pick=1, same_key=False, send=True)
        else:
            self.the_payout_simulator_notifies(seconds=31)

    @precondition(lambda self: Payout.objects.exists())
    @rule(pick=st.integers(0, 100))
    def the_worker_sends_a_payout(self, pick: int) -> None:
        """The send task runs (for a payout waiting, with the channel, or already finished: it does nothing)."""
        waiting = Payout.objects.filter(status__in=["pending", "sent"]) if pick % 4 else Payout.objects.all()
        payout = self._pick(list(waiting.order_by("pk")), pick // 4) or Payout.objects.order_by("pk").first()
        po.payout_send(payout_id=payout.pk, now=self.now)

    @rule(seconds=st.integers(0, 90))
    def the_payout_simulator_notifies(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)
        po.simulator_deliver(now=self.now)

    @precondition(lambda self: SimulatorTrade.objects.filter(kind="transfer").exists())
    @rule(pick=st.integers(0, 100))
    def a_payout_notification_arrives_again(self, pick: int) -> None:
        trade = self._pick(list(SimulatorTrade.objects.filter(kind="transfer").order_by("pk")), pick)
        headers, body = PayoutSimulator().signed(trade, openid="oAGAIN", now=self.now)
        try:
            po.payout_notification_receive(channel="simulator", headers=headers, body=body, now=self.now)
        except KehouError as refusal:
            self._refused(refusal)

    @precondition(lambda self: Payee.objects.exists())
    @rule(pick=st.integers(0, 1), suffix=st.sampled_from(OPENIDS))
    def a_teacher_binds_another_account(self, pick: int, suffix: str) -> None:
        payee = self._pick(list(Payee.objects.order_by("pk")), pick)
        Payee.objects.filter(pk=payee.pk).update(openid=f"oREBOUND{payee.pk}{suffix}")

    # --- invariants -----------------------------------------------------------------------------------------
    @invariant()
    def the_ledger_balances(self) -> None:
        result = verify()
        assert result.balanced, result.breaches
        assert result.breaches == []

    @invariant()
    def no_place_is_refunded_and_released_beyond_its_charge(self) -> None:
        for line in OrderLine.objects.all():
            assert line.refunded_fen >= 0 and line.released_fen >= 0, line.pk
            assert line.refunded_fen + line.released_fen <= line.amount_fen, (
                line.pk,
                line.amount_fen,
                line.refunded_fen,
                line.released_fen,
            )

    @invariant()
    def no_line_is_paid_twice(self) -> None:
        paid_lines = Counter(
            line_id
            for ids in Payout.objects.filter(status="paid").values_list("line_ids", flat=True)
            for line_id in ids
        )
        twice = {line_id: n for line_id, n in paid_lines.items() if n > 1}
        assert not twice, twice
        # A line is carried by at most one payout that is not finished or paid.
        live = Counter(
            line_id
            for ids in Payout.objects.filter(status__in=["pending", "sent", "paid"]).values_list("line_ids", flat=True)
            for line_id in ids
        )
        assert all(n == 1 for n in live.values()), live

    @invariant()
    def teachers_pay_payable_moves_exactly_with_lines_and_paid_payouts(self) -> None:
        left = Posting.objects.filter(debit__code=TEACHER_PAY_PAYABLE).aggregate(s=Sum("amount_fen"))["s"] or 0
        came = Posting.objects.filter(credit__code=TEACHER_PAY_PAYABLE).aggregate(s=Sum("amount_fen"))["s"] or 0
        paid = Payout.objects.filter(status="paid")
        assert left == (paid.aggregate(s=Sum("gross_fen"))["s"] or 0)
        accrued = PayLine.objects.filter(status__in=["approved", "paying", "paid"])
        assert came == (accrued.aggregate(s=Sum("amount_fen"))["s"] or 0)
        tax = paid.aggregate(s=Sum("tax_fen"))["s"] or 0
        assert balances().get(TAX_WITHHELD_PAYABLE, 0) == tax

    @invariant()
    def lines_and_payouts_agree(self) -> None:
        lines = {line.pk: line for line in PayLine.objects.all()}
        for line in lines.values():
            bound = line.status in ("paying", "paid")
            assert (line.payout_id is not None) == bound, (line.pk, line.status, line.payout_id)
            if line.status in ("approved", "paying", "paid"):
                assert line.approved_at is not None and line.accrual_key
        for payout in Payout.objects.all():
            carried = [lines[i] for i in payout.line_ids]
            assert payout.gross_fen == sum(line.amount_fen for line in carried)
            assert payout.net_fen == payout.gross_fen - payout.tax_fen
            assert {line.teacher_id for line in carried} == {payout.teacher_id}
            assert {line.period for line in carried} == {payout.period}
            if payout.status in ("pending", "sent"):
                assert all(line.status == "paying" and line.payout_id == payout.pk for line in carried), payout
            elif payout.status == "paid":
                assert all(line.status == "paid" and line.payout_id == payout.pk for line in carried), payout
            else:  # failed: its lines were given back (and may be carried by a later payout)
                assert all(line.payout_id != payout.pk for line in carried), payout
        for batch in PayoutBatch.objects.all():
            open_ = batch.payouts.filter(status__in=["pending", "sent"]).exists()
            assert (batch.status == "sending") == open_, (batch.pk, batch.status)


def test_pay_state_machine(city: City, settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = tmp_path
    settings.KEHOU_PAYMENT_CHANNELS = ["simulator"]
    settings.KEHOU_PAYROLL = {**settings.KEHOU_PAYROLL, "PAYOUT_CHANNEL": "simulator"}
    PayMachine.city = city
    run_state_machine_as_test(
        PayMachine,
        settings=hsettings(
            max_examples=15,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
        ),
    )
