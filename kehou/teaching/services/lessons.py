"""Lesson preparation (备课): a teacher prepares a lesson (goals, timed steps, notes) and shares it with nobody, their
teaching group (教研组) or their school. Only the author edits (each edit a new version); whoever may read a lesson
may copy it, and the copy, the copier's own and private, records its origin and the version copied. Who may read at
all is the scope's rule (``LessonPlan.kehou_scope``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from kehou.catalog.models import CatalogItem, Category
from kehou.core import audit
from kehou.core.audit_actions import AuditAction
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import Conflict, Forbidden, KehouError, NotFound
from kehou.core.scope import scope_for
from kehou.orgs.models import School

from ..models import Courseware, LessonPlan, TeachingGroup
from .common import require_teacher

MAX_STEPS = 30
MAX_COURSEWARE = 20


def _invalid(message: str, **fields: Any) -> KehouError:
    return KehouError(message, code=ErrorCode.LESSON_INVALID, fields=fields)


def _teacher(actor: Any) -> Any:
    return require_teacher(actor, _("Only a teacher prepares lessons."))


def check_steps(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_STEPS:
        raise _invalid(_("A lesson has 1 to %(n)s steps.") % {"n": MAX_STEPS}, steps=0)
    steps = []
    for i, step in enumerate(raw):
        if not isinstance(step, dict) or set(step) - {"text", "minutes"}:
            raise _invalid(_("A step is what happens and its minutes."), step=i)
        text = " ".join(str(step.get("text") or "").split())
        minutes = step.get("minutes")
        if not 1 <= len(text) <= 200:
            raise _invalid(_("Say what each step is (1–200 characters)."), step=i)
        if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= 120:
            raise _invalid(_("A step lasts 1 to 120 whole minutes."), step=i)
        steps.append({"text": text, "minutes": minutes})
    return steps


def parse_steps(text: str) -> list[dict[str, Any]]:
    """The page's steps: one per line, ``what happens | minutes``."""
    raw = []
    for n, line in enumerate((text or "").splitlines()[:200], start=1):
        if not line.strip():
            continue
        what, sep, minutes = line.rpartition("|")
        if not sep or not (minutes.strip().isascii() and minutes.strip().isdigit() and len(minutes.strip()) <= 4):
            raise _invalid(_("Line %(n)s: write a step as “what happens | minutes”.") % {"n": n}, line=n)
        raw.append({"text": what.strip(), "minutes": int(minutes.strip())})
    return check_steps(raw)


def _sharing(teacher: Any, school: School, sharing: str, group: TeachingGroup | None) -> TeachingGroup | None:
    if sharing not in LessonPlan.Sharing.values:
        raise _invalid(_("Choose who the lesson is shared with."), sharing=sharing[:20])
    if sharing == LessonPlan.Sharing.GROUP:
        if group is None or group.school_id != school.pk or not group.members.filter(pk=teacher.pk).exists():
            raise _invalid(_("Choose one of your teaching groups at this school."), group=0)
        return group
    return None


