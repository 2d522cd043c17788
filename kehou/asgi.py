import os
from typing import Any

from django.conf import settings
from django.core.asgi import get_asgi_application

from kehou.core.asgi_limit import ConcurrencyLimit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehou.settings.base")
django_application = get_asgi_application()

from kehou.notify.events import PATH as EVENTS_PATH  # noqa: E402 (needs the apps loaded)
from kehou.notify.events import EventStreamApp  # noqa: E402

events_application = EventStreamApp()
limited = ConcurrencyLimit(django_application, getattr(settings, "KEHOU_MAX_CONCURRENT_REQUESTS", 0))


async def application(scope: Any, receive: Any, send: Any) -> None:
    """The live event stream is served in front of Django (a coroutine per open stream, outside the request bound);
    everything else is Django."""
    if scope["type"] == "http" and scope.get("path") == EVENTS_PATH:
        await events_application(scope, receive, send)
        return
    await limited(scope, receive, send)
