"""Test settings: fast hashing, in-process tasks, no network."""

from .base import *  # noqa: F403
from .base import DATABASES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "kehou-test"}}
KEHOU_SMS_BACKEND = "kehou.notify.sms.MemorySmsBackend"
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["TEST"] = {"NAME": ""}  # in-memory
KEHOU_PUSH_BACKEND = "kehou.notify.push.MemoryPushBackend"
