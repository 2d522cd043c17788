"""What every attendance service asks first: who runs this session, and when it starts and ends."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from kehou.core.error_codes import ErrorCode
from kehou.core.errors import Forbidden, NotFound
from kehou.core.scope import scope_for
from kehou.enrolment.models import ClassSession, CourseClass
from kehou.people.models import TeacherProfile


def rules() -> dict[str, Any]:
    return dict(settings.KEHOU_ATTENDANCE)


def session_bounds(session: ClassSession) -> tuple[datetime, datetime]:
    """The session's start and end as aware datetimes in the platform's time zone."""
    return bounds_of(session.date, session.starts_at, session.ends_at)


def bounds_of(day: date, starts_at: time, ends_at: time) -> tuple[datetime, datetime]:
    tz = timezone.get_default_timezone()
    return timezone.make_aware(datetime.combine(day, starts_at), tz), timezone.make_aware(
        datetime.combine(day, ends_at), tz
    )


def check_in_opens(session: ClassSession) -> datetime:
    return session_bounds(session)[0] - timedelta(minutes=rules()["OPENS_BEFORE_MINUTES"])


def roll_call_closes(session: ClassSession) -> datetime:
    return session_bounds(session)[1] + timedelta(minutes=rules()["ROLL_CALL_CLOSE_MINUTES"])


def runner_id(session: ClassSession) -> int:
    """The teacher who runs the session: the substitute named for it, or the class's teacher."""
    substitute = getattr(session, "substitute", None)
    return substitute.teacher_id if substitute is not None else session.course_class.teacher_id


def require_runner(actor: Any, session: ClassSession) -> TeacherProfile:
    """The caller must run the session. Others who can see it (its school, bureaus, the replaced teacher) get 403
    ``not_session_teacher``; everyone else the same 404 as a missing session."""
    profile = TeacherProfile.objects.filter(user_id=getattr(actor, "pk", 0) or 0).first()
    if profile is not None and profile.pk == runner_id(session):
        return profile
    scope = scope_for(actor)
    if scope.may_see(session):
        raise Forbidden(_("Only the teacher who runs this session may do this."), code=ErrorCode.NOT_SESSION_TEACHER)
    raise NotFound(_("Not found."))


def require_active(session: ClassSession) -> None:
    from kehou.core.errors import Conflict

    if session.course_class.status != CourseClass.Status.ACTIVE:
        raise Conflict(_("The class is cancelled."), code=ErrorCode.CLASS_CANCELLED)


def live_topics(school_id: int) -> list[str]:
    """The live-view topics a change at a school goes to: the school, its district and the city above it, and each
    operator authorised for it."""
    from kehou.orgs.models import OperatorAuthorisation, School

    row = School.objects.filter(pk=school_id).values_list("district_id", "district__parent_id").first()
    topics = [f"school:{school_id}"]
    if row is not None:
        topics += [f"district:{r}" for r in row if r]
    operators = OperatorAuthorisation.objects.filter(school_id=school_id).values_list("operator_id", flat=True)
    topics += [f"operator:{o}" for o in sorted(operators)]
    return topics


def broadcast_live(*, school_id: int, data: dict[str, Any]) -> None:
    """Tell the open live views of a school's watchers that something changed (sent when the transaction commits)."""
    from kehou.notify import events

    for topic in live_topics(school_id):
        events.broadcast(topic, {**data, "school": school_id})
