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
        extend_scope("attendance.comment", ScopeSpec(teacher="session__substitute__teacher"))

        # Who may follow a session's live roll call (``?topic=session:<id>`` on the event stream): who sees it.
        from kehou.notify.events import register_topic

        register_topic("session", _may_follow_session)
        # The live view of schools (the operator's, a school's, a bureau's): changes at a school go to these.
        register_topic("school", _may_follow_school)
        register_topic("district", _may_follow_district)
        register_topic("operator", _may_follow_operator)
        extend_scope("attendance.followup", ScopeSpec(teacher="session__substitute__teacher"))

        schedule.register("attendance.close_roll_calls", every=60, task="kehou.attendance.tasks.close_roll_calls")
        schedule.register("attendance.scan_follow_ups", every=60, task="kehou.attendance.tasks.scan_follow_ups")
        schedule.register("attendance.purge_coordinates", every=3600, task="kehou.attendance.tasks.purge_coordinates")


def _install_statuses(**kwargs: object) -> None:
    from .models import ensure_builtin_statuses

    ensure_builtin_statuses()


def _may_follow_session(user_id: int, session_id: int) -> bool:
    from django.contrib.auth import get_user_model

    from kehou.core.scope import scope_for
    from kehou.enrolment.models import ClassSession

    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    return bool(scope_for(user).filter(ClassSession.objects.filter(pk=session_id)).exists())


def _user(user_id: int) -> object | None:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(pk=user_id, is_active=True).first()


def _may_follow_school(user_id: int, school_id: int) -> bool:
    """The live view's watchers only (the school, its operators, its bureaus), not its teachers and parents."""
    from kehou.core.scope import scope_for

    from .live import schools_watched

    user = _user(user_id)
    return user is not None and schools_watched(scope_for(user)).filter(pk=school_id).exists()


def _may_follow_district(user_id: int, region_id: int) -> bool:
    from kehou.core.scope import scope_for
    from kehou.orgs.models import Region

    user = _user(user_id)
    if user is None:
        return False
    scope = scope_for(user)
    return scope.everything or (region_id in scope.district_ids and Region.objects.filter(pk=region_id).exists())


def _may_follow_operator(user_id: int, operator_id: int) -> bool:
    from kehou.core.scope import scope_for

    user = _user(user_id)
    return user is not None and operator_id in scope_for(user).operator_ids
