"""The only place that reads the wall clock. Services take ``now`` as an argument; views pass ``clock.now()``."""

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()
