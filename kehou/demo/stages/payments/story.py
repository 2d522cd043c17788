"""The payments stage after the classes (:class:`Story`): the first period of the term in three schools, refunds in
every state, a late payment refunded automatically, a duplicated and a forged notification, the ticker's last run,
and the reconciliation of yesterday's bill."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from kehou.core.errors import Conflict, KehouError
from kehou.demo.common import TZ, expected_warnings, natural_key, seeded_rng

from .places import CHANNEL, PAYER_REF, SETTLE_AFTER, TIERED_DISTRICT, Cashier, set_policies
from .readback import payments_counts

# The first period of the term: (school, weekdays of its class). None of them runs classes in the classes demo.
EARLY_SCHOOLS: tuple[tuple[str, tuple[int, int]], ...] = (
    ("东湖区百花洲小学", (0, 2)),
    ("青山湖区湖坊小学", (1, 3)),
    ("红谷滩区九龙湖学校", (0, 3)),
)
EARLY_PUPILS = 12  # places sold in each first-period class (fewer where the school has fewer pupils)
EARLY_MATERIALS = ("课程材料包（讲义与练习册）", 4500)  # when the course's own version names none
CANCEL_REASONS = ("孩子周二有校队训练，时间冲突", "搬家转学", "孩子不太喜欢这门课", "家里接送不方便")


class Story:
    def __init__(self, seed: int, base: datetime) -> None:
        from kehou.people.models import Guardian, User

        self.seed, self.base = seed, base
        self.cashier = Cashier(seed, "story")
        self.cashier.base = base
        self.users = {u.username: u for u in User.objects.filter(username__regex=r"^(city|district-\d+|school-\d+)$")}
        # The guardians who act in the story: those of the first period's schools (their first guardian each).
        self.guardian: dict[int, Any] = {}
        early = [name for name, _weekdays in EARLY_SCHOOLS]
        for g in Guardian.objects.filter(pupil__school__name__in=early).select_related("user").order_by("pk"):
            self.guardian.setdefault(g.pupil_id, g.user)
        self.late_done = self.duplicate_done = False

    def run(self) -> dict[str, int]:
        from kehou.payments.services.ticker import payments_tick

        set_policies(self.base)
        self.early_period()
        # The ticker's last run before the load: unpaid orders whose hold ran out are closed.
        payments_tick(now=self.base - timedelta(seconds=30))
        self.forged()
        self.reconcile()
        return payments_counts()

    # --- the first period of the term --------------------------------------------------------------------
    def early_period(self) -> None:
        from kehou.orgs.models import School
        from kehou.orgs.selectors import current_term

        term = current_term(today=self.base.date())
        if term is None or term.starts_on > self.base.date():
            return
        today = self.base.date()
        first = today - timedelta(days=today.weekday() + 35)  # a Monday five weeks before the load's week
        first = max(first, term.starts_on)
        if (today - first).days < 14:
            return  # the term started too recently for classes to have met
        for n, (name, weekdays) in enumerate(EARLY_SCHOOLS):
            school = School.objects.select_related("district").filter(name=name).first()
            if school is not None:
                self.early_class(n, school, term, first, weekdays)

    def early_class(self, n: int, school: Any, term: Any, first: date, weekdays: tuple[int, int]) -> None:
        from kehou.catalog.selectors import usable_entries
        from kehou.catalog.services.submissions import fee_standard_for
        from kehou.enrolment.models import ClassSession
        from kehou.enrolment.services.classes import Slot, class_create
        from kehou.enrolment.services.selection import enrolment_select
        from kehou.enrolment.services.windows import window_create
        from kehou.people.models import Pupil, TeacherProfile

        rng = seeded_rng(self.seed, f"payments:early:{school.code}")
        admin = self.users[f"school-{school.code}"]
        entries = sorted(
            usable_entries(school=school).filter(item__kind="course").select_related("item__version", "item__category"),
            key=lambda e: e.item.name,
        )
        grades = list(school.grade_range)
        offers = []
        for entry in entries:
            wanted = [g for g in (entry.item.version.grades or grades) if g in school.grade_range]
            if wanted:
                offers.append((entry, min(wanted), max(wanted)))
        if not offers:
            return
        entry, low, high = max(offers, key=lambda o: (o[2] - o[1], o[0].item.name))
        version = entry.item.version
        standard = fee_standard_for(school.district, entry.item.category)
        if standard is None:
            return
        fee = version.fee_per_hour_fen or standard.max_fee_fen
        fee = max(standard.min_fee_fen, min(standard.max_fee_fen, fee)) // 100 * 100
        if version.materials_description and version.materials_price_fen:
            materials = (version.materials_description[:60], version.materials_price_fen)
        else:
            materials = EARLY_MATERIALS
        minutes = version.minutes_per_hour or 45
        opens = datetime.combine(first - timedelta(days=12), time(8, 0), tzinfo=TZ)
        closes = opens + timedelta(days=7)
        teachers = sorted(
            TeacherProfile.objects.filter(schools=school, kind="staff").select_related("user"),
            key=lambda t: natural_key(t.user.username),
        )
        course_class = None
        for start in (time(16, 0), time(16, 50)):
            end = (datetime.combine(first, start) + timedelta(minutes=minutes)).time()
            for teacher in teachers:
                try:
                    course_class = class_create(
                        actor=admin,
                        school=school,
                        term=term,
                        teacher=teacher,
                        room="综合楼201",
                        capacity=EARLY_PUPILS + 4,
                        grade_min=low,
                        grade_max=high,
                        unit_price_fen=fee,
                        slots=[Slot(d, start, end) for d in weekdays],
                        now=opens - timedelta(days=3, hours=2 - n),
                        entry=entry,
                        name=f"{entry.item.name}（秋季第一期）"[:80],
                        introduction=version.introduction,
                        materials_name=materials[0],
                        materials_fee_fen=materials[1],
                        first_date=first,
                    )
                    break
                except Conflict as exc:
                    if exc.code != "teacher_clash":
                        raise
            if course_class is not None:
                break
        if course_class is None:
            return
        for grade in range(low, high + 1):
            window_create(
                actor=admin,
                school=school,
                term=term,
                grade=grade,
                opens_at=opens,
                closes_at=closes,
                now=opens - timedelta(days=2),
                mode="first_come",
                max_classes=2,
                hold_minutes=15,
                publish=True,
            )
        pupils = [
            pk
            for pk in Pupil.objects.filter(school=school, grade__gte=low, grade__lte=high)
            .order_by("student_number")
            .values_list("pk", flat=True)
            if pk in self.guardian
        ]
        pupils = sorted(rng.sample(pupils, min(EARLY_PUPILS, len(pupils))))
        places = []  # (enrolment, order)
        at = opens + timedelta(minutes=12)
        for i, pk in enumerate(pupils):
            at += timedelta(seconds=rng.randint(60, 600))
            actor = self.guardian[pk]
            try:
                held = enrolment_select(
                    actor=actor, pupil_id=pk, class_id=course_class.pk, request_key=self.cashier.key("s"), now=at
                ).enrolment
            except KehouError:
                continue
            if held.status != "held" or held.waived:
                continue
            if not self.late_done:
                self.late_payment(actor, held, at)
                continue
            order = self.cashier.order(
                actor=actor, enrolment=held, now=at + timedelta(seconds=40), materials=i % 3 == 1
            )
            scenario = "once"
            if not self.duplicate_done:
                scenario, self.duplicate_done = "duplicate", True
            self.cashier.pay(
                actor=actor, order=order, now=at + timedelta(seconds=rng.randint(70, 300)), scenario=scenario
            )
            order.refresh_from_db()
            if order.status == "paid":
                places.append((held, order))
        sessions = list(
            ClassSession.objects.filter(course_class=course_class).order_by("number").values_list("date", "ends_at")
        )
        ended = [datetime.combine(d, e, tzinfo=TZ) for d, e in sessions]
        held_before = [t for t in ended if t < self.base - timedelta(hours=6)]
        tiered = school.district.code == TIERED_DISTRICT
        plan: list[tuple[datetime, str]] = [
            (datetime.combine(first - timedelta(days=2), time(20, 30), tzinfo=TZ), "before_start")
        ]
        if len(held_before) >= 2:
            plan.append((ended[1] + timedelta(hours=3, minutes=10 * n), "after_two"))
        if len(held_before) >= 4:
            plan.append((held_before[-1] + timedelta(hours=2), "after_many"))
        for (enrolment, order), (when, label) in zip(reversed(places), plan, strict=False):
            actor = self.guardian[enrolment.pupil_id]
            reason = CANCEL_REASONS[rng.randrange(len(CANCEL_REASONS))]
            refund = self.cashier.refund(actor=actor, order=order, now=when, reason=reason)
            if refund is not None and refund.status == "pending_approval" and label == "after_two" and tiered:
                self.approve(refund, at=when + timedelta(hours=20))

    def approve(self, refund: Any, *, at: datetime) -> None:
        from kehou.payments.services.refunds import refund_decide

        if at >= self.base:
            return
        decided = refund_decide(
            actor=self.users[f"school-{refund.order.school.code}"], refund=refund, approve=True, now=at
        )
        self.cashier.settle(decided, at=at + SETTLE_AFTER)

    def late_payment(self, actor: Any, held: Any, at: datetime) -> None:
        """The parent opens the cashier, is called away, and pays after the hold ran out: the ticker had closed the
        order and freed the seat, so the payment is refunded whole, automatically."""
        from kehou.enrolment.services.waitlist import holds_expire
        from kehou.payments.channels.simulator import SimulatorGateway
        from kehou.payments.services.orders import PAYMENT_GRACE, orders_close_expired, payment_start
        from kehou.payments.services.refunds import refunds_poll
        from kehou.payments.services.ticker import simulator_deliver

        self.late_done = True
        order = self.cashier.order(actor=actor, enrolment=held, now=at + timedelta(seconds=30), materials=False)
        attempt, _start = payment_start(
            actor=actor, order=order, channel=CHANNEL, now=at + timedelta(minutes=1), payer_ref=PAYER_REF
        )
        # The hold runs out; with a payment under way the seat waits PAYMENT_GRACE for the channel, then goes back.
        expiry = held.hold_expires_at + PAYMENT_GRACE
        orders_close_expired(now=expiry + timedelta(seconds=20))
        holds_expire(now=expiry + timedelta(seconds=20))
        # The channel's close is sent after the commit: the payer's open cashier still takes the money.
        SimulatorGateway().pay(out_trade_no=attempt.out_trade_no, now=expiry + timedelta(minutes=2))
        simulator_deliver(now=expiry + timedelta(minutes=2))
        refunds_poll(now=expiry + timedelta(minutes=3))  # the automatic refund goes to the channel
        from kehou.payments.models import Refund

        refund = Refund.objects.filter(order=order).first()
        self.cashier.settle(refund, at=expiry + timedelta(minutes=40))

    # --- a forged notification, and yesterday's bill ------------------------------------------------------
    def forged(self) -> None:
        """Someone replays a genuine payment notification with its body altered: the signature no longer matches;
        it is recorded, changes nothing, and alerts the city bureau."""
        from kehou.payments.channels.simulator import SimulatorGateway
        from kehou.payments.models import SimulatorDelivery
        from kehou.payments.services.notifications import notification_receive

        genuine = (
            SimulatorDelivery.objects.filter(event_type="TRANSACTION.SUCCESS", delivered_at__isnull=False)
            .order_by("deliver_at", "pk")
            .first()
        )
        if genuine is None:
            return
        at = self.base - timedelta(hours=2, minutes=17)
        copy = SimulatorDelivery(event_type=genuine.event_type, data=dict(genuine.data), deliver_at=at)
        headers, body = SimulatorGateway().signed(copy, now=at)
        tampered = body.replace("支付成功".encode(), "支付成功，请退款至新账户".encode(), 1)
        with expected_warnings("kehou.payments"):  # rejected as it should be: not a warning about the load
            notification_receive(channel=CHANNEL, headers=headers, body=tampered, now=at + timedelta(seconds=3))

    def reconcile(self) -> None:
        """The city bureau imports yesterday's simulator bill: matched, and the day's net settled into escrow."""
        from kehou.payments.services.reconciliation import reconcile

        yesterday = (self.base - timedelta(days=1)).date()
        at = max(self.base - timedelta(minutes=50), datetime.combine(self.base.date(), time(0, 1), tzinfo=TZ))
        if at >= self.base:
            at = self.base - timedelta(seconds=10)
        reconcile(channel=CHANNEL, bill_date=yesterday, content=None, actor=self.users["city"], now=at)
