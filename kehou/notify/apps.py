from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "kehou.notify"
    label = "notify"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from kehou.core import schedule

        schedule.register("notify.sms_for_unread", every=60, task="kehou.notify.tasks.sms_for_unread")
        schedule.register("notify.purge_events", every=3600, task="kehou.notify.tasks.purge_events")
