"""What guardians are told from the roll call: an absence without leave, at once (by the task worker, after the mark
commits), with the session and the school's phone. The notice is important: unread after a while it goes out by SMS
(``kehou.notify``). One notice per pupil and session, however often the row is marked."""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _

from kehou.enrolment.models import ClassSession
from kehou.notify.services import notify

from ..models import AttendanceStatus, RollCallRow
from .common import session_bounds


def absences_notify(*, session_id: int, now: datetime) -> int:
    """Guardians of the pupils marked absent (the ``absent`` group) on the session's sheet are told, once each.
    A pupil marked absent and corrected before the worker ran is not told."""
    session = ClassSession.objects.select_related("course_class__school").filter(pk=session_id).first()
    if session is None:
        return 0
    absent = AttendanceStatus.objects.filter(group=AttendanceStatus.Group.ABSENT).values_list("code", flat=True)
    rows = RollCallRow.objects.filter(roll_call__session=session, status_id__in=list(absent)).select_related("pupil")
    school = session.course_class.school
    start, end = session_bounds(session)
    told = 0
    for row in rows:
        pupil = row.pupil
        phone = school.phone or _("the school office")
        told += notify(
            user_ids=list(pupil.guardians.values_list("user_id", flat=True)),
            kind="absent",
            title=_("%(name)s was not at %(course)s (%(date)s)")
            % {"name": pupil.name, "course": session.course_class.name, "date": f"{session.date:%m-%d}"},
            body=_("%(date)s %(start)s–%(end)s at %(school)s, without leave. Questions: %(phone)s.")
            % {
                "date": f"{session.date:%m-%d}",
                "start": f"{start:%H:%M}",
                "end": f"{end:%H:%M}",
                "school": school.name,
                "phone": phone,
            },
            link="/parent/leave/",
            now=now,
            dedup_key=f"absent:{session.pk}:{pupil.pk}",
            important=True,
        )
    return told
