"""Base settings: every value comes from the environment, with safe defaults for the embedded mode.

Embedded mode (no DATABASE_URL) runs on SQLite under var/ with WAL, IMMEDIATE transactions and a busy
timeout, an in-process cache and the database task backend. Setting DATABASE_URL / REDIS_URL switches
to PostgreSQL / Redis without code changes.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("KEHOU_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# The embedded default key is only for the local demo; production.py refuses to start without a real one.
SECRET_KEY = os.environ.get("SECRET_KEY", "kehou-embedded-demo-key-not-for-production-use-0123456789")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks",
    "django_tasks_db",
    "kehou.core",
    "kehou.orgs",
    "kehou.people",
    "kehou.catalog",
    "kehou.enrolment",
    "kehou.ledger",
    "kehou.payments",
    "kehou.attendance",
    "kehou.payroll",
    "kehou.teaching",
    "kehou.supervision",
    "kehou.notify",
    "kehou.portal",
    "kehou.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "kehou.core.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "kehou.portal.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "kehou.core.middleware.RequestContextMiddleware",
    "kehou.core.middleware.ApiErrorMiddleware",
    "kehou.teaching.middleware.TeachingOnlyMiddleware",
]

ROOT_URLCONF = "kehou.urls"
ASGI_APPLICATION = "kehou.asgi.application"
WSGI_APPLICATION = "kehou.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "kehou" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kehou.portal.context.navigation",
                "kehou.notify.context.live",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0")),  # under ASGI a kept connection leaks: 0
            conn_health_checks=True,
        )
    }
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(VAR_DIR / "kehou.sqlite3")),
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                # WAL is a property of the database file: kehou.core.sqlite switches it on once, because asking
                # for it on every new connection fails with "database is locked" while another one writes.
                "init_command": "PRAGMA busy_timeout=20000;PRAGMA synchronous=NORMAL;PRAGMA foreign_keys=ON;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and real-time fan-out ----------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "kehou",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "kehou"}}

# --- Background tasks (Django Tasks API backport, database backend) -----------------------------
TASKS = {"default": {"BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend")}}

# --- Authentication -----------------------------------------------------------------------------
AUTH_USER_MODEL = "people.User"
AUTHENTICATION_BACKENDS = ["kehou.people.auth.PhoneOrUsernameBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "portal:login"
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(8 * 3600)))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

KEHOU_LOGIN_MAX_FAILURES = int(os.environ.get("KEHOU_LOGIN_MAX_FAILURES", "5"))
KEHOU_LOGIN_LOCKOUT_SECONDS = int(os.environ.get("KEHOU_LOGIN_LOCKOUT_SECONDS", "900"))
# Throttles in front of every login (password, API token, admin, SMS code) and every SMS send, counted in the cache
# per client address (REMOTE_ADDR; an IPv6 /64) and overall: "N/second|minute|hour|day", comma-separated; "" = none.
KEHOU_LOGIN_RATES_PER_ADDRESS = os.environ.get("KEHOU_LOGIN_RATES_PER_ADDRESS", "30/minute,300/hour")
KEHOU_LOGIN_FAILURE_RATES_PER_ADDRESS = os.environ.get("KEHOU_LOGIN_FAILURE_RATES_PER_ADDRESS", "10/minute,20/hour")
KEHOU_LOGIN_RATES_OVERALL = os.environ.get("KEHOU_LOGIN_RATES_OVERALL", "3000/minute")
KEHOU_SMS_SEND_RATES_PER_ADDRESS = os.environ.get("KEHOU_SMS_SEND_RATES_PER_ADDRESS", "5/minute,20/hour")
KEHOU_SMS_SEND_RATES_OVERALL = os.environ.get("KEHOU_SMS_SEND_RATES_OVERALL", "100/minute,2000/hour")
KEHOU_TOKEN_TTL_SECONDS = int(os.environ.get("KEHOU_TOKEN_TTL_SECONDS", str(7 * 24 * 3600)))
KEHOU_SMS_CODE_TTL_SECONDS = int(os.environ.get("KEHOU_SMS_CODE_TTL_SECONDS", "300"))
KEHOU_SMS_BACKEND = os.environ.get("KEHOU_SMS_BACKEND", "kehou.notify.sms.LogSmsBackend")
KEHOU_LOTTERY_HOLD_HOURS = int(os.environ.get("KEHOU_LOTTERY_HOLD_HOURS", "24"))
# Payment channels offered to parents, in this order. Real channels read their keys from files (docs/payments.md).
KEHOU_PAYMENT_CHANNELS = [
    c.strip() for c in os.environ.get("KEHOU_PAYMENT_CHANNELS", "simulator").split(",") if c.strip()
]

# Rejected payment notifications stored in full per minute, from one address and overall; past that they are counted
# in a truncated row. One alert per channel and reason per KEHOU_NOTIFY_ALERT_SECONDS, counting the rest.
KEHOU_NOTIFY_REJECTED_STORED_PER_ADDRESS = int(os.environ.get("KEHOU_NOTIFY_REJECTED_STORED_PER_ADDRESS", "20"))
KEHOU_NOTIFY_REJECTED_STORED_OVERALL = int(os.environ.get("KEHOU_NOTIFY_REJECTED_STORED_OVERALL", "200"))
KEHOU_NOTIFY_ALERT_SECONDS = int(os.environ.get("KEHOU_NOTIFY_ALERT_SECONDS", "900"))

# The teacher's day (kehou.attendance). Check-in counts as on time from OPENS_BEFORE minutes before a session's start
# to ON_TIME_AFTER minutes after it, late until the session ends; after that it is missed (a make-up, 补卡, with a
# reason the school approves, at most MAKEUPS_PER_MONTH per teacher and calendar month). A fix less precise than
# MAX_ACCURACY_M is refused. Raw coordinates are emptied after COORDINATE_RETENTION_DAYS (outcome and distance stay).
# Roll calls close ROLL_CALL_CLOSE_MINUTES after the session ends: what is still unmarked stays 未点名.
KEHOU_ATTENDANCE = {
    "OPENS_BEFORE_MINUTES": int(os.environ.get("KEHOU_CHECKIN_OPENS_BEFORE_MINUTES", "30")),
    "ON_TIME_AFTER_MINUTES": int(os.environ.get("KEHOU_CHECKIN_ON_TIME_AFTER_MINUTES", "15")),
    "MAX_ACCURACY_M": float(os.environ.get("KEHOU_CHECKIN_MAX_ACCURACY_M", "2000")),
    "MAKEUPS_PER_MONTH": int(os.environ.get("KEHOU_CHECKIN_MAKEUPS_PER_MONTH", "3")),
    "COORDINATE_RETENTION_DAYS": int(os.environ.get("KEHOU_CHECKIN_COORDINATE_RETENTION_DAYS", "30")),
    "ROLL_CALL_CLOSE_MINUTES": int(os.environ.get("KEHOU_ROLL_CALL_CLOSE_MINUTES", "120")),
    "COMMENT_MAX_CHARS": int(os.environ.get("KEHOU_COMMENT_MAX_CHARS", "500")),
    # The follow-up queue (kehou.attendance.services.followups): a session without a check-in this long after its
    # start is followed up; an open follow-up nobody acts on escalates teacher → school → operator after this long
    # at each level; the scan looks back this many days.
    "NO_CHECK_IN_AFTER_MINUTES": int(os.environ.get("KEHOU_NO_CHECK_IN_AFTER_MINUTES", "10")),
    "ESCALATE_AFTER_MINUTES": int(os.environ.get("KEHOU_FOLLOW_UP_ESCALATE_AFTER_MINUTES", "15")),
    "FOLLOW_UP_DAYS": int(os.environ.get("KEHOU_FOLLOW_UP_DAYS", "2")),
}

# Teachers' class-hour pay (kehou.payroll): lines are computed for sessions of the last COMPUTE_DAYS days (the task
# worker runs it every COMPUTE_EVERY_SECONDS); payouts go through PAYOUT_CHANNEL ("simulator" for the demo,
# "wechat" for WeChat Pay's merchant transfer) and one still with the channel is asked about after
# QUERY_AFTER_SECONDS; an unknown answer is sent again (same bill number) up to SEND_ATTEMPTS times.
KEHOU_PAYROLL: dict[str, int | str] = {
    # A pay period spans this many months (1: monthly; 3: quarterly), named by its first month (YYYY-MM).
    "PERIOD_MONTHS": int(os.environ.get("KEHOU_PAY_PERIOD_MONTHS", "1")),
    "COMPUTE_DAYS": int(os.environ.get("KEHOU_PAY_COMPUTE_DAYS", "40")),
    "COMPUTE_EVERY_SECONDS": int(os.environ.get("KEHOU_PAY_COMPUTE_EVERY_SECONDS", "300")),
    "PAYOUT_CHANNEL": os.environ.get("KEHOU_PAYOUT_CHANNEL", "simulator"),
    "QUERY_AFTER_SECONDS": int(os.environ.get("KEHOU_PAYOUT_QUERY_AFTER_SECONDS", "120")),
    "SEND_ATTEMPTS": int(os.environ.get("KEHOU_PAYOUT_SEND_ATTEMPTS", "10")),
    # Where a teacher's openid comes from when they bind their payout account: "wechat" (web authorisation under
    # KEHOU_WECHAT_APPID / KEHOU_WECHAT_APP_SECRET) or "simulator" (the demo's stand-in page).
    "OAUTH": os.environ.get("KEHOU_PAYEE_OAUTH", "simulator"),
}

# The teaching platform (kehou.teaching): a classroom screen's QR login code lives QR_SECONDS; starts are limited per
# address and overall, polls with a wrong secret per address (a login expires after WRONG_SECRETS_MAX of them), scans
# per teacher; the screen's session (teaching only) lasts SCREEN_SESSION_HOURS.
KEHOU_TEACHING: dict[str, int | str] = {
    "QR_SECONDS": int(os.environ.get("KEHOU_QR_SECONDS", "180")),
    "START_RATE": os.environ.get("KEHOU_QR_START_RATE", "20/minute,200/hour"),
    "START_RATE_ALL": os.environ.get("KEHOU_QR_START_RATE_ALL", "600/minute"),
    "WRONG_SECRET_RATE": os.environ.get("KEHOU_QR_WRONG_SECRET_RATE", "20/minute"),
    "WRONG_SECRETS_MAX": 5,
    "SCAN_RATE": os.environ.get("KEHOU_QR_SCAN_RATE", "30/minute"),
    "SCREEN_SESSION_HOURS": 4,
    # Courseware: documents, decks and images up to DOC_MAX_BYTES, sound and video up to MEDIA_MAX_BYTES; an Office
    # file unpacks to at most UNPACKED_MAX_BYTES, no XML part over PART_MAX_BYTES (a zip bomb is refused); a
    # conversion has CONVERT_SECONDS and CONVERT_MEMORY_MB, makes at most MAX_PAGES pages, each PAGE_WIDTH pixels
    # wide, PAGES_MAX_BYTES in all. SOFFICE: LibreOffice's program (found on PATH when empty).
    "DOC_MAX_BYTES": int(os.environ.get("KEHOU_COURSEWARE_DOC_MAX_BYTES", str(50 * 1024 * 1024))),
    "MEDIA_MAX_BYTES": int(os.environ.get("KEHOU_COURSEWARE_MEDIA_MAX_BYTES", str(200 * 1024 * 1024))),
    "UNPACKED_MAX_BYTES": 100 * 1024 * 1024,
    "PART_MAX_BYTES": 20 * 1024 * 1024,  # one XML part of an Office file (the text of a deck or a document)
    "PAGES_MAX_BYTES": 300 * 1024 * 1024,  # all of a conversion's pages (or 20 times the file, if more)
    "CONVERT_MEMORY_MB": 2048,
    "CONVERT_SECONDS": int(os.environ.get("KEHOU_CONVERT_SECONDS", "120")),
    "MAX_PAGES": 300,
    "PAGE_WIDTH": 1600,
    "SOFFICE": os.environ.get("KEHOU_SOFFICE", ""),
}

# The live event channel (kehou.notify.events): a stream sends a heartbeat comment after HEARTBEAT_SECONDS of
# silence, tells the browser to reconnect after RETRY_MS, and replays at most REPLAY_MAX events per read; each server
# process polls the event table every POLL_SECONDS for events written by other processes (Redis wakes streams at once
# when REDIS_URL is set). Events are kept RETENTION_DAYS days for streams that resume with Last-Event-ID.
KEHOU_EVENTS = {
    "HEARTBEAT_SECONDS": float(os.environ.get("KEHOU_EVENTS_HEARTBEAT_SECONDS", "15")),
    "RETRY_MS": int(os.environ.get("KEHOU_EVENTS_RETRY_MS", "3000")),
    "REPLAY_MAX": int(os.environ.get("KEHOU_EVENTS_REPLAY_MAX", "200")),
    "POLL_SECONDS": float(os.environ.get("KEHOU_EVENTS_POLL_SECONDS", "1")),
    "RETENTION_DAYS": int(os.environ.get("KEHOU_EVENTS_RETENTION_DAYS", "7")),
    # a stream ends after this and the client reconnects, so its credentials are checked again
    "MAX_SECONDS": float(os.environ.get("KEHOU_EVENTS_MAX_SECONDS", "1800")),
}
# What people are told (kehou.notify): an important notice (an absence without leave) still unread after
# SMS_AFTER_MINUTES goes out by SMS; the comments of one session reach a guardian's phone as one push, sent
# COMMENT_PUSH_DELAY_SECONDS after the first (the later ones join it). The app-push adapter is KEHOU_PUSH_BACKEND.
KEHOU_NOTIFY = {
    "SMS_AFTER_MINUTES": int(os.environ.get("KEHOU_NOTIFY_SMS_AFTER_MINUTES", "30")),
    "COMMENT_PUSH_DELAY_SECONDS": int(os.environ.get("KEHOU_NOTIFY_COMMENT_PUSH_DELAY_SECONDS", "60")),
    # something told about a moment longer ago than this (a replayed history) is not pushed to phones
    "PUSH_MAX_AGE_MINUTES": int(os.environ.get("KEHOU_NOTIFY_PUSH_MAX_AGE_MINUTES", "60")),
}
KEHOU_PUSH_BACKEND = os.environ.get("KEHOU_PUSH_BACKEND", "kehou.notify.push.LogPushBackend")
# kehou.notify.push.JPushBackend (极光推送 REST v3): the app's key and master secret
KEHOU_JPUSH_URL = os.environ.get("KEHOU_JPUSH_URL", "https://api.jpush.cn/v3/push")
KEHOU_JPUSH_APP_KEY = os.environ.get("KEHOU_JPUSH_APP_KEY", "")
KEHOU_JPUSH_MASTER_SECRET = os.environ.get("KEHOU_JPUSH_MASTER_SECRET", "")
KEHOU_JPUSH_APNS_PRODUCTION = os.environ.get("KEHOU_JPUSH_APNS_PRODUCTION", "") == "1"

# --- Request limits ----------------------------------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DATA_UPLOAD_MAX_MEMORY_SIZE", str(1024 * 1024)))
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
KEHOU_ROSTER_MAX_BYTES = int(os.environ.get("KEHOU_ROSTER_MAX_BYTES", str(8 * 1024 * 1024)))
KEHOU_ROSTER_MAX_ROWS = int(os.environ.get("KEHOU_ROSTER_MAX_ROWS", "20000"))

# --- Internationalisation ---------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "kehou" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files ------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "kehou" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": VAR_DIR / "media"}},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# --- API ---------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "kehou.people.api_auth.BearerTokenAuthentication",
        "kehou.people.api_auth.CsrfSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "kehou.core.pagination.KehouPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "kehou.core.openapi.KehouAutoSchema",
    "DEFAULT_METADATA_CLASS": "kehou.core.metadata.KehouMetadata",
    "EXCEPTION_HANDLER": "kehou.core.errors.api_exception_handler",
    "DEFAULT_FILTER_BACKENDS": [],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Kehou API",
    "DESCRIPTION": "After-school services platform (课后服务平台). All lists are scoped to the caller.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # /api/schema/ is built once per process and language, not at every request (kehou/core/openapi.py).
    "DEFAULT_GENERATOR_CLASS": "kehou.core.openapi.CachedSchemaGenerator",
    "APPEND_COMPONENTS": {
        "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
    },
    "SECURITY": [{"bearerAuth": []}],
    "ENUM_NAME_OVERRIDES": {
        "RegionKindEnum": "kehou.orgs.models.Region.Kind",
        "TeacherKindEnum": "kehou.people.models.TeacherProfile.Kind",
        # Libraries and review: several models have a "kind", "level" or "status" of their own.
        "SubmissionKindEnum": "kehou.catalog.models.Submission.Kind",
        "SubmissionStatusEnum": "kehou.catalog.models.Submission.Status",
        "PanelStatusEnum": "kehou.catalog.models.Panel.Status",
        "PanelMemberStatusEnum": "kehou.catalog.models.PanelMember.Status",
        "LibraryEntryLevelEnum": "kehou.catalog.models.LibraryEntry.Level",
        "LibraryEntryStatusEnum": "kehou.catalog.models.LibraryEntry.Status",
        "FilingStatusEnum": "kehou.catalog.models.Filing.Status",
        # The teacher's day: a check-in's outcome and a session's state are not the others of those names.
        "CheckInOutcomeEnum": "kehou.attendance.models.CheckIn.Outcome",
        "SessionStateEnum": "kehou.attendance.models.SESSION_STATES",
        "SeatStateEnum": "kehou.catalog.selectors.SEAT_STATES",
        "FollowUpKindEnum": "kehou.attendance.models.FollowUp.Kind",
        "FollowUpLevelEnum": "kehou.attendance.models.FollowUp.Level",
        "ScreenLoginStatusEnum": "kehou.teaching.models.ScreenLogin.Status",
    },
}

# --- Logging -----------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
