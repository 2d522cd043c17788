from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnrolmentConfig(AppConfig):
    name = "kehou.enrolment"
    label = "enrolment"
    verbose_name = _("Course classes and selection")

    def ready(self) -> None:
        from kehou.core import schedule

        schedule.register("enrolment.expire_holds", every=30, task="kehou.enrolment.tasks.expire_holds")
        schedule.register("enrolment.remind_holds", every=30, task="kehou.enrolment.tasks.remind_holds")
        schedule.register("enrolment.draw_lotteries", every=30, task="kehou.enrolment.tasks.draw_lotteries")
