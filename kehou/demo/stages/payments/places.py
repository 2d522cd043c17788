"""The payments stage's cashier (:class:`Cashier`: what a guardian and the simulator do, through the payment
services), the refund policies, and :class:`DemoPayer`, which pays for the classes stage's places as they are
confirmed."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from kehou.core.error_codes import ErrorCode
from kehou.core.errors import Conflict
from kehou.demo import data
from kehou.demo.common import seeded_rng
from kehou.demo.stages.enrolment import Places
from kehou.payments.channels.simulator import REFUND_DELAY

CHANNEL = "simulator"
PAYER_REF = "ip:192.0.2.10"  # the address the demo's payers pay from (a documentation address)
MATERIALS_SHARE = 0.4  # of the places in a class with materials, how many order them too
# The simulator finishes a refund this long after it is asked (by itself, as a real channel does), and the task
# worker delivers its notification then.
SETTLE_AFTER = REFUND_DELAY
TIERED_DISTRICT = "360113"  # 红谷滩区: tiered refunds after the start, a deadline, the school approves
TIERS = [{"held_upto": "0.25", "percent": "80"}, {"held_upto": "0.5", "percent": "50"}]
NO_REFUND_AFTER = Decimal("0.5")


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


class Cashier:
    """The steps a guardian and the simulator take, each through the services with its own time."""

    def __init__(self, seed: int, label: str) -> None:
        self.rng = seeded_rng(seed, f"payments:{label}")
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
        """The task worker delivers what the channel says of a refund it was sent, at ``at`` (the simulator finishes
        a refund by itself :data:`SETTLE_AFTER` after it is asked), unless that would be after the load: the
        worker of ``make demo`` then delivers it."""
        from kehou.payments.models import Refund
        from kehou.payments.services.ticker import simulator_deliver

        if refund is None or refund.status != Refund.Status.PROCESSING:
            return
        if self.base is not None and at >= self.base:
            return  # still with the channel at the load
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
        self.cashier = Cashier(seed, "places")

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
            raise Conflict("The hold has expired.", code=ErrorCode.HOLD_EXPIRED, fields={"status": enrolment.status})
        return enrolment

    def cancel(self, *, enrolment: Any, now: datetime, actor: Any, reason: str) -> None:
        from kehou.enrolment.models import Enrolment
        from kehou.payments.models import Order

        order = Order.objects.filter(enrolment=enrolment, paid_fen__gt=0).first()
        if order is None or enrolment.status != Enrolment.Status.CONFIRMED:
            super().cancel(enrolment=enrolment, now=now, actor=actor, reason=reason)
            return
        self.cashier.refund(actor=actor, order=order, now=now, reason=reason)
