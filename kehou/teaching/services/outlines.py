"""Course outlines (课程设置): a library course's units and lessons, with names and minutes, ordered, edited by the
course's owner (who submitted it: the submitting teacher or organisation's account, or the submitting school's
administrators), each edit a new version; and the lesson a class's session taught.

An edit names the version it was made from: if someone saved another meanwhile, it is refused (``outline_stale``)
instead of silently overwriting their work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kehou.catalog.models import CatalogItem
from kehou.core import audit
from kehou.core.audit_actions import AuditAction
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import Conflict, Forbidden, KehouError, NotFound
from kehou.core.roles import Role
from kehou.core.scope import scope_for
from kehou.enrolment.models import ClassSession

from ..models import CourseOutline, OutlineLesson, OutlineUnit, SessionLesson

MAX_UNITS, MAX_LESSONS, MIN_MINUTES, MAX_MINUTES = 30, 40, 5, 240


@dataclass(frozen=True)
class Lesson:
    name: str
    minutes: int


@dataclass(frozen=True)
class Unit:
    name: str
    lessons: tuple[Lesson, ...]


def _invalid(message: str, **fields: Any) -> KehouError:
    return KehouError(message, code=ErrorCode.OUTLINE_INVALID, fields=fields)


def check_units(raw: Any) -> tuple[Unit, ...]:
    """Units as the API sends them: [{"name", "lessons": [{"name", "minutes"}]}]; every bound checked."""
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_UNITS:
        raise _invalid(_("An outline has 1 to %(n)s units.") % {"n": MAX_UNITS}, units=0)
    units = []
    for u, unit in enumerate(raw):
        if not isinstance(unit, dict) or set(unit) - {"name", "lessons"}:
            raise _invalid(_("A unit is a name and its lessons."), unit=u)
        name = " ".join(str(unit.get("name") or "").split())
        lessons_raw = unit.get("lessons")
        if not 1 <= len(name) <= 60:
            raise _invalid(_("Name each unit (1–60 characters)."), unit=u)
        if not isinstance(lessons_raw, list) or not 1 <= len(lessons_raw) <= MAX_LESSONS:
            raise _invalid(_("A unit has 1 to %(n)s lessons.") % {"n": MAX_LESSONS}, unit=u)
        lessons = []
        for i, lesson in enumerate(lessons_raw):
            if not isinstance(lesson, dict) or set(lesson) - {"name", "minutes"}:
                raise _invalid(_("A lesson is a name and its minutes."), unit=u, lesson=i)
            lname = " ".join(str(lesson.get("name") or "").split())
            minutes = lesson.get("minutes")
            if not 1 <= len(lname) <= 60:
                raise _invalid(_("Name each lesson (1–60 characters)."), unit=u, lesson=i)
            if isinstance(minutes, bool) or not isinstance(minutes, int) or not MIN_MINUTES <= minutes <= MAX_MINUTES:
                raise _invalid(
                    _("A lesson lasts %(a)s to %(b)s whole minutes.") % {"a": MIN_MINUTES, "b": MAX_MINUTES},
                    unit=u,
                    lesson=i,
                )
            lessons.append(Lesson(lname, minutes))
        units.append(Unit(name, tuple(lessons)))
    return tuple(units)


def parse_text(text: str) -> tuple[Unit, ...]:
    """The page's plain-text editor: a line starting with ``#`` begins a unit; every other line is a lesson,
    ``name | minutes``. Blank lines are ignored."""
    raw: list[dict[str, Any]] = []
    for n, line in enumerate((text or "").splitlines()[:2000], start=1):
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            raw.append({"name": line.lstrip("#").strip(), "lessons": []})
            continue
        if not raw:
            raise _invalid(_("Line %(n)s: start with a unit (a line beginning with #).") % {"n": n}, line=n)
        name, sep, minutes = line.rpartition("|")
        if not sep or not (minutes.strip().isascii() and minutes.strip().isdigit() and len(minutes.strip()) <= 4):
            raise _invalid(_("Line %(n)s: write a lesson as “name | minutes”.") % {"n": n}, line=n)
        raw[-1]["lessons"].append({"name": name.strip(), "minutes": int(minutes.strip())})
    return check_units(raw)


def as_text(outline: CourseOutline | None) -> str:
    if outline is None:
        return ""
    lines = []
    for unit in outline.units.all():
        lines.append(f"# {unit.name}")
        lines += [f"{lesson.name} | {lesson.minutes}" for lesson in unit.lessons.all()]
    return "\n".join(lines)


def current(item: CatalogItem | int) -> CourseOutline | None:
    item_id = item if isinstance(item, int) else item.pk
    return CourseOutline.objects.filter(item_id=item_id).order_by("-version").prefetch_related("units__lessons").first()


def may_edit(actor: Any, item: CatalogItem) -> bool:
    scope = scope_for(actor)
    if Role.SUPERUSER in scope.roles:
        return True
    submission = item.submission
    if submission.submitter_school_id is not None:
        return submission.submitter_school_id in scope.school_ids
    return bool(submission.submitter_user_id == getattr(actor, "pk", None))


def owned_items(actor: Any) -> list[CatalogItem]:
    """The library courses whose outline the actor edits (submitted by them or by their school)."""
    from django.db.models import Q

    scope = scope_for(actor)
    q = Q(submission__submitter_user_id=getattr(actor, "pk", None), submission__submitter_school__isnull=True)
    if scope.school_ids:
        q |= Q(submission__submitter_school_id__in=scope.school_ids)
    return list(CatalogItem.objects.filter(q, kind="course").order_by("name")[:50])


def outline_save(
    *, actor: Any, item: CatalogItem, units: tuple[Unit, ...], based_on: int, note: str = "", now: datetime
) -> CourseOutline:
    """A new version of the course's outline, made from version ``based_on`` (0: the first)."""
    if item.kind != "course":
        raise NotFound(_("Not found."))
    if not may_edit(actor, item):
        raise Forbidden(_("Only the course's owner edits its outline."), code=ErrorCode.NOT_COURSE_OWNER)
    latest = CourseOutline.objects.filter(item=item).order_by("-version").values_list("version", flat=True).first()
    if (latest or 0) != based_on:
        raise Conflict(
            _("Someone saved a newer version (%(v)s) meanwhile: reload it and make your change again.") % {"v": latest},
            code=ErrorCode.OUTLINE_STALE,
            fields={"version": latest or 0},
        )
    try:
        with transaction.atomic():
            outline = CourseOutline.objects.create(
                item=item, version=based_on + 1, note=(note or "").strip()[:200], created_by=actor, created_at=now
            )
            lessons = []
            for u, unit in enumerate(units, start=1):
                row = OutlineUnit.objects.create(outline=outline, position=u, name=unit.name)
                lessons += [
                    OutlineLesson(unit=row, position=i, name=lesson.name, minutes=lesson.minutes)
                    for i, lesson in enumerate(unit.lessons, start=1)
                ]
            OutlineLesson.objects.bulk_create(lessons)
            audit.record(
                actor=actor,
                action=AuditAction.OUTLINE_SAVE,
                obj=outline,
                object_repr=f"{item.name} v{outline.version}",
                after={"units": len(units), "lessons": len(lessons)},
                now=now,
            )
    except IntegrityError:  # the same version saved at the same moment by someone else
        raise Conflict(
            _("Someone saved a newer version meanwhile: reload it and make your change again."),
            code=ErrorCode.OUTLINE_STALE,
        ) from None
    return outline


