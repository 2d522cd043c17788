"""What the teaching services share."""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise

from kehou.core.error_codes import ErrorCode
from kehou.core.errors import Forbidden


def require_teacher(actor: Any, message: str | Promise) -> Any:
    """The actor's teacher profile, or 403 ``not_teacher`` with ``message`` (what only a teacher may do)."""
    profile = getattr(actor, "teacher_profile", None) if getattr(actor, "is_authenticated", False) else None
    if profile is None:
        raise Forbidden(str(message), code=ErrorCode.NOT_TEACHER)
    return profile
