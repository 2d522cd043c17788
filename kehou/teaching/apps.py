from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TeachingConfig(AppConfig):
    name = "kehou.teaching"
    label = "teaching"
    verbose_name = _("Teaching platform")

    def ready(self) -> None:
        from kehou.notify.events import register_topic

        from .services.courseware import may_follow

        # The presentation's screen and the teacher's phone follow ``presentation:<id>`` (the remote's page turns).
        register_topic("presentation", may_follow)

        from kehou.core import schedule

        schedule.register("teaching.sweep_conversions", every=300, task="kehou.teaching.tasks.sweep_conversions")
