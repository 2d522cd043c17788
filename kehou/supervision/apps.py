from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    name = "kehou.supervision"
    label = "supervision"
    verbose_name = _("Supervision")

    def ready(self) -> None:
        from kehou.core import schedule

        # The dashboards' rollups follow the roll calls and check-ins that changed since the last run.
        schedule.register("supervision.rollup", every=60, task="kehou.supervision.tasks.rollup")
        schedule.register("supervision.weekly_report", every=3600, task="kehou.supervision.tasks.weekly_report")
