"""Reads of the teaching platform for its pages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .models import CourseOutline, OutlineLesson, SessionLesson


def sessions_with_lessons(sessions: Sequence[Any]) -> list[dict[str, Any]]:
    """Each session with its course's current outline lessons and the lesson linked to it (three queries)."""
    item_of = {s.pk: (s.course_class.entry.item_id if s.course_class.entry is not None else None) for s in sessions}
    current: dict[int, int] = {}
    for item_id, outline_id in (
        CourseOutline.objects.filter(item_id__in={i for i in item_of.values() if i})
        .order_by("item_id", "-version")
        .values_list("item_id", "pk")
    ):
        current.setdefault(item_id, outline_id)  # the first of each item is its latest version
    lessons: dict[int, list[Any]] = {}
    for lesson in OutlineLesson.objects.filter(unit__outline_id__in=current.values()).select_related("unit__outline"):
        lessons.setdefault(lesson.unit.outline.item_id, []).append(lesson)
    linked = dict(SessionLesson.objects.filter(session__in=sessions).values_list("session_id", "lesson_id"))
    return [
        {"s": s, "item_id": item_of[s.pk], "lessons": lessons.get(item_of[s.pk] or 0, []), "lesson": linked.get(s.pk)}
        for s in sessions
    ]


def day_courseware(user: Any, sessions_today: Sequence[Any], *, limit: int = 12) -> list[Any]:
    """The courseware a classroom screen pre-loads for the day: what the teacher's prepared lessons for the courses
    taught today attach, what they presented today; else their latest courseware. Only what they may see and what is
    ready to present."""
    from django.db.models import Q

    from kehou.core.scope import scope_for

    from .models import Courseware, Rendition

    items = {s.course_class.entry.item_id for s in sessions_today if s.course_class.entry is not None}
    rows = (
        scope_for(user)
        .filter(Courseware.objects.select_related("rendition", "owner"))
        .filter(Q(rendition__isnull=True) | Q(rendition__status=Rendition.Status.READY))
    )
    chosen = list(
        rows.filter(Q(plans__owner=user, plans__item__in=items) | Q(presentations__owner=user)).distinct()[:limit]
    )
    if not chosen:
        chosen = list(rows.filter(owner=user)[:limit])
    return chosen
