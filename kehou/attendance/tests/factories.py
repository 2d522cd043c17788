"""A class with confirmed places, and the moments around its first session."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import F

from kehou.enrolment.models import ClassSession, CourseClass, Enrolment, SelectionWindow
from kehou.enrolment.tests import factories as ef
from kehou.orgs.models import School
from kehou.people.models import Pupil, TeacherProfile, User
from kehou.testing import factories as f

from ..services.common import session_bounds


def class_with_pupils(
    school: School,
    n: int = 5,
    *,
    teacher: TeacherProfile | None = None,
    grade: int = 3,
    capacity: int = 45,
    slots: list[Any] | None = None,
    name: str = "机器人编程",
) -> tuple[CourseClass, list[Pupil]]:
    cls = ef.make_class(school, capacity=capacity, teacher=teacher, slots=slots, name=name)
    window = SelectionWindow.objects.filter(school=school, grade=grade).first() or ef.open_window(school, grade)
    pupils = [f.PupilFactory(school=school, grade=grade) for _ in range(n)]
    Enrolment.objects.bulk_create(
        [
            Enrolment(
                course_class=cls,
                pupil=p,
                window=window,
                status=Enrolment.Status.CONFIRMED,
                fee_fen=cls.fee_fen,
                requested_by=window.created_by,
                created_at=ef.NOW,
                status_changed_at=ef.NOW,
                confirmed_at=ef.NOW,
            )
            for p in pupils
        ]
    )
    CourseClass.objects.filter(pk=cls.pk).update(taken=F("taken") + n)
    cls.refresh_from_db()
    return cls, pupils


def first_session(cls: CourseClass) -> ClassSession:
    return ClassSession.objects.filter(course_class=cls).order_by("number").first()  # type: ignore[return-value]


def start_of(session: ClassSession, minutes: float = 0) -> datetime:
    return session_bounds(session)[0] + timedelta(minutes=minutes)


def teacher_user(cls: CourseClass) -> User:
    return cls.teacher.user


def at_school(school: School, *, metres_north: float = 0.0) -> dict[str, Any]:
    """A WGS-84 fix ``metres_north`` of the school's point."""
    return {
        "lat": float(school.latitude) + metres_north / 111_195.0,
        "lng": float(school.longitude),
        "accuracy_m": 10,
        "crs": "wgs84",
    }
