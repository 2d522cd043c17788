from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class PayrollConfig(AppConfig):
    name = "kehou.payroll"
    label = "payroll"
    verbose_name = _("Class-hour pay")

    def ready(self) -> None:
        from kehou.core import schedule

        schedule.register(
            "payroll.compute_pay_lines",
            every=int(str(settings.KEHOU_PAYROLL["COMPUTE_EVERY_SECONDS"])),
            task="kehou.payroll.tasks.compute_pay_lines",
        )
        schedule.register("payroll.follow_payouts", every=30, task="kehou.payroll.tasks.follow_payouts")
