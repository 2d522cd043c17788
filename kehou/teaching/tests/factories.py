"""Rows of the teaching app for the scope walker: a teaching group with a school-shared and a group-shared lesson at
school B1 (district B), outside every walker role's scope (the walker takes a lesson's readers from its rule, which
it cannot read: so no rows in district A, whose bureau reads its schools' shared lessons); B1's witness opens them."""

from __future__ import annotations

from typing import Any


def walker_rows(city: Any) -> None:
    from django.utils import timezone

    from kehou.people.models import TeacherProfile

    from ..models import LessonPlan, TeachingGroup

    now = timezone.now()
    for school in (city.b1,):
        teacher = TeacherProfile.objects.filter(schools=school).select_related("user").order_by("pk").first()
        if teacher is None:
            continue
        group = TeachingGroup.objects.create(school=school, name=f"走查教研组{school.pk}", created_at=now)
        group.members.add(teacher)
        for sharing in ("school", "group"):
            LessonPlan.objects.create(
                owner=teacher.user,
                school=school,
                title=f"走查备课{school.pk}{sharing}",
                goals="目标",
                steps=[{"text": "练习", "minutes": 10}],
                sharing=sharing,
                group=group if sharing == "group" else None,
                created_at=now,
                updated_at=now,
            )