def plan_save(
    *,
    actor: Any,
    now: datetime,
    plan: LessonPlan | None = None,
    school: School | None = None,
    title: str,
    goals: str,
    steps: list[dict[str, Any]],
    notes: str = "",
    sharing: str = LessonPlan.Sharing.PRIVATE,
    group: TeachingGroup | None = None,
    item: CatalogItem | None = None,
    courseware: list[int] | None = None,
) -> LessonPlan:
    """Create a lesson (``plan`` None, at one of the teacher's schools) or edit one's own (a new version)."""
    teacher = _teacher(actor)
    if plan is not None:
        if plan.owner_id != actor.pk:
            if scope_for(actor).may_see(plan):
                raise Forbidden(
                    _("Only its author edits a lesson; copy it to make it yours."), code=ErrorCode.NOT_LESSON_OWNER
                )
            raise NotFound(_("Not found."))
        school = plan.school
    if school is None or not teacher.schools.filter(pk=school.pk).exists():
        raise _invalid(_("Choose one of the schools you teach at."), school=0)
    title = " ".join((title or "").split())
    goals = (goals or "").strip()
    if not 1 <= len(title) <= 80:
        raise _invalid(_("Give the lesson a title (1–80 characters)."), title=0)
    if not 1 <= len(goals) <= 2000:
        raise _invalid(_("Say what the lesson's goals are (1–2000 characters)."), goals=0)
    if len(notes or "") > 4000:
        raise _invalid(_("Notes are at most 4000 characters."), notes=0)
    steps = check_steps(steps)
    group = _sharing(teacher, school, sharing, group)
    if item is not None and item.kind != "course":
        raise _invalid(_("Choose a library course."), item=item.pk)
    attached = None
    if courseware is not None:
        wanted = set(courseware)
        if len(wanted) > MAX_COURSEWARE:
            raise _invalid(_("Attach at most %(n)s courseware.") % {"n": MAX_COURSEWARE}, courseware=len(wanted))
        attached = list(scope_for(actor).filter(Courseware.objects.filter(pk__in=wanted)))
        if len(attached) != len(wanted):
            raise _invalid(_("Attach courseware you may see."), courseware=sorted(wanted - {c.pk for c in attached}))
    values = {
        "title": title,
        "goals": goals,
        "steps": steps,
        "notes": (notes or "").strip(),
        "sharing": sharing,
        "group": group,
        "item": item,
        "updated_at": now,
    }
    with transaction.atomic():
        if plan is None:
            plan = LessonPlan.objects.create(owner=actor, school=school, created_at=now, version=1, **values)
        else:
            locked = LessonPlan.objects.select_for_update().get(pk=plan.pk)
            for key, value in values.items():
                setattr(locked, key, value)
            locked.version += 1
            locked.save()
            plan = locked
        if attached is not None:
            plan.courseware.set(attached)
        audit.record(
            actor=actor,
            action=AuditAction.LESSON_SAVE,
            obj=plan,
            object_repr=plan.title,
            after={"version": plan.version, "sharing": sharing},
            now=now,
            school_id=plan.school_id,
        )
    return plan


def plan_copy(*, actor: Any, plan: LessonPlan, now: datetime) -> LessonPlan:
    """A private copy for the calling teacher, at one of their schools, recording the origin and its version."""
    teacher = _teacher(actor)
    if not scope_for(actor).may_see(plan):
        raise NotFound(_("Not found."))
    school = teacher.schools.filter(pk=plan.school_id).first() or teacher.schools.order_by("pk").first()
    if school is None:
        raise _invalid(_("Choose one of the schools you teach at."), school=0)
    with transaction.atomic():
        copy = LessonPlan.objects.create(
            owner=actor,
            school=school,
            item=plan.item,
            title=plan.title,
            goals=plan.goals,
            steps=plan.steps,
            notes=plan.notes,
            sharing=LessonPlan.Sharing.PRIVATE,
            origin=plan,
            origin_version=plan.version,
            created_at=now,
            updated_at=now,
        )
        # the courseware comes along where the copier may see it too
        copy.courseware.set(scope_for(actor).filter(plan.courseware.all()))
        audit.record(
            actor=actor,
            action=AuditAction.LESSON_COPY,
            obj=copy,
            object_repr=copy.title,
            after={"origin": plan.pk, "origin_version": plan.version},
            now=now,
            school_id=school.pk,
        )
    return copy


def group_create(*, actor: Any, school: School, name: str, teacher_ids: list[int], now: datetime) -> TeachingGroup:
    """A school's administrators form a teaching group of the school's teachers."""
    scope = scope_for(actor)
    if school.pk not in scope.school_ids:
        if scope.may_see(school):
            raise Forbidden(
                _("Only the school's administrators form its teaching groups."), code=ErrorCode.NOT_SCHOOL_ADMIN
            )
        raise NotFound(_("Not found."))
    name = " ".join((name or "").split())
    if not 1 <= len(name) <= 40:
        raise _invalid(_("Name the group (1–40 characters)."), name=0)
    members = list(school.teachers.filter(pk__in=teacher_ids))
    if not members or len(members) != len(set(teacher_ids)):
        raise _invalid(_("Choose teachers of this school."), teachers=0)
    if TeachingGroup.objects.filter(school=school, name=name).exists():
        raise _invalid(_("The school has a group of that name."), name=name)
    with transaction.atomic():
        group = TeachingGroup.objects.create(school=school, name=name, created_at=now)
        group.members.set(members)
        audit.record(
            actor=actor,
            action=AuditAction.TEACHING_GROUP_CREATE,
            obj=group,
            object_repr=name,
            after={"members": len(members)},
            now=now,
            school_id=school.pk,
        )
    return group


