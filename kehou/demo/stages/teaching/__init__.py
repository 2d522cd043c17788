"""Demo stage: the teaching platform's outlines (课程设置). Every library course gets an outline from its submitter
(three or four units of lessons named for the course, 35–45 minutes each); every third course was edited once
(version 2); the sessions already held are linked, in order, to the lessons they taught. The demo teacher prepared
lessons at every sharing level and uploaded courseware in every format: a 30-slide PowerPoint deck (converted by the
task worker once ``make demo`` starts it), a PDF, a Word document, an image, a sound and a short video."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

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
    counts.update(_lessons(now=now))
    return LoadResult(loaded=True, state="loaded", counts=counts)


def _lessons(*, now: datetime) -> dict[str, int]:
    """The demo teacher's school has an arts teaching group (the demo teacher and two colleagues); the demo teacher
    prepared lessons at every sharing level; a colleague copied the school-shared one."""
    from kehou.people.models import RoleAssignment, User
    from kehou.teaching.services import lessons

    teacher = User.objects.filter(username="teacher").select_related("teacher_profile").first()
    profile = getattr(teacher, "teacher_profile", None) if teacher else None
    school = profile.schools.order_by("pk").first() if profile else None
    if teacher is None or profile is None or school is None:
        return {"teaching_groups": 0, "lessons": 0}
    admin = RoleAssignment.objects.filter(role="school_admin", school=school).select_related("user").first()
    colleagues = list(school.teachers.exclude(pk=profile.pk).select_related("user").order_by("pk")[:2])
    if admin is None:
        return {"teaching_groups": 0, "lessons": 0}
    at = now - timedelta(days=6)
    group = lessons.group_create(
        actor=admin.user,
        school=school,
        name="艺术教研组",
        teacher_ids=[profile.pk, *(c.pk for c in colleagues)],
        now=at,
    )
    steps = [
        {"text": "导入：欣赏一段口风琴合奏视频", "minutes": 5},
        {"text": "示范：呼吸与按键的配合", "minutes": 10},
        {"text": "分组练习《小星星》前四小节", "minutes": 15},
        {"text": "小组展示与互评", "minutes": 8},
        {"text": "总结与课后练习布置", "minutes": 2},
    ]
    from kehou.enrolment.models import CourseClass

    taught = (
        CourseClass.objects.filter(teacher=profile, entry__isnull=False, school=school)
        .select_related("entry__item")
        .order_by("pk")
        .first()
    )
    entry = taught.entry if taught is not None else None
    item = entry.item if entry is not None and entry.item.kind == "course" else None
    ware = _courseware(teacher=teacher, school=school, group=group, now=at - timedelta(days=1))
    made: list[Any] = []
    for title, sharing in (
        ("口风琴入门：呼吸与按键", "school"),
        ("两声部合奏排练", "group"),
        ("期末展演曲目备选（草稿）", "private"),
    ):
        made.append(
            lessons.plan_save(
                actor=teacher,
                school=school,
                title=title,
                goals="能正确持琴、用气，完成简单旋律的演奏；体验合作演奏的乐趣。",
                steps=steps,
                notes="提前检查每位学生的吹管是否清洁；准备节拍器。",
                sharing=sharing,
                group=group if sharing == "group" else None,
                item=item if not made else None,
                courseware=[c.pk for c in ware[:3]] if not made else None,
                now=at + timedelta(hours=len(made)),
            )
        )
    n = len(made)
    if colleagues:
        lessons.plan_copy(actor=colleagues[0].user, plan=made[0], now=at + timedelta(days=1))
        n += 1
    library = _library(teacher, made, school, at=at + timedelta(days=1, hours=2))
    return {"teaching_groups": 1, "lessons": n, "courseware": len(ware), **library}


def _library(teacher: Any, made: list[Any], school: Any, *, at: datetime) -> dict[str, int]:
    """The fourth level: the school-shared lesson was submitted to the district's library, reviewed by a panel and
    admitted; the group's lesson was submitted to the city library and waits for its panel's scores."""
    from kehou.catalog.models import Category, QualityItem
    from kehou.catalog.services import review
    from kehou.people.models import User
    from kehou.teaching.services import lessons

    art = Category.objects.filter(name="艺术").first() or Category.objects.order_by("order").first()
    district_admin = User.objects.filter(username=f"district-{school.district.code}").first()
    city_admin = User.objects.filter(username="city").first()
    if art is None or district_admin is None or city_admin is None:
        return {"library_lessons": 0}
    submission = lessons.plan_submit(actor=teacher, plan=made[0], library="district", category=art, now=at).submission
    assert submission is not None
    panel = review.panel_draw(
        actor=district_admin, submission=submission, now=at + timedelta(hours=1), size=3, seed="kehou-demo-lesson-1"
    )
    items = list(QualityItem.objects.order_by("number"))
    for k, member in enumerate(panel.members.filter(status="active").select_related("expert__user")):
        review.score_submit(
            actor=member.expert.user,
            member=member,
            item_scores={str(q.number): max(1, q.max_score - (k + q.number) % 2) for q in items},
            vetoed_items=[],
            comment="目标清晰，环节紧凑，适合推广。",
            now=at + timedelta(hours=3 + k),
        )
    review.panel_decide(actor=district_admin, panel=panel, now=at + timedelta(hours=8))
    waiting = lessons.plan_submit(
        actor=teacher, plan=made[1], library="city", category=art, now=at + timedelta(hours=9)
    )
    assert waiting.submission is not None
    review.panel_draw(
        actor=city_admin,
        submission=waiting.submission,
        now=at + timedelta(hours=10),
        size=3,
        seed="kehou-demo-lesson-2",
    )
    submission.refresh_from_db()
    return {"library_lessons": 1 if submission.status == "admitted" else 0}


def _courseware(*, teacher: Any, school: Any, group: Any, now: datetime) -> list[Any]:
    """Courseware in every format, uploaded through the service as a teacher would (checked, stored, queued)."""
    from pathlib import Path

    from django.core.files.uploadedfile import SimpleUploadedFile

    from kehou.teaching import samples
    from kehou.teaching.services import courseware

    files = (
        ("口风琴入门·课件（30页）", "口风琴入门.pptx", samples.deck(30, "口风琴入门：呼吸与按键"), "school"),
        ("课堂学习单", "学习单.pdf", samples.pdf(4, "口风琴学习单"), "group"),
        ("《小星星》示范音", "小星星示范.wav", samples.wav(3.0, 523.0), "school"),
        ("课后练习（Word）", "课后练习.docx", samples.document(10, "课后练习"), "private"),
        ("教室座位与分组图", "分组图.png", samples.png(1200, 800), "private"),
        ("持琴姿势示范视频", "持琴姿势.webm", (Path(__file__).parent / "clip.webm").read_bytes(), "school"),
    )
    made = []
    for n, (title, name, data, sharing) in enumerate(files):
        made.append(
            courseware.courseware_upload(
                actor=teacher,
                uploaded_file=SimpleUploadedFile(name, data),
                school=school,
                title=title,
                sharing=sharing,
                group=group if sharing == "group" else None,
                now=now + timedelta(minutes=10 * n),
            )
        )
    return made
