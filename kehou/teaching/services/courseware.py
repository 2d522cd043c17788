"""Courseware (课件): a teacher uploads a file, checked by its content (:mod:`kehou.teaching.files`) with size limits
and stored under a server-made name; documents, decks and images are converted to pages once per content
(:class:`~kehou.teaching.models.Rendition`, keyed by SHA-256) by the task worker; a teacher presents courseware on
a classroom screen page by page, and their phone turns the pages through the live channel."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import tempfile
import unicodedata
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from kehou.catalog.services.proofs import sanitise_name
from kehou.core import audit, jobs, uploads
from kehou.core.audit_actions import AuditAction
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import Conflict, KehouError
from kehou.core.scope import scope_for
from kehou.notify import events
from kehou.orgs.models import School

from .. import convert, files
from ..models import Courseware, LessonPlan, Presentation, Rendition, TeachingGroup
from .common import require_teacher

log = logging.getLogger("kehou.teaching")

CONVERT_TASK = "kehou.teaching.tasks.convert_rendition"
RETRYABLE = ("conversion_timeout", "converter_missing", "conversion_failed")


def rules() -> dict[str, Any]:
    return dict(settings.KEHOU_TEACHING)


def _invalid(message: str, **fields: Any) -> KehouError:
    return KehouError(message, code=ErrorCode.COURSEWARE_INVALID, fields=fields)


def _teacher(actor: Any) -> Any:
    return require_teacher(actor, _("Only a teacher uploads and presents courseware."))


def _read(uploaded_file: Any, limit: int) -> tuple[Any, bytes]:
    """The upload copied to a temporary file (refused past ``limit``), and its first bytes."""
    spool = tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024)  # noqa: SIM115 - closed by the caller
    head = b""
    try:
        for chunk in uploads.chunks(uploaded_file, limit=limit):
            if len(head) < files.HEAD_BYTES:
                head += chunk[: files.HEAD_BYTES - len(head)]
            spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool, head


def _clean_title(text: str) -> str:
    """A title as plain text: no control or format characters (NUL, bidi overrides), spaces collapsed."""
    return " ".join("".join(ch for ch in (text or "") if unicodedata.category(ch)[0] != "C").split())


def upload_limit() -> int:
    r = rules()
    return max(int(r["DOC_MAX_BYTES"]), int(r["MEDIA_MAX_BYTES"]))


def courseware_upload(
    *,
    actor: Any,
    uploaded_file: Any,
    school: School | None,
    title: str,
    now: datetime,
    sharing: str = LessonPlan.Sharing.PRIVATE,
    group: TeachingGroup | None = None,
) -> Courseware:
    """Store a teacher's courseware and, for a document, a deck or an image, have it converted to pages (at once if
    the same content was converted before)."""
    teacher = _teacher(actor)
    if school is None or not teacher.schools.filter(pk=school.pk).exists():
        raise _invalid(_("Choose one of the schools you teach at."), school=0)
    title = _clean_title(title)
    if not title:
        title = _clean_title(Path(str(getattr(uploaded_file, "name", "") or "").replace("\\", "/")).stem)[:80]
    if not 1 <= len(title) <= 80:
        raise _invalid(_("Give the courseware a title (1–80 characters)."), title=0)
    if sharing not in LessonPlan.Sharing.values:
        raise _invalid(_("Choose who the courseware is shared with."), sharing=str(sharing)[:20])
    if sharing == LessonPlan.Sharing.GROUP:
        if group is None or group.school_id != school.pk or not group.members.filter(pk=teacher.pk).exists():
            raise _invalid(_("Choose one of your teaching groups at this school."), group=0)
    else:
        group = None
    r = rules()
    spool, head = _read(uploaded_file, upload_limit())
    with contextlib.ExitStack() as stack:
        stack.callback(spool.close)
        file_type = files.sniff(head)
        if file_type is None:
            raise files.not_accepted()
        links_removed = 0
        if file_type is files.ZIP:
            cleaned, file_type, size, links_removed = files.office_clean(
                spool, unpacked_max=int(r["UNPACKED_MAX_BYTES"]), part_max=int(r["PART_MAX_BYTES"])
            )
            stack.callback(cleaned.close)
            content: Any = File(cleaned)
        else:
            spool.seek(0, 2)
            size = spool.tell()
            spool.seek(0)
            content = File(spool)
        limit = int(r["MEDIA_MAX_BYTES"] if file_type.media else r["DOC_MAX_BYTES"])
        if size > limit:
            raise uploads.too_large(limit)
        digest = hashlib.sha256()
        for chunk in content.chunks():
            digest.update(chunk)
        sha256 = digest.hexdigest()
        content.seek(0)
        original = sanitise_name(str(getattr(uploaded_file, "name", "") or ""), file_type)  # type: ignore[arg-type]
        stored = ""
        try:
            stored = default_storage.save(
                f"courseware/files/{now:%Y/%m}/{uuid.uuid4().hex}.{file_type.extension}", content
            )
            with transaction.atomic():
                rendition = None
                if not file_type.media:
                    source_kind = {"pdf": "pdf", "image": "image"}.get(file_type.kind, "office")
                    rendition, created = _rendition_for(sha256, source_kind, stored, now)
                    if created:
                        jobs.enqueue(CONVERT_TASK, rendition_id=rendition.pk)
                item = Courseware.objects.create(
                    owner=actor,
                    school=school,
                    title=title,
                    kind=file_type.kind,
                    file=stored,
                    original_name=original,
                    content_type=file_type.content_type,
                    size=size,
                    sha256=sha256,
                    rendition=rendition,
                    links_removed=links_removed,
                    sharing=sharing,
                    group=group,
                    created_at=now,
                )
                audit.record(
                    actor=actor,
                    action=AuditAction.COURSEWARE_UPLOAD,
                    obj=item,
                    now=now,
                    school_id=school.pk,
                    after={
                        "kind": item.kind,
                        "size": size,
                        "sha256": sha256,
                        "original_name": original,
                        "stored_as": stored,
                        "external_links_removed": links_removed,
                        "conversion": rendition.status if rendition else None,
                    },
                )
        except BaseException:
            if stored:
                default_storage.delete(stored)
            raise
    return item


def _rendition_for(sha256: str, source_kind: str, stored: str, now: datetime) -> tuple[Rendition, bool]:
    """The conversion of this content: the one made before (any state), or a new one, queued."""
    existing = Rendition.objects.filter(sha256=sha256).first()
    if existing is not None:
        # A conversion that failed for the machine's sake (it timed out, LibreOffice was missing), or whose worker
        # died while converting, is tried again.
        stale = now - timedelta(seconds=2 * int(rules()["CONVERT_SECONDS"]))
        again = (
            Rendition.objects.filter(pk=existing.pk)
            .filter(
                Q(status=Rendition.Status.FAILED, error_code__in=RETRYABLE)
                | Q(status=Rendition.Status.CONVERTING, started_at__lt=stale)
            )
            .update(status=Rendition.Status.QUEUED, error_code="", error="", started_at=None, finished_at=None)
        )
        existing.refresh_from_db()
        return existing, bool(again)
    with transaction.atomic():
        obj, created = Rendition.objects.get_or_create(
            sha256=sha256, defaults={"source_kind": source_kind, "source": stored, "created_at": now}
        )
    return obj, created


# --- conversion (the task worker) ---------------------------------------------------------------------------------


def rendition_convert(*, rendition_id: int, now: datetime) -> str:
    """Convert one rendition, once: claimed by a conditional UPDATE (a conversion that has been "converting" for
    twice the time limit is taken again: its worker died). Never raises for what the file does."""
    stale = now - timedelta(seconds=2 * int(rules()["CONVERT_SECONDS"]))
    claimed = Rendition.objects.filter(
        Q(status=Rendition.Status.QUEUED) | Q(status=Rendition.Status.CONVERTING, started_at__lt=stale),
        pk=rendition_id,
    ).update(status=Rendition.Status.CONVERTING, started_at=now)
    if not claimed:
        return "not_queued"
    rendition = Rendition.objects.get(pk=rendition_id)
    saved: list[str] = []
    try:
        with convert.workspace() as work, default_storage.open(rendition.source, "rb") as source:
            local = Path(work) / "stored"
            with open(local, "wb") as copy:
                for chunk in iter(lambda: source.read(1024 * 1024), b""):
                    copy.write(chunk)
            result = convert.convert(rendition.source_kind, local, Path(work))
            for number, page in enumerate(result.pages, start=1):
                name = rendition.page_name(number)
                if default_storage.exists(name):
                    default_storage.delete(name)
                with open(page, "rb") as png:
                    saved.append(default_storage.save(name, File(png)))
    except convert.ConversionFailed as failed:
        for name in saved:
            default_storage.delete(name)
        _finish(rendition, now, error_code=failed.code, error=failed.detail)
        log.warning("conversion %s failed: %s %s", rendition.pk, failed.code, failed.detail)
        return failed.code
    except OSError:  # the disk is full, the storage is away: queued again for the job's next attempt
        for name in saved:
            default_storage.delete(name)
        Rendition.objects.filter(pk=rendition.pk).update(status=Rendition.Status.QUEUED, started_at=None)
        raise
    except Exception as exc:  # anything else is this file's failure, kept with a code, never left "converting"
        for name in saved:
            default_storage.delete(name)
        log.exception("conversion %s failed unexpectedly", rendition.pk)
        _finish(rendition, now, error_code="conversion_failed", error=type(exc).__name__)
        return "conversion_failed"
    _finish(rendition, now, pages=len(saved), seconds=result.seconds)
    return "ready"


def renditions_sweep(*, now: datetime) -> int:
    """Conversions whose worker died while converting (left "converting" for twice the time limit) queued again
    and enqueued (the schedule runs this every few minutes)."""
    stale = now - timedelta(seconds=2 * int(rules()["CONVERT_SECONDS"]))
    n = 0
    for pk in list(
        Rendition.objects.filter(status=Rendition.Status.CONVERTING, started_at__lt=stale).values_list("pk", flat=True)
    ):
        with transaction.atomic():
            if Rendition.objects.filter(pk=pk, status=Rendition.Status.CONVERTING, started_at__lt=stale).update(
                status=Rendition.Status.QUEUED, started_at=None
            ):
                jobs.enqueue(CONVERT_TASK, rendition_id=pk)
                n += 1
    return n


def _finish(
    rendition: Rendition,
    now: datetime,
    *,
    pages: int = 0,
    seconds: float | None = None,
    error_code: str = "",
    error: str = "",
) -> None:
    with transaction.atomic():
        status = Rendition.Status.READY if pages else Rendition.Status.FAILED
        Rendition.objects.filter(pk=rendition.pk).update(
            status=status, pages=pages, seconds=seconds, error_code=error_code, error=error, finished_at=now
        )
        audit.record(
            actor=None,
            action=AuditAction.COURSEWARE_CONVERTED if pages else AuditAction.COURSEWARE_CONVERSION_FAILED,
            obj=rendition,
            now=now,
            after={"pages": pages, "seconds": round(seconds, 2) if seconds else None, "error": error_code},
        )
        owners = list(
            Courseware.objects.filter(rendition_id=rendition.pk).values_list("owner_id", flat=True).distinct()
        )
        if owners:
            events.publish(
                user_ids=owners,
                kind="courseware",
                data={"rendition": rendition.pk, "status": status, "pages": pages, "error": error_code},
                now=now,
            )


# --- presenting ---------------------------------------------------------------------------------------------------


def page_count(item: Courseware) -> int:
    return item.rendition.pages if item.rendition is not None else 1


def _ready(item: Courseware) -> None:
    if item.rendition is not None and item.rendition.status != Rendition.Status.READY:
        raise Conflict(
            _("This courseware is not ready to present: its conversion has not finished or failed."),
            code=ErrorCode.COURSEWARE_NOT_READY,
            fields={"conversion": item.rendition.status},
        )


def presentation_start(*, actor: Any, courseware: Courseware, screen_name: str, now: datetime) -> Presentation:
    """A teacher presents courseware they may see (on the screen they are logged in on, or any page of theirs)."""
    _teacher(actor)
    _ready(courseware)
    with transaction.atomic():
        show = Presentation.objects.create(
            owner=actor,
            courseware=courseware,
            page=1,
            screen_name=(screen_name or "")[:60],
            started_at=now,
            updated_at=now,
        )
        audit.record(
            actor=actor,
            action=AuditAction.PRESENTATION_START,
            obj=show,
            object_repr=courseware.title,
            now=now,
            school_id=courseware.school_id,
            after={"courseware": courseware.pk, "screen": show.screen_name},
        )
    return show


ACTIONS = ("next", "prev", "goto", "first", "last", "play", "pause", "end")


def presentation_go(
    *,
    actor: Any,
    show: Presentation,
    action: str,
    now: datetime,
    page: int | None = None,
    courseware: Courseware | None = None,
) -> Presentation:
    """Turn a presentation's page (or switch it to other courseware of the day, or play / pause its sound or video,
    or end it). The new state goes to the screen and the phone on topic ``presentation:<id>``."""
    if action not in ACTIONS:
        raise KehouError(_("Unknown remote action."), code=ErrorCode.INVALID, fields={"action": action[:20]})
    if courseware is not None and courseware.pk != show.courseware_id:
        if not scope_for(actor).may_see(courseware):
            raise _invalid(_("Choose courseware you may see."), courseware=courseware.pk)
        _ready(courseware)
    with transaction.atomic():
        locked = (
            Presentation.objects.select_for_update(of=("self",)).select_related("courseware__rendition").get(pk=show.pk)
        )
        if locked.ended_at is not None:
            raise Conflict(_("This presentation has ended."), code=ErrorCode.PRESENTATION_ENDED)
        if courseware is not None and courseware.pk != locked.courseware_id:
            locked.courseware = courseware
            locked.page = 1
        pages = page_count(locked.courseware)
        if action == "next":
            locked.page = min(pages, locked.page + 1)
        elif action == "prev":
            locked.page = max(1, locked.page - 1)
        elif action == "first":
            locked.page = 1
        elif action == "last":
            locked.page = pages
        elif action == "goto":
            if isinstance(page, bool) or not isinstance(page, int) or not 1 <= page <= pages:
                raise KehouError(
                    _("Choose a page from 1 to %(n)s.") % {"n": pages},
                    code=ErrorCode.INVALID,
                    fields={"page": page if isinstance(page, int) else None, "pages": pages},
                )
            locked.page = page
        elif action == "end":
            locked.ended_at = now
        locked.updated_at = now
        locked.save()
        events.broadcast(f"presentation:{locked.pk}", state(locked, action=action))
    return locked


def state(show: Presentation, *, action: str = "") -> dict[str, Any]:
    item = show.courseware
    return {
        "kind": "presentation",
        "id": show.pk,
        "courseware": item.pk,
        "title": item.title,
        "courseware_kind": item.kind,
        "page": show.page,
        "pages": page_count(item),
        "action": action,
        "ended": show.ended_at is not None,
    }


def may_follow(user_id: int, presentation_id: int) -> bool:
    """Who may follow ``presentation:<id>`` on the event stream: its teacher (phone and screen)."""
    return Presentation.objects.filter(pk=presentation_id, owner_id=user_id).exists()
