"""Substitutes (代课): the school names another of its teachers to run one session."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from kehou.core import audit, permissions
from kehou.core.audit_actions import AuditAction
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import KehouError
from kehou.enrolment.models import ClassSession
from kehou.people.models import TeacherProfile

from ..models import SessionSubstitute


def substitute_name(
    *, actor: Any, session: ClassSession, teacher: TeacherProfile, reason: str = "", now: datetime
) -> SessionSubstitute:
    school = session.course_class.school
    permissions.require_school_admin(actor, school_id=school.pk, district_id=school.district_id)
    if teacher.pk == session.course_class.teacher_id or not teacher.schools.filter(pk=school.pk).exists():
        raise KehouError(
            _("A substitute is another teacher of this school."),
            code=ErrorCode.SUBSTITUTE_INVALID,
            fields={"teacher": teacher.pk},
        )
    with transaction.atomic():
        row, _created = SessionSubstitute.objects.update_or_create(
            session=session,
            defaults={"teacher": teacher, "reason": (reason or "").strip()[:200], "named_by": actor, "named_at": now},
        )
        audit.record(
            actor=actor,
            action=AuditAction.SUBSTITUTE_NAMED,
            obj=row,
            object_repr=f"{session.course_class.name} {session.date} #{session.number}",
            after={"teacher": teacher.pk},
            now=now,
            school_id=school.pk,
            district_id=school.district_id,
        )
    return row


def substitute_remove(*, actor: Any, session: ClassSession, now: datetime) -> int:
    school = session.course_class.school
    permissions.require_school_admin(actor, school_id=school.pk, district_id=school.district_id)
    with transaction.atomic():
        removed, _kinds = SessionSubstitute.objects.filter(session=session).delete()
        if removed:
            audit.record(
                actor=actor,
                action=AuditAction.SUBSTITUTE_REMOVED,
                object_type="enrolment.classsession",
                object_id=session.pk,
                object_repr=f"{session.course_class.name} {session.date} #{session.number}",
                now=now,
                school_id=school.pk,
                district_id=school.district_id,
            )
    return removed