def session_lesson_set(*, actor: Any, session: ClassSession, lesson_id: int | None, now: datetime) -> Any:
    """Link a session to the lesson of its course's outline it taught (``None`` unlinks): the class's teacher or
    the school's administrators."""
    scope = scope_for(actor)
    cls = session.course_class
    allowed = (
        Role.SUPERUSER in scope.roles
        or cls.school_id in scope.school_ids
        or (cls.teacher_id is not None and cls.teacher_id in scope.teacher_ids)
    )
    if not allowed:
        if scope.may_see(session):
            raise Forbidden(_("Only the class's teacher or the school sets its lessons."), code=ErrorCode.NOT_TEACHER)
        raise NotFound(_("Not found."))
    with transaction.atomic():
        if lesson_id is None:
            SessionLesson.objects.filter(session=session).delete()
            return None
        item_id = cls.entry.item_id if cls.entry is not None else None
        lesson = OutlineLesson.objects.filter(pk=lesson_id, unit__outline__item_id=item_id).first()
        if lesson is None or item_id is None:
            raise _invalid(_("Choose a lesson of this course's outline."), lesson=lesson_id)
        link, _created = SessionLesson.objects.update_or_create(
            session=session, defaults={"lesson": lesson, "set_by": actor, "set_at": now}
        )
        audit.record(
            actor=actor,
            action=AuditAction.SESSION_LESSON_SET,
            obj=link,
            object_repr=f"{cls.name} #{session.number}",
            after={"lesson": lesson.name},
            now=now,
            school_id=cls.school_id,
        )
    return link
