from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "kehou.payments"
    label = "payments"
    verbose_name = _("Payments and refunds")

    def ready(self) -> None:
        from kehou.enrolment.hooks import register_place_payments
        from kehou.ledger.selectors import EXTRA_CHECKS

        from .checks import orders_have_their_postings, releases_add_up
        from .hooks import OrderPlacePayments

        register_place_payments(OrderPlacePayments())
        if orders_have_their_postings not in EXTRA_CHECKS:
            EXTRA_CHECKS.append(orders_have_their_postings)
        if releases_add_up not in EXTRA_CHECKS:
            EXTRA_CHECKS.append(releases_add_up)
        register_jobs()


def register_jobs() -> None:
    """Payments' periodic jobs (``kehou.core.schedule``). Priority 1: in each slot orders close before enrolment's
    holds expire, so that a seat's order is closed in the same round as its hold (as the old ticker did)."""
    from django.conf import settings

    from kehou.core import schedule

    tasks = "kehou.payments.tasks"
    schedule.register("payments.poll_payments", every=30, task=f"{tasks}.poll_payments", priority=1)
    schedule.register("payments.close_expired_orders", every=30, task=f"{tasks}.close_expired_orders", priority=1)
    # The simulator's notifications arrive within seconds in the demo; without the simulator the job does nothing.
    simulator = "simulator" in settings.KEHOU_PAYMENT_CHANNELS
    schedule.register(
        "payments.deliver_simulator_notifications",
        every=5 if simulator else 300,
        task=f"{tasks}.deliver_simulator_notifications",
        priority=1,
    )
    schedule.register("payments.poll_refunds", every=30, task=f"{tasks}.poll_refunds", priority=1)
