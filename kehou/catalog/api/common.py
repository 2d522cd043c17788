"""What the catalog API modules share: the documented error answers."""

from __future__ import annotations

from drf_spectacular.utils import (
    OpenApiResponse,
)

_ERRORS = {
    400: OpenApiResponse(description="invalid, unknown_field, or a service code (see the message)"),
    404: OpenApiResponse(description="not_found: missing, or outside the caller's scope"),
}
