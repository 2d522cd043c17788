"""Helpers the enrolment API modules share."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request


def _status_filter(request: Request, choices: Any) -> str:
    """A status filter: one of the choices, or no filter."""
    value = request.query_params.get("status", "").strip()
    return value if value in choices.values else ""
