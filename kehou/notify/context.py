"""What every signed-in page needs to follow its account's live events: where the stream is and the number of the
last event already written (the page's stream starts after it, so nothing between rendering and connecting is
lost)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .events import PATH, last_number


def live(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"live_url": PATH, "live_after": last_number(int(user.pk))}