# --- the fourth level: a district or city library, reviewed like courses ----------------------------------------

OPEN = ("submitted", "in_review", "returned")


def plan_submit(
    *, actor: Any, plan: LessonPlan, library: str, category: Category | None, now: datetime, note: str = ""
) -> LessonPlan:
    """Its author puts a prepared lesson forward to the district's (its school's) or the city's library, where it is
    reviewed like a course (panel, scores, decision); admitted, every teacher of the city may copy it. A returned
    submission is revised with the lesson as it is now; one under review cannot be submitted again."""
    from kehou.catalog.models import Submission
    from kehou.catalog.services import submissions

    _teacher(actor)
    if plan.owner_id != actor.pk:
        if scope_for(actor).may_see(plan):
            raise Forbidden(_("Only its author submits a lesson."), code=ErrorCode.NOT_LESSON_OWNER)
        raise NotFound(_("Not found."))
    if category is None:
        raise _invalid(_("Choose the library category."), category=0)
    fields = submissions.LessonFields(
        title=plan.title,
        category=category,
        goals=plan.goals,
        steps=list(plan.steps),
        notes=plan.notes,
        source_plan=plan.pk,
        source_version=plan.version,
    )
    with transaction.atomic():
        locked = LessonPlan.objects.select_for_update(of=("self",)).select_related("submission").get(pk=plan.pk)
        current = locked.submission
        if current is not None and current.status in OPEN:
            if current.status == Submission.Status.IN_REVIEW:
                raise Conflict(
                    _("The lesson is being reviewed; wait for the decision."),
                    code=ErrorCode.LESSON_IN_REVIEW,
                    fields={"submission": current.pk},
                )
            submissions.submission_revise(
                actor=actor, submission=current, fields=fields, note=note or _("Revised lesson"), now=now
            )
        elif current is not None and current.status == Submission.Status.ADMITTED:
            raise Conflict(
                _("The lesson is already in the library."),
                code=ErrorCode.LESSON_IN_REVIEW,
                fields={"submission": current.pk},
            )
        else:
            locked.submission = submissions.submission_create(
                actor=actor, school=locked.school, library=library, fields=fields, now=now
            )
            locked.save(update_fields=["submission"])
    locked.refresh_from_db()
    return locked


def library_lessons() -> Any:
    """Prepared lessons admitted into a district or city library (read by everyone signed in, as the library)."""
    from kehou.catalog.models import CatalogItem, LibraryEntry

    return (
        CatalogItem.objects.filter(kind="lesson", entries__status=LibraryEntry.Status.ACTIVE)
        .select_related("version", "category", "provider_school", "submission__submitter_user")
        .distinct()
        .order_by("-admitted_at", "-pk")
    )


def plan_copy_from_library(*, actor: Any, item: Any, now: datetime) -> LessonPlan:
    """A private copy of a library lesson for the calling teacher, recording the item and the lesson (and version)
    it was made from."""
    teacher = _teacher(actor)
    school = teacher.schools.order_by("pk").first()
    if school is None:
        raise _invalid(_("Choose one of the schools you teach at."), school=0)
    content = item.version.content or {}
    source = LessonPlan.objects.filter(pk=content.get("source_plan") or 0).first()
    with transaction.atomic():
        copy = LessonPlan.objects.create(
            owner=actor,
            school=school,
            title=item.name[:80],
            goals=str(content.get("goals") or "")[:2000] or item.name,
            steps=check_steps(content.get("steps") or []),
            notes=str(content.get("notes") or "")[:4000],
            sharing=LessonPlan.Sharing.PRIVATE,
            origin=source,
            origin_version=content.get("source_version"),
            origin_item=item,
            created_at=now,
            updated_at=now,
        )
        audit.record(
            actor=actor,
            action=AuditAction.LESSON_COPY,
            obj=copy,
            object_repr=copy.title,
            after={"library_item": item.pk, "origin": source.pk if source else None},
            now=now,
            school_id=school.pk,
        )
    return copy
