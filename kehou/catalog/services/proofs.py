"""Proof files (PDF and images) attached to a submission's current version by the submitter.

A proof is checked by its content, never by its name or the browser's content type: the first bytes must be those
of a PDF, a PNG or a JPEG (a renamed ZIP, HTML page or executable is refused as ``invalid_file_type``). Files are
limited in size (``KEHOU_PROOF_MAX_BYTES``, 10 MiB unless set), stored under a server-made name
(``proofs/<yyyy>/<mm>/<uuid>.<ext>`` with the extension of the detected type), their SHA-256 is recorded, and the
name the uploader gave is kept only as sanitised metadata (used as the download name, never as a path).
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils.translation import gettext as _

from kehou.core import audit, uploads
from kehou.core.audit_actions import AuditAction
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import Conflict, Forbidden, KehouError, NotFound
from kehou.people.models import TeacherProfile

from ..models import ProofFile, Submission, SubmissionVersion
from .common import scope_of

MAX_BYTES = 10 * 1024 * 1024
OPEN_STATUSES = (Submission.Status.SUBMITTED, Submission.Status.RETURNED)
HEAD_BYTES = 16


def max_bytes() -> int:
    return int(getattr(settings, "KEHOU_PROOF_MAX_BYTES", MAX_BYTES))


@dataclass(frozen=True)
class FileType:
    content_type: str
    extension: str


PDF = FileType("application/pdf", "pdf")
PNG = FileType("image/png", "png")
JPEG = FileType("image/jpeg", "jpg")
ACCEPTED = (PDF, PNG, JPEG)

_PDF_HEAD = re.compile(rb"^%PDF-[12]\.\d")
_PNG_HEAD = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
# A JPEG starts with SOI (FF D8) followed by a marker: APPn (E0–EF), DQT (DB), SOF0 (C0), DHT (C4), COM (FE).
_JPEG_MARKERS = {*range(0xE0, 0xF0), 0xDB, 0xC0, 0xC2, 0xC4, 0xFE}


def sniff(head: bytes) -> FileType | None:
    """The type of a file from its first bytes, or None if it is not one we accept."""
    if _PDF_HEAD.match(head):
        return PDF
    if head.startswith(_PNG_HEAD):
        return PNG
    if len(head) >= 4 and head[:3] == b"\xff\xd8\xff" and head[3] in _JPEG_MARKERS:
        return JPEG
    return None


_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*;]+')


def sanitise_name(name: str, file_type: FileType) -> str:
    """The uploader's file name as harmless metadata: no directories, no control or reserved characters, at most
    200 characters, and the extension of the detected type (a "photo.exe" that is a PNG becomes "photo.png")."""
    base = re.split(r"[/\\]", name or "")[-1]
    base = unicodedata.normalize("NFC", base)
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    base = _UNSAFE.sub("_", base).strip(" ._")
    stem = base.rsplit(".", 1)[0].strip(" ._") if "." in base else base
    stem = stem[: 200 - len(file_type.extension) - 1] or "proof"
    return f"{stem}.{file_type.extension}"


def may_submit_for(actor: Any, submission: Submission) -> bool:
    """The submitter side: an administrator of the submitting school, or the outside teacher who submitted (or a
    teacher of the same organisation, who may also revise it)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    if submission.submitter_school_id is not None:
        return submission.submitter_school_id in scope_of(actor).school_ids
    if submission.submitter_user_id == actor.pk:
        return True
    if submission.submitter_organisation_id is None:
        return False
    return TeacherProfile.objects.filter(
        user=actor, kind=TeacherProfile.Kind.OUTSIDE, organisation_id=submission.submitter_organisation_id
    ).exists()


def read_checked(uploaded_file: Any, limit: int) -> tuple[IO[bytes], FileType, str, int]:
    """Copy the upload into a temporary file while checking its type, size and hash: (the file, its type, its
    SHA-256, its size). Every upload of a document (proofs, operators' receipts) goes through here."""
    spool = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115 - returned to the caller
    digest = hashlib.sha256()
    size = 0
    head = b""
    try:
        for chunk in uploads.chunks(uploaded_file, limit=limit):
            size += len(chunk)
            if len(head) < HEAD_BYTES:
                head += chunk[: HEAD_BYTES - len(head)]
            digest.update(chunk)
            spool.write(chunk)
        file_type = sniff(head)
        if file_type is None:
            raise KehouError(
                _("Upload a PDF, PNG or JPEG file. The file's content is checked, not its name."),
                code=ErrorCode.INVALID_FILE_TYPE,
                fields={"file": [{"code": "invalid_file_type", "message": _("Not a PDF, PNG or JPEG file.")}]},
            )
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool, file_type, digest.hexdigest(), size


def proof_attach(*, actor: Any, version: SubmissionVersion, kind: str, uploaded_file: Any, now: datetime) -> ProofFile:
    """Attach a proof to the current version of a submitted or returned submission (the submitter side only)."""
    submission = version.submission
    if not may_submit_for(actor, submission):
        if scope_of(actor).may_see(submission):
            raise Forbidden(_("Only the submitter may add proof files."), code=ErrorCode.NOT_SUBMITTER)
        raise NotFound(_("Not found."))
    if kind not in ProofFile.Kind.values:
        raise KehouError(
            _("Choose what the file proves."),
            code=ErrorCode.INVALID_KIND,
            fields={"kind": [{"code": "invalid_choice", "message": _("Unknown kind of proof.")}]},
        )
    content, file_type, sha256, size = read_checked(uploaded_file, max_bytes())
    original = sanitise_name(getattr(uploaded_file, "name", "") or "", file_type)
    field = ProofFile._meta.get_field("file")
    storage = field.storage  # type: ignore[attr-defined]
    stored_name = ""
    try:
        with transaction.atomic():
            locked = Submission.objects.select_for_update().get(pk=submission.pk)
            if version.number != locked.version_count:
                raise Conflict(
                    _("Proofs can be added to the current version only."),
                    code=ErrorCode.NOT_CURRENT_VERSION,
                    fields={"version": version.number, "current": locked.version_count},
                )
            if locked.status not in OPEN_STATUSES:
                raise Conflict(
                    _("Proofs can be added while the submission awaits review or has been returned."),
                    code=ErrorCode.NOT_OPEN_FOR_PROOFS,
                    fields={"status": locked.status},
                )
            stored_name = storage.save(f"proofs/{now:%Y/%m}/{uuid.uuid4().hex}.{file_type.extension}", File(content))
            proof = ProofFile(
                version=version,
                kind=kind,
                file=stored_name,
                original_name=original,
                content_type=file_type.content_type,
                size=size,
                sha256=sha256,
                uploaded_at=now,
                uploaded_by=actor,
            )
            proof.full_clean()
            proof.save()
            region = locked.library_region
            audit.record(
                actor=actor,
                action=AuditAction.PROOF_ATTACHED,
                obj=proof,
                now=now,
                school_id=locked.submitter_school_id,
                district_id=None if region.is_city else region.pk,
                after={
                    "submission": locked.pk,
                    "version": version.number,
                    "kind": kind,
                    "content_type": file_type.content_type,
                    "size": size,
                    "sha256": sha256,
                    "original_name": original,
                    "stored_as": stored_name,
                },
            )
    except BaseException:
        if stored_name:
            storage.delete(stored_name)
        raise
    finally:
        content.close()
    return proof
