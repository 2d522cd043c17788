"""Rows of the teaching app for the scope walker, at school B1 (district B), outside every walker role's scope: a
teaching group with a school-shared and a group-shared lesson, and school-shared courseware (converted) with its
teacher presenting it. (The walker takes a lesson's readers from its rule, which it cannot read: so no rows in
district A, whose bureau reads its schools' shared lessons.) B1's witness opens them."""

from __future__ import annotations

from typing import Any


def walker_rows(city: Any) -> None:
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.utils import timezone

    from kehou.people.models import TeacherProfile

    from .. import samples
    from ..models import Courseware, LessonPlan, Presentation, Rendition, TeachingGroup

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
        # school-shared courseware, converted (one stored page), and the B1 teacher presenting it
        image = samples.png(40, 30)
        rendition = Rendition.objects.create(
            sha256=f"{school.pk:064d}", source_kind="image", source="", status="ready", pages=1, created_at=now
        )
        default_storage.save(rendition.page_name(1), ContentFile(image))
        stored = default_storage.save("courseware/files/walker.png", ContentFile(image))
        ware = Courseware.objects.create(
            owner=teacher.user,
            school=school,
            title=f"走查课件{school.pk}",
            kind="image",
            file=stored,
            original_name="walker.png",
            content_type="image/png",
            size=len(image),
            sha256=rendition.sha256,
            rendition=rendition,
            sharing="school",
            created_at=now,
        )
        # the walker fills every whole-number part of a route with the row's id: pages/<n> asks for page <id>
        Rendition.objects.filter(pk=rendition.pk).update(pages=max(1, ware.pk))
        if ware.pk != 1:
            default_storage.save(rendition.page_name(ware.pk), ContentFile(image))
        Presentation.objects.create(owner=teacher.user, courseware=ware, started_at=now, updated_at=now)
