"""Settings shared by every environment.

Every environment read goes through the single ``env`` object below; the per-environment modules
(dev, test, prod) only change defaults, never read the environment themselves.
"""

from __future__ import annotations

from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")


def env_secret(name: str, default: str | None = None) -> str:
    """Read a secret from ``NAME`` or from the file named by ``NAME_FILE`` (docker/k8s secrets)."""
    file_path = env.str(f"{name}_FILE", default="")
    if file_path:
        try:
            return Path(file_path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"{name}_FILE points at {file_path!r}, which cannot be read: {exc}"
            ) from exc
    if default is None:
        value = env.str(name, default="")
        if not value:
            raise ImproperlyConfigured(f"The environment variable {name} is required but not set.")
        return value
    return env.str(name, default=default)


DEBUG = env.bool("DEBUG", default=False)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "axes",
    "csp",
    "django_htmx",
    "phonenumber_field",
    "solo",
    "llamenos",
    "volunteers",
    "telephony",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "llamenos.middleware.PermissionsPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "llamenos.middleware.HotlineTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # axes must come last so it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "llamenos.urls"
WSGI_APPLICATION = "llamenos.wsgi.application"
ASGI_APPLICATION = "llamenos.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "llamenos.context_processors.hotline",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}


def database_pooled(database: dict, *, max_size: int) -> dict:
    """PostgreSQL connections from Django's built-in psycopg pool, shared by a process's threads:
    a request takes an open connection and gives it back when it ends, and the process never
    holds more than ``max_size``. Django's health check (CONN_HEALTH_CHECKS) checks each one the
    pool hands out."""
    if max_size <= 0 or "postgresql" not in database["ENGINE"]:
        return database
    database["CONN_MAX_AGE"] = 0  # Django: pooled connections go back to the pool, never persist
    database.setdefault("OPTIONS", {})["pool"] = {"min_size": 2, "max_size": max_size, "timeout": 10}
    return database


DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The settings rows (hotline, call flow) are django-solo singletons kept in Django's cache (Redis
# outside the demo, so every process sees an admin's change at once) and renewed on save.
SOLO_CACHE = "default"
SOLO_CACHE_PREFIX = "llamenos:solo"

REDIS_URL = env.str("REDIS_URL", default="")

AUTH_USER_MODEL = "llamenos.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# Sessions: a volunteer's laptop left open at a protest should not stay logged in for weeks.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 60 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# django-axes: lock an account+IP pair out after repeated failures.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = env.int("PROXY_COUNT", default=0)

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # Browser libraries come from npm (package.json, `npm ci --ignore-scripts`); never a CDN.
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
    ("vendor/twilio", BASE_DIR / "node_modules" / "@twilio" / "voice-sdk" / "dist"),
    ("vendor/plivo", BASE_DIR / "node_modules" / "plivo-browser-sdk" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
MEDIA_URL = "/media/"
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Secrets at rest and number privacy (see llamenos/crypto.py).
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
NUMBER_HASH_PEPPER = env.str("NUMBER_HASH_PEPPER", default="")
# Public URL that the providers call; webhook signatures are checked against it.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
PHONENUMBER_DEFAULT_REGION = env.str("PHONENUMBER_DEFAULT_REGION", default="US")
PHONENUMBER_DEFAULT_FORMAT = "E164"

# Telephony: bootstrap credentials and API base URLs (the emulator or a proxy can stand in).
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_PHONE_NUMBER = env.str("TWILIO_PHONE_NUMBER", default="")
PLIVO_AUTH_ID = env.str("PLIVO_AUTH_ID", default="")
PLIVO_AUTH_TOKEN = env.str("PLIVO_AUTH_TOKEN", default="")
PLIVO_PHONE_NUMBER = env.str("PLIVO_PHONE_NUMBER", default="")
TWILIO_API_BASE_URL = env.str("TWILIO_API_BASE_URL", default="")
PLIVO_API_BASE_URL = env.str("PLIVO_API_BASE_URL", default="")
PROVIDER_HTTP_TIMEOUT = env.float("PROVIDER_HTTP_TIMEOUT", default=10.0)
# A volunteer who took a call and whose leg ended before any bridge was reported: how long to
# wait for a late bridge notification before the caller, still on hold, waits for someone else.
WINNER_LEFT_GRACE_SECONDS = env.float("WINNER_LEFT_GRACE_SECONDS", default=5.0)
TELEPHONY_EMULATOR_ENABLED = False

# Celery
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TIMEZONE = "UTC"
# `celery -A llamenos beat`: periodic jobs. An unrun sweep is dropped, not piled up behind a busy
# worker: the next minute's does the same work.
CELERY_BEAT_SCHEDULE = {
    "calls-sweep": {"task": "telephony.sweep.calls_sweep", "schedule": 60.0, "options": {"expires": 50}},
}
# Task modules besides each app's tasks.py (which autodiscovery finds): the sweep builds on the
# tasks, so its beat task lives with it rather than in tasks.py.
CELERY_IMPORTS = ("telephony.sweep",)


def redis_services(redis_url: str) -> tuple[dict, dict]:
    """Cache and channel-layer settings for a Redis URL, or the in-process fallbacks without one."""
    if not redis_url:
        return (
            {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
            {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}},
        )
    return (
        {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": redis_url,
            }
        },
        {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {"hosts": [redis_url]},
            }
        },
    )


CACHES, CHANNEL_LAYERS = redis_services(REDIS_URL)

# Security headers that hold everywhere; prod.py adds the HTTPS-only ones.
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "no-referrer"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
PERMISSIONS_POLICY = "microphone=(self), camera=(), geolocation=(), payment=(), usb=()"
CSRF_FAILURE_VIEW = "llamenos.views.errors.csrf_failure"

# The provider browser SDKs open signalling sockets to their own hosts (see reference/libraries.md).
CSP_PROVIDER_CONNECT = [
    "wss://*.twilio.com",
    "https://*.twilio.com",
    "wss://*.plivo.com",
    "https://*.plivo.com",
]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "media-src": [SELF, "blob:", "https://*.twilio.com", "https://*.plivo.com"],
        "connect-src": [SELF, *CSP_PROVIDER_CONNECT],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
