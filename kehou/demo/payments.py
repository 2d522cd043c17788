"""The demo payments and refunds: refund policies, paid orders for the places of the classes demo, a first period of
the term whose classes have already met (so that cancelling refunds pro rata), refunds in every state, a late
payment refunded automatically, a duplicated and a forged notification, and yesterday's bill reconciled with its
settlement into escrow.

Everything goes through the payment services (``policy_set``, ``order_create``, ``payment_start``,
``refund_request``, ``refund_decide``, ``notification_receive``, ``reconcile``, the ticker's ``simulator_deliver``,
``orders_close_expired`` and ``refunds_poll``) and the simulator channel (``SimulatorGateway().pay`` and
``settle_refund``: what the payer and the channel do by themselves). Nothing is posted to the ledger by hand and no
signature is made up: the simulator signs its notifications as WeChat Pay v3 does, and they are verified on the way
in like a real channel's.

Two parts:

* :class:`DemoPayer` is handed to the classes stage (:func:`kehou.demo.enrolment.build_enrolment`): where its replay
  confirms a place, the guardian orders it (some with the optional materials), pays through the simulator, and the
  simulator's notification confirms the place, at the same moment the classes demo would have confirmed it (so the
  places are the same with or without payments); where it cancels a paid place, the place is cancelled with its
  refund (whole: the classes have not started), which the channel settles a few minutes later.
* :func:`build_payments`, after the classes: the first period of the term in three schools of their own
  (:data:`EARLY_SCHOOLS`; classes that started about five weeks before the load, with windows that closed before
  that), paid at selection time; cancellations before the first session (full refund) and after some sessions
  (pro rata under the city's policy; tiered, with the school's approval, in :data:`TIERED_DISTRICT`); one refund
  left awaiting the school; a payment that arrived after its hold expired (refunded whole); a notification the
  channel sent twice; a forged one (a genuine notification with its body altered: rejected, an alert for the city);
  the ticker's last run; and the city bureau's reconciliation of yesterday's simulator bill, which settles the day's
  net into escrow.

Deterministic: choices come from generators seeded with the demo seed and fixed labels, times are fixed offsets from
the load time (``base``) or, in the first period, from its sessions (whose dates follow the calendar). Order, trade
and refund numbers are the services' own (random) and are not part of what is compared.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction

from kehou.core import audit
from kehou.core.errors import Conflict, KehouError

from . import data
from .build import TZ, DemoError, LoadResult, _natural, _rng, demo_state
from .enrolment import Places, enrolment_state, load_base

LOADED_ACTION = "demo.payments_loaded"
CHANNEL = "simulator"
PAYER_REF = "ip:192.0.2.10"  # the address the demo's payers pay from (a documentation address)
MATERIALS_SHARE = 0.4  # of the places in a class with materials, how many order them too
SETTLE_AFTER = timedelta(minutes=3)  # the simulator finishes a refund this long after it is asked
TIERED_DISTRICT = "360113"  # 红谷滩区: tiered refunds after the start, a deadline, the school approves
TIERS = [{"held_upto": "0.25", "percent": "80"}, {"held_upto": "0.5", "percent": "50"}]
NO_REFUND_AFTER = Decimal("0.5")
# The first period of the term: (school, weekdays of its class). None of them runs classes in the classes demo.
EARLY_SCHOOLS: tuple[tuple[str, tuple[int, int]], ...] = (
    ("东湖区百花洲小学", (0, 2)),
    ("青山湖区湖坊小学", (1, 3)),
    ("红谷滩区九龙湖学校", (0, 3)),
)
EARLY_PUPILS = 12  # places sold in each first-period class (fewer where the school has fewer pupils)
EARLY_MATERIALS = ("课程材料包（讲义与练习册）", 4500)  # when the course's own version names none
CANCEL_REASONS = ("孩子周二有校队训练，时间冲突", "搬家转学", "孩子不太喜欢这门课", "家里接送不方便")


def simulator_enabled() -> bool:
    from kehou.payments.channels import enabled_channels

    return CHANNEL in enabled_channels()


def set_policies(base: datetime) -> None:
    """The city's default (pro rata after the start) and 红谷滩区's override (tiered, nothing after half the
    sessions, the school approves refunds after the start), set before any selection opened."""
    from kehou.orgs.models import Region
    from kehou.payments.models import RefundPolicy
    from kehou.payments.services.refunds import policy_set
    from kehou.people.models import User

    if RefundPolicy.objects.exists():
        return
    city = Region.objects.get(code=data.CITY_CODE)
    district = Region.objects.get(code=TIERED_DISTRICT)
    policy_set(
        actor=User.objects.get(username="city"),
        region=city,
        after_start="pro_rata",
        now=base - timedelta(days=60),
    )
    policy_set(
        actor=User.objects.get(username=f"district-{TIERED_DISTRICT}"),
        region=district,
        after_start="tiered",
        tiers=TIERS,
        no_refund_after=NO_REFUND_AFTER,
        approval_after_start=True,
        now=base - timedelta(days=59, hours=20),
    )


class _Cashier:
    """The steps a guardian and the simulator take, each through the services with its own time."""

    def __init__(self, seed: int, label: str) -> None:
        self.rng = _rng(seed, f"payments:{label}")
        self.label = label
        self.keys = 0
        self.base: datetime | None = None

    def key(self, kind: str) -> str:
        self.keys += 1
        return f"demo-{self.label}-{kind}-{self.keys:06d}"

    def order(self, *, actor: Any, enrolment: Any, now: datetime, materials: bool | None = None) -> Any:
        from kehou.payments.services.orders import order_create

        if materials is None:
            materials = (
                bool(enrolment.course_class.materials_fee_fen)
                and not enrolment.waived
                and self.rng.random() < MATERIALS_SHARE
            )
        order, _created = order_create(
            actor=actor, enrolment_id=enrolment.pk, include_materials=materials, request_key=self.key("o"), now=now
        )
        return order

    def pay(self, *, actor: Any, order: Any, now: datetime, scenario: str = "once") -> Any:
        """Open the simulator's cashier, pay, and let the channel's notification(s) arrive."""
        from kehou.payments.channels.simulator import SimulatorGateway
        from kehou.payments.services.orders import payment_start
        from kehou.payments.services.ticker import simulator_deliver

        attempt, _start = payment_start(actor=actor, order=order, channel=CHANNEL, now=now, payer_ref=PAYER_REF)
        SimulatorGateway().pay(out_trade_no=attempt.out_trade_no, now=now, scenario=scenario)
        simulator_deliver(now=now + timedelta(seconds=1 if scenario == "duplicate" else 0))
        return attempt

    def settle(self, refund: Any, *, at: datetime) -> None:
        """The channel finishes a refund it was sent, and says so (unless that would be after the load)."""
        from kehou.payments.channels.simulator import SimulatorGateway
        from kehou.payments.models import Refund
        from kehou.payments.services.ticker import simulator_deliver

        if refund is None or refund.status != Refund.Status.PROCESSING:
            return
        if self.base is not None and at >= self.base:
            return  # still with the channel at the load
        SimulatorGateway().settle_refund(out_refund_no=refund.refund_no, now=at)
        simulator_deliver(now=at)

    def refund(self, *, actor: Any, order: Any, now: datetime, reason: str) -> Any:
        from kehou.payments.services.refunds import refund_request

        refund, _created = refund_request(actor=actor, order=order, request_key=self.key("r"), now=now, reason=reason)
        self.settle(refund, at=now + SETTLE_AFTER)
        return refund


class DemoPayer(Places):
    """The classes stage's places, paid: an order and a simulator payment confirm a place; a paid place is cancelled
    with its refund."""

    def __init__(self, seed: int = data.SEED) -> None:
        self.cashier = _Cashier(seed, "places")

    def begin(self, base: datetime) -> None:
        self.cashier.base = base
        set_policies(base)

    def confirm(self, *, enrolment_id: int, now: datetime, actor: Any) -> Any:
        from kehou.enrolment.models import Enrolment
        from kehou.payments.models import Order

        enrolment = Enrolment.objects.select_related("course_class").get(pk=enrolment_id)
        order = self.cashier.order(actor=actor, enrolment=enrolment, now=now)  # Conflict: no held seat
        if order.status == Order.Status.PENDING:
            self.cashier.pay(actor=actor, order=order, now=now)  # Conflict: the hold has expired
        enrolment.refresh_from_db()
        if enrolment.status != Enrolment.Status.CONFIRMED:
            raise Conflict("The hold has expired.", code="hold_expired", fields={"status": enrolment.status})
        return enrolment

    def cancel(self, *, enrolment: Any, now: datetime, actor: Any, reason: str) -> None:
        from kehou.enrolment.models import Enrolment
        from kehou.payments.models import Order

        order = Order.objects.filter(enrolment=enrolment, paid_fen__gt=0).first()
        if order is None or enrolment.status != Enrolment.Status.CONFIRMED:
            super().cancel(enrolment=enrolment, now=now, actor=actor, reason=reason)
            return
        self.cashier.refund(actor=actor, order=order, now=now, reason=reason)


# --- the stage ----------------------------------------------------------------------------------------------
def payments_state() -> str:
    """``"loaded"``; ``"unpaid"`` (the classes were loaded without payments: their confirmed places have no
    orders, and cannot be paid afterwards); or ``"absent"``."""
    from kehou.core.models import AuditEntry
    from kehou.enrolment.models import Enrolment
    from kehou.payments.models import Order

    if AuditEntry.objects.filter(action=LOADED_ACTION).exists():
        return "loaded"
    if (
        not Order.objects.exists()
        and Enrolment.objects.filter(status=Enrolment.Status.CONFIRMED, fee_fen__gt=0).exists()
    ):
        return "unpaid"
    return "absent"


def build_payments(*, seed: int = data.SEED, now: datetime) -> LoadResult:
    """Load the demo payments and refunds on top of the classes (loaded with :class:`DemoPayer`), unless they are
    there. States: ``loaded`` (nothing to do), ``no_simulator`` (the simulator channel is not enabled),
    ``unpaid`` (the classes were loaded without payments)."""
    if demo_state() != "loaded" or enrolment_state() != "loaded":
        raise DemoError("Load the demo classes first: the payments pay for their places.")
    state = payments_state()
    if state in ("loaded", "unpaid"):
        return LoadResult(False, state, {})
    if not simulator_enabled():
        return LoadResult(False, "no_simulator", {})
    base = load_base(now)
    try:
        with transaction.atomic():
            counts = _Story(seed, base).run()
            audit.record(
                actor=None,
                action=LOADED_ACTION,
                object_type="demo.payments",
                object_id=data.CITY_CODE,
                object_repr=f"{data.CITY_NAME} (demo payments and refunds)",
                after={"seed": seed, "base": base.isoformat(), **counts},
                now=now,
            )
    except KehouError as exc:
        if isinstance(exc, DemoError):
            raise
        raise DemoError(f"The demo payments could not be loaded: {exc.message} ({exc.code}, {exc.fields})") from exc
    return LoadResult(True, state, counts)


class _Story:
    def __init__(self, seed: int, base: datetime) -> None:
        from kehou.people.models import Guardian, User

        self.seed, self.base = seed, base
        self.cashier = _Cashier(seed, "story")
        self.cashier.base = base
        self.users = {u.username: u for u in User.objects.filter(username__regex=r"^(city|district-\d+|school-\d+)$")}
        self.guardian: dict[int, Any] = {}
        for g in Guardian.objects.select_related("user").order_by("pk"):
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

        rng = _rng(self.seed, f"payments:early:{school.code}")
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
            key=lambda t: _natural(t.user.username),
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
        from kehou.enrolment.services.selection import holds_expire
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
        notification_receive(channel=CHANNEL, headers=headers, body=tampered, now=at + timedelta(seconds=3))

    def reconcile(self) -> None:
        """The city bureau imports yesterday's simulator bill: matched, and the day's net settled into escrow."""
        from kehou.payments.services.reconciliation import reconcile

        yesterday = (self.base - timedelta(days=1)).date()
        at = max(self.base - timedelta(minutes=50), datetime.combine(self.base.date(), time(0, 1), tzinfo=TZ))
        if at >= self.base:
            at = self.base - timedelta(seconds=10)
        reconcile(channel=CHANNEL, bill_date=yesterday, content=None, actor=self.users["city"], now=at)


# --- reading back ------------------------------------------------------------------------------------------
def payments_counts() -> dict[str, int]:
    from django.db.models import F

    from kehou.ledger.models import LedgerTransaction
    from kehou.ledger.selectors import verify
    from kehou.payments.models import (
        ChannelNotification,
        Order,
        OrderLine,
        PaymentAttempt,
        Reconciliation,
        Refund,
        RefundPolicy,
    )

    counts = {
        "refund_policies": RefundPolicy.objects.count(),
        "orders": Order.objects.count(),
        "schools_with_orders": Order.objects.values("school").distinct().count(),
    }
    for status, n in sorted(Counter(Order.objects.values_list("status", flat=True)).items()):
        counts[f"orders_{status}"] = n
    counts["orders_waived"] = Order.objects.filter(channel="waiver").count()
    counts["orders_with_materials"] = OrderLine.objects.filter(kind="materials").count()
    counts["orders_refunded_whole"] = Order.objects.filter(paid_fen__gt=0, refunded_fen=F("paid_fen")).count()
    counts["payment_attempts"] = PaymentAttempt.objects.count()
    counts["refunds"] = Refund.objects.count()
    for status, n in sorted(Counter(Refund.objects.values_list("status", flat=True)).items()):
        counts[f"refunds_{status}"] = n
    rules = Counter(str(r.get("rule", "")) for r in Refund.objects.values_list("basis", flat=True))
    for rule, n in sorted(rules.items()):
        counts[f"refunds_rule_{rule}"] = n
    counts["notifications_received"] = ChannelNotification.objects.count()
    for outcome, n in sorted(Counter(ChannelNotification.objects.values_list("outcome", flat=True)).items()):
        counts[f"notifications_{outcome}"] = n
    counts["notification_alerts"] = ChannelNotification.objects.filter(alert=True).count()
    counts["reconciliations"] = Reconciliation.objects.count()
    counts["reconciled_rows"] = sum(Reconciliation.objects.values_list("rows", flat=True))
    counts["reconciliation_differences"] = sum(Reconciliation.objects.values_list("differences", flat=True))
    counts["settlements"] = LedgerTransaction.objects.filter(kind="settlement").count()
    counts["ledger_transactions"] = LedgerTransaction.objects.count()
    counts["ledger_balanced"] = int(verify().balanced)
    return counts
