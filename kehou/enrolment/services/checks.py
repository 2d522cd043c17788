"""Checks every path that gives a child a place repeats: the window's limit and time clashes (under the child's
lock), and who the guardians are."""

from __future__ import annotations

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _

from kehou.core.error_codes import ErrorCode
from kehou.core.errors import Conflict
from kehou.people.models import Guardian

from ..models import (
    LIVE_STATUSES,
    ClassSlot,
    Enrolment,
)

S = Enrolment.Status
COUNTED = (S.APPLIED, S.HELD, S.CONFIRMED)  # what counts towards a window's "most classes per child"


def _guardians(pupil_ids: list[int]) -> list[int]:
    return list(Guardian.objects.filter(pupil_id__in=pupil_ids).values_list("user_id", flat=True))


def _check_pupil_load(
    *,
    pupil_id: int,
    class_id: int,
    term_id: int,
    max_classes: int,
    exclude_pk: int | None = None,
) -> None:
    """Refuse a second live place in the same class, more classes than the window allows, and time clashes."""
    live = list(
        Enrolment.objects.filter(pupil_id=pupil_id, status__in=LIVE_STATUSES, course_class__term_id=term_id)
        .exclude(pk=exclude_pk or 0)
        .values_list("pk", "course_class_id", "status")
    )
    for pk, live_class_id, status in live:
        if live_class_id == class_id:
            raise Conflict(
                _("The child already has a place in this class."),
                code=ErrorCode.ALREADY_SELECTED,
                fields={"enrolment": pk, "status": status},
            )
    counted = [live_class_id for _pk, live_class_id, status in live if status in COUNTED]
    if len(counted) >= max_classes:
        raise Conflict(
            _("The child already holds the most classes allowed (%(n)s).") % {"n": max_classes},
            code=ErrorCode.TOO_MANY_CLASSES,
            fields={"max_classes": max_classes},
        )
    if counted:
        # A slot of a held class that overlaps a slot of this one (same weekday, times intersect): one query.
        overlapping = ClassSlot.objects.filter(
            course_class_id=class_id,
            weekday=OuterRef("weekday"),
            starts_at__lt=OuterRef("ends_at"),
            ends_at__gt=OuterRef("starts_at"),
        )
        clash = (
            ClassSlot.objects.filter(course_class_id__in=counted)
            .filter(Exists(overlapping))
            .values_list("course_class_id", "course_class__name")
            .first()
        )
        if clash is not None:
            raise Conflict(
                _("This class clashes with “%(name)s”.") % {"name": clash[1]},
                code=ErrorCode.TIME_CLASH,
                fields={"class": clash[0]},
            )
