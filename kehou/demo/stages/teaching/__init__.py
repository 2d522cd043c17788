"""Demo stage: the teaching platform's outlines (课程设置). Every library course gets an outline from its submitter
(three or four units of lessons named for the course, 35–45 minutes each); every third course was edited once
(version 2); the sessions already held are linked, in order, to the lessons they taught."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from kehou.demo.common import LoadResult

UNITS = ("认识与入门", "基本功训练", "综合练习", "展示与评价")
STEPS = ("导入与示范", "分解练习", "小组合作", "巩固提高", "成果展示")


def _units(name: str, n: int) -> list[dict]:
    units = []
    for u in range(n):
        lessons = [
            {"name": f"{name[:20]}·{STEPS[(u + i) % len(STEPS)]}{i + 1}", "minutes": 35 + 5 * ((u + i) % 3)}
            for i in range(4 if u < n - 1 else 3)
        ]
        units.append({"name": f"第{'一二三四'[u]}单元 {UNITS[u]}", "lessons": lessons})
    return units


def build_teaching(*, now: datetime) -> LoadResult:
    from kehou.catalog.models import CatalogItem
    from kehou.enrolment.models import ClassSession
    from kehou.teaching.models import CourseOutline, OutlineLesson, SessionLesson
    from kehou.teaching.services import outlines

    counts = {"outlines": 0, "outline_versions": 0, "sessions_linked": 0}
    if CourseOutline.objects.exists():
        counts["outlines"] = CourseOutline.objects.values("item").distinct().count()
        return LoadResult(loaded=False, state="present", counts=counts)
    at = now - timedelta(days=20)
    items = CatalogItem.objects.filter(kind="course").select_related("submission__submitter_user").order_by("pk")
    for n, item in enumerate(items):
        actor = item.submission.submitter_user
        units = outlines.check_units(_units(item.name, 3 + n % 2))
        outlines.outline_save(actor=actor, item=item, units=units, based_on=0, now=at)
        counts["outlines"] += 1
        counts["outline_versions"] += 1
        if n % 3 == 0:
            edited = _units(item.name, 3 + n % 2)
            edited[0]["lessons"][0]["minutes"] = 45
            edited[-1]["lessons"].append({"name": f"{item.name[:20]}·期末展演", "minutes": 40})
            outlines.outline_save(
                actor=actor,
                item=item,
                units=outlines.check_units(edited),
                based_on=1,
                note="增加期末展演课",
                now=at + timedelta(days=3),
            )
            counts["outline_versions"] += 1
    today = timezone.localdate(now)
    latest = {o.item_id: o.pk for o in CourseOutline.objects.order_by("item_id", "version")}
    lessons: dict[int, list[int]] = {}
    for item_id, pk in latest.items():
        lessons[item_id] = list(
            OutlineLesson.objects.filter(unit__outline_id=pk)
            .order_by("unit__position", "position")
            .values_list("pk", flat=True)
        )
    rows = []
    held = ClassSession.objects.filter(date__lt=today, course_class__entry__isnull=False).select_related(
        "course_class__entry", "course_class__teacher__user"
    )
    for session in held.order_by("pk"):
        cls = session.course_class
        plan = lessons.get(cls.entry.item_id) if cls.entry is not None else None
        if not plan or cls.teacher is None:
            continue
        rows.append(
            SessionLesson(
                session=session,
                lesson_id=plan[(session.number - 1) % len(plan)],
                set_by=cls.teacher.user,
                set_at=timezone.make_aware(datetime.combine(session.date, session.ends_at)),
            )
        )
    SessionLesson.objects.bulk_create(rows, batch_size=500)
    counts["sessions_linked"] = len(rows)
    return LoadResult(loaded=True, state="loaded", counts=counts)
