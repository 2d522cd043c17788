"""Production settings: everything hardened; refuses to start without real secrets."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env_bool

DEBUG = False
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("kehou-embedded"):
    raise ImproperlyConfigured("SECRET_KEY must be set to a random value of at least 50 characters.")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = False

# PostgreSQL under ASGI: Django runs each request's synchronous code in a thread of its own (asgiref's
# ThreadSensitiveContext), so a persistent connection (CONN_MAX_AGE) is never reused by the next request and is
# left open by a thread that is gone: a rush opens one connection per request and runs out of connections. A
# psycopg pool per server process instead (needs the psycopg-pool package): DB_POOL_MAX_SIZE connections at most,
# a request waits up to DB_POOL_TIMEOUT seconds for one. DB_POOL_MAX_SIZE=0 keeps the plain connections.
DB_POOL_MAX_SIZE = int(os.environ.get("DB_POOL_MAX_SIZE", "0"))
if DB_POOL_MAX_SIZE and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False  # noqa: F405
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {  # noqa: F405
        "min_size": min(4, DB_POOL_MAX_SIZE),
        "max_size": DB_POOL_MAX_SIZE,
        "timeout": float(os.environ.get("DB_POOL_TIMEOUT", "30")),
    }

# Django logs every 4xx answer as a warning ("Conflict: /api/v1/enrolments/"): in a selection rush that is a log line
# per sold-out refusal, thousands a second, written by the server that should be answering. Refusals are answers,
# not faults; server errors (5xx) are still logged. DJANGO_REQUEST_LOG_LEVEL=WARNING brings the 4xx lines back.
LOGGING["loggers"] = {  # noqa: F405
    **LOGGING["loggers"],  # type: ignore[dict-item]  # noqa: F405
    "django.request": {"level": os.environ.get("DJANGO_REQUEST_LOG_LEVEL", "ERROR")},
}

# At most this many requests of one server process run in Django at once; the others wait in the event loop
# (kehou.core.asgi_limit), instead of a thread each queueing for the database. 0: no bound.
KEHOU_MAX_CONCURRENT_REQUESTS = int(os.environ.get("KEHOU_MAX_CONCURRENT_REQUESTS", "16"))
