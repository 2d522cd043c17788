"""Uploads, one way for every app: the size guard before anything reads the body, bounded reading, chunked copying
with a content check, and server-made names. (Content sniffing of each app's accepted types lives with the app:
proofs accept PDF/PNG/JPEG, rosters .xlsx, reconciliation the channels' bills.)"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _

from .error_codes import ErrorCode
from .errors import KehouError

# Room for a multipart form's boundaries and headers around the file itself.
MULTIPART_SLACK = 64 * 1024


def too_large(limit: int, *, error_class: type[KehouError] = KehouError) -> KehouError:
    """413 ``file_too_large`` naming the limit (in whole MB when it is whole, else to one decimal)."""
    mb = limit / 1024 / 1024
    if limit % (1024 * 1024) == 0:
        message = _("The file is larger than %(mb).0f MB.") % {"mb": mb}
    else:
        message = _("The file is larger than %(mb).1f MB.") % {"mb": mb}
    return error_class(message, code=ErrorCode.FILE_TOO_LARGE, status=413, fields={"max_bytes": limit})


def refuse_oversized(
    request: HttpRequest, *, limit: int, slack: int = MULTIPART_SLACK, error_class: type[KehouError] = KehouError
) -> None:
    """Refuse a body that cannot hold an acceptable file, from its declared length, before anything reads it."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit + slack:
        raise too_large(limit, error_class=error_class)


def read_limited(file: Any, *, limit: int, error_class: type[KehouError] = KehouError) -> bytes:
    """The whole upload as bytes, refusing it once it passes ``limit`` (its declared size first, then what is
    actually read: a client may lie about the size)."""
    size = getattr(file, "size", None)
    if isinstance(size, int) and size > limit:
        raise too_large(limit, error_class=error_class)
    if hasattr(file, "seek"):
        file.seek(0)
    data = file.read(limit + 1)
    if len(data) > limit:
        raise too_large(limit, error_class=error_class)
    return bytes(data)


def chunks(uploaded_file: Any, *, limit: int, size: int = 64 * 1024) -> Iterator[bytes]:
    """The upload in chunks, refusing it (413) as soon as more than ``limit`` bytes have come."""
    declared = getattr(uploaded_file, "size", None)
    if isinstance(declared, int) and declared > limit:
        raise too_large(limit)
    if hasattr(uploaded_file, "seek"):
        uploaded_file.seek(0)
    source = uploaded_file.chunks() if hasattr(uploaded_file, "chunks") else iter(lambda: uploaded_file.read(size), b"")
    seen = 0
    for chunk in source:
        seen += len(chunk)
        if seen > limit:
            raise too_large(limit)
        yield chunk


def sandboxed(response: Any) -> Any:
    """A stored file served so that nothing in it can run in the platform's origin: its type as we detected it
    (``nosniff``), and a CSP sandbox should a browser render it anyway. Every download of an uploaded or generated
    file goes through here."""
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def server_name(extension: str) -> str:
    """A stored file's name: random, never the client's (which is kept, cleaned, only for display)."""
    return f"{secrets.token_hex(16)}.{extension.lstrip('.')}"
