from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "kehou.payments"
    label = "payments"
    verbose_name = _("Payments and refunds")

    def ready(self) -> None:
        from kehou.ledger.selectors import EXTRA_CHECKS

        from .checks import orders_have_their_postings

        if orders_have_their_postings not in EXTRA_CHECKS:
            EXTRA_CHECKS.append(orders_have_their_postings)
