from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AttendanceConfig(AppConfig):
    name = "kehou.attendance"
    label = "attendance"
    verbose_name = _("Attendance")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        post_migrate.connect(_install_statuses, sender=self)
        from kehou.core import schedule
        from kehou.core.scope import ScopeSpec, extend_scope

        # The substitute named for a session sees it (and its class's pupils on the sheet, through the roll call).
        extend_scope("enrolment.classsession", ScopeSpec(teacher="substitute__teacher"))
        extend_scope("attendance.rollcall", ScopeSpec(teacher="session__substitute__teacher"))
        extend_scope("attendance.rollcallrow", ScopeSpec(teacher="roll_call__session__substitute__teacher"))

        schedule.register("attendance.close_roll_calls", every=60, task="kehou.attendance.tasks.close_roll_calls")
        schedule.register("attendance.purge_coordinates", every=3600, task="kehou.attendance.tasks.purge_coordinates")


def _install_statuses(**kwargs: object) -> None:
    from .models import ensure_builtin_statuses

    ensure_builtin_statuses()
