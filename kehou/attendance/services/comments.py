"""Comments (点评): the teacher who runs a session writes a few words on a pupil; the pupil's guardians see them at
once on every device they have open (an event on their stream), and their phones get one push per session however
many comments it holds (the notification collapses them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from kehou.core.error_codes import ErrorCode
from kehou.core.errors import KehouError
from kehou.enrolment.models import ClassSession
from kehou.notify import events
from kehou.notify.services import notify

from ..models import COMMENT_TAGS, Comment, RollCallRow
from .common import require_runner, rules
from .rollcall import require_open, roll_call_open

MAX_TAGS = 5


def _clean(text: str, tags: list[Any]) -> tuple[str, list[str]]:
    text = (text or "").strip()
    limit = int(rules()["COMMENT_MAX_CHARS"])
    if not text:
        raise KehouError(_("Write the comment."), code=ErrorCode.COMMENT_INVALID, fields={"text": ""})
    if len(text) > limit:
        raise KehouError(
            _("A comment is at most %(n)d characters.") % {"n": limit},
            code=ErrorCode.COMMENT_INVALID,
            fields={"text": len(text)},
        )
    clean: list[str] = []
    for t in tags or []:
        if not isinstance(t, str) or t not in COMMENT_TAGS:
            raise KehouError(
                _("Unknown tag %(tag)s.") % {"tag": str(t)[:24]},
                code=ErrorCode.COMMENT_INVALID,
                fields={"tags": str(t)[:24]},
            )
        if t not in clean:
            clean.append(t)
    if len(clean) > MAX_TAGS:
        raise KehouError(_("At most five tags."), code=ErrorCode.COMMENT_INVALID, fields={"tags": len(clean)})
    return text, clean


def comment_data(c: Comment) -> dict[str, Any]:
    """What a guardian's stream carries (the contract: ``kind: "comment"``, the pupil id and the text)."""
    session = c.session
    return {
        "id": c.pk,
        "pupil": c.pupil_id,
        "pupil_name": c.pupil.name,
        "session": session.pk,
        "course_class": session.course_class.name,
        "date": session.date.isoformat(),
        "text": c.text,
        "tags": c.tags,
        "tag_labels": c.tag_labels(),
        "teacher": getattr(c.author, "full_name", "") or "",
        "created_at": c.created_at.isoformat(),
    }


def comment_add(
    *, actor: Any, session: ClassSession, pupil_id: int, text: str, tags: list[Any] | None = None, now: datetime
) -> Comment:
    """A comment on a pupil on the session's sheet, by the teacher who runs the session, while its roll call is open."""
    require_runner(actor, session)
    text, clean = _clean(text, tags or [])
    roll_call = roll_call_open(session=session, now=now)
    require_open(session, roll_call, now)
    row = RollCallRow.objects.filter(roll_call=roll_call, pupil_id=pupil_id).select_related("pupil").first()
    if row is None:
        raise KehouError(
            _("Some pupils have no place in this class on this date."),
            code=ErrorCode.PUPIL_NOT_ON_SHEET,
            fields={"pupil": pupil_id},
        )
    with transaction.atomic():
        comment = Comment.objects.create(
            session=session, pupil=row.pupil, author=actor, text=text, tags=clean, created_at=now
        )
        guardians = list(row.pupil.guardians.values_list("user_id", flat=True))
        events.publish(user_ids=guardians, kind="comment", data=comment_data(comment), now=now)
        notify(
            user_ids=guardians,
            kind="comment",
            title=_("%(teacher)s commented on %(name)s (%(course)s)")
            % {
                "teacher": getattr(actor, "full_name", "") or _("The teacher"),
                "name": row.pupil.name,
                "course": session.course_class.name,
            },
            body=text,
            link="/parent/comments/",
            now=now,
            dedup_key=f"comment:{session.pk}:{row.pupil_id}",
            collapse=True,
            push_delay=int(settings.KEHOU_NOTIFY["COMMENT_PUSH_DELAY_SECONDS"]),
        )
    return comment
