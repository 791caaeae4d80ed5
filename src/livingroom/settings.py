"""One settings module, driven by environment variables (see docs/operations.md).

Development needs none of them: SQLite under ``var/``, local-memory cache, the database task
queue, an SMS outbox, and keys generated under ``var/`` on first use.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
PACKAGE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("LIVINGROOM_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _dev_secret(filename: str, nbytes: int = 32) -> str:
    """A development secret kept under var/, created on first use. Production sets env vars."""
    path = VAR_DIR / filename
    if not path.exists():
        path.write_text(secrets.token_urlsafe(nbytes))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or _dev_secret("secret_key", 50)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "ninja",
    "livingroom.core",
    "livingroom.places",
    "livingroom.people",
    "livingroom.notices",
    "livingroom.booking",
    "livingroom.programs",
    "livingroom.points",
    "livingroom.meals",
    "livingroom.volunteering",
    "livingroom.voice",
    "livingroom.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "livingroom.core.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "livingroom.core.middleware.RequestHygieneMiddleware",
    "livingroom.people.middleware.SessionLimitsMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "livingroom.core.middleware.DomainErrorMiddleware",
]

ROOT_URLCONF = "livingroom.urls"
WSGI_APPLICATION = "livingroom.wsgi.application"
ASGI_APPLICATION = "livingroom.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "livingroom.web.context_processors.shell",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------------------------
# SQLite by default; PostgreSQL when DATABASE_URL is set. SQLite write transactions start with
# BEGIN IMMEDIATE so that concurrent writers queue instead of failing half-way (design.md).
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "livingroom.sqlite3"),
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, rate limits and background work -------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    INSTALLED_APPS += ["django_rq"]
    RQ_QUEUES = {"default": {"URL": REDIS_URL}}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "livingroom"}
    }
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
if env_bool("LIVINGROOM_TASKS_IMMEDIATE", False):
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

# --- Users and sign-in ----------------------------------------------------------------------
AUTH_USER_MODEL = "people.User"
LOGIN_URL = "people:login"
STAFF_LOGIN_URL = "people:console-login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Every browser session (residents and staff) ends after 30 idle minutes and 12 hours after
# sign-in (people.middleware.SessionLimitsMiddleware); the cookie never outlives the latter.
LIVINGROOM_SESSION_IDLE_SECONDS = env_int("LIVINGROOM_SESSION_IDLE_SECONDS", 30 * 60)
LIVINGROOM_SESSION_MAX_SECONDS = env_int("LIVINGROOM_SESSION_MAX_SECONDS", 12 * 3600)
SESSION_COOKIE_AGE = LIVINGROOM_SESSION_MAX_SECONDS
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# --- Security headers (every profile; settings_production adds HSTS, HTTPS and secure cookies) --
# Content-Security-Policy (django-csp): scripts only from our own static files, no inline scripts
# or event-handler attributes (pages use data attributes wired by web/app.js); inline style
# attributes are allowed, they cannot run code. Nothing is loaded from another origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files: vendored from the npm registry by scripts/copy_vendor.py, never a CDN -----
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": VAR_DIR / "media"},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- Request limits ---------------------------------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("LIVINGROOM_MAX_BODY_BYTES", 1024 * 1024))

# --- The platform's own settings ------------------------------------------------------------
# PII encryption key: 32 random bytes, urlsafe-base64. Production sets LIVINGROOM_PII_KEY (and may
# keep old keys in LIVINGROOM_PII_OLD_KEYS, comma separated, for rotation).
LIVINGROOM_PII_KEY = os.environ.get("LIVINGROOM_PII_KEY") or _dev_secret("pii_key", 32)
LIVINGROOM_PII_OLD_KEYS = env_list("LIVINGROOM_PII_OLD_KEYS", "")
LIVINGROOM_SMS_BACKEND = os.environ.get("LIVINGROOM_SMS_BACKEND", "livingroom.people.sms.OutboxBackend")
LIVINGROOM_SMS_CODE_TTL = 5 * 60
LIVINGROOM_SMS_CODE_MAX_TRIES = 5
LIVINGROOM_SMS_RESEND_SECONDS = 60
LIVINGROOM_SMS_PER_PHONE_PER_DAY = 10
LIVINGROOM_SMS_PER_IP_PER_HOUR = 30
LIVINGROOM_SMS_FAILURES_PER_IP_PER_HOUR = env_int("LIVINGROOM_SMS_FAILURES_PER_IP_PER_HOUR", 20)
LIVINGROOM_STAFF_MAX_FAILURES = 5
LIVINGROOM_STAFF_LOCKOUT_SECONDS = 30 * 60
LIVINGROOM_STAFF_FAILURES_PER_IP_PER_HOUR = env_int("LIVINGROOM_STAFF_FAILURES_PER_IP_PER_HOUR", 20)
LIVINGROOM_API_TOKEN_TTL = 30 * 24 * 3600
LIVINGROOM_STAFF_API_TOKEN_TTL = 8 * 3600
LIVINGROOM_PASS_TTL = 60
LIVINGROOM_DEVICE_SIGNATURE_WINDOW = 5 * 60
# Bookings: this many no-shows within the period suspend booking for this many days.
LIVINGROOM_NO_SHOW_LIMIT = env_int("LIVINGROOM_NO_SHOW_LIMIT", 3)
LIVINGROOM_NO_SHOW_PERIOD_DAYS = env_int("LIVINGROOM_NO_SHOW_PERIOD_DAYS", 30)
LIVINGROOM_NO_SHOW_SUSPENSION_DAYS = env_int("LIVINGROOM_NO_SHOW_SUSPENSION_DAYS", 7)
LIVINGROOM_IDEMPOTENCY_TTL = 24 * 3600
# Courses: a public-welfare course charges at most this share of the market price (percent).
LIVINGROOM_PUBLIC_WELFARE_SHARE_PCT = env_int("LIVINGROOM_PUBLIC_WELFARE_SHARE_PCT", 20)
LIVINGROOM_PAYMENT_ADAPTERS = env_list(
    "LIVINGROOM_PAYMENT_ADAPTERS",
    "livingroom.programs.payments.CashAtDesk,livingroom.programs.payments.ExternalReference",
)
# Volunteering and points
LIVINGROOM_VOLUNTEER_STAR_HOURS = [
    int(h) for h in env_list("LIVINGROOM_VOLUNTEER_STAR_HOURS", "100,300,600,1000")
]
LIVINGROOM_VOLUNTEER_CONSENT_VERSION = "2026-11"
LIVINGROOM_CERTIFICATE_ISSUER = os.environ.get("LIVINGROOM_CERTIFICATE_ISSUER", "百姓客厅志愿服务总队")
LIVINGROOM_CERTIFICATE_SIGNER = os.environ.get("LIVINGROOM_CERTIFICATE_SIGNER", "（示例）陈立新")
# Where the site is reached from outside (printed on certificates for their verification link).
LIVINGROOM_PUBLIC_URL = os.environ.get("LIVINGROOM_PUBLIC_URL", "http://127.0.0.1:8000")
LIVINGROOM_PDF_FONT = os.environ.get("LIVINGROOM_PDF_FONT", "")
LIVINGROOM_POINTS_VALID_DAYS = env_int("LIVINGROOM_POINTS_VALID_DAYS", 0)  # 0: points never expire
LIVINGROOM_VENDING_OFFLINE_HOURS = env_int("LIVINGROOM_VENDING_OFFLINE_HOURS", 24)
# Residents' voice: a resident may reopen a resolved request within these days; unrated resolved
# requests close after them. A low rating opens a follow-up due within these working days.
LIVINGROOM_VOICE_REOPEN_DAYS = env_int("LIVINGROOM_VOICE_REOPEN_DAYS", 7)
LIVINGROOM_VOICE_FOLLOW_UP_DAYS = env_int("LIVINGROOM_VOICE_FOLLOW_UP_DAYS", 15)
# An overdue request is escalated to the sub-district, and this many working days later to the district.
LIVINGROOM_VOICE_ESCALATE_DISTRICT_DAYS = env_int("LIVINGROOM_VOICE_ESCALATE_DISTRICT_DAYS", 3)
LIVINGROOM_DEMO_HINTS = env_bool("LIVINGROOM_DEMO_HINTS", DEBUG)
# Audit events are kept this many days (at least 184: a system check refuses less, and on
# PostgreSQL a trigger refuses to delete younger events); `livingroom audit_prune` removes older ones.
LIVINGROOM_AUDIT_RETENTION_DAYS = env_int("LIVINGROOM_AUDIT_RETENTION_DAYS", 365)

# --- Logging: every handler passes through the PII mask --------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_pii": {"()": "livingroom.core.logging.MaskPiiFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["mask_pii"], "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LIVINGROOM_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # fpdf2 subsets fonts with fontTools, which reports every table at INFO.
        "fontTools": {"level": "WARNING"},
    },
}
