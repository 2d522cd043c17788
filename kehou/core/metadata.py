"""What ``OPTIONS`` answers on the API (DRF's ``DEFAULT_METADATA_CLASS``)."""

from __future__ import annotations

from typing import Any

from rest_framework.metadata import SimpleMetadata
from rest_framework.request import Request


class KehouMetadata(SimpleMetadata):
    """``OPTIONS``: the allowed methods, and the body fields where the view names a serializer for them. A view
    that reads no body (or builds its answer by hand) has no fields to describe: it is left out, never a 500."""

    def determine_actions(self, request: Request, view: Any) -> dict[str, Any]:
        try:
            return super().determine_actions(request, view)  # type: ignore[no-any-return]
        except (AssertionError, AttributeError, TypeError):
            return {}
