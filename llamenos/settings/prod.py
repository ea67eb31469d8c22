"""Production: everything comes from the environment; a missing required value stops start-up."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import database_pooled, env, env_secret, redis_services

REQUIRED = [
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "FIELD_ENCRYPTION_KEYS",
    "NUMBER_HASH_PEPPER",
    "PUBLIC_BASE_URL",
    "ALLOWED_HOSTS",
]
_missing = [
    name for name in REQUIRED if not (env.str(name, default="") or env.str(f"{name}_FILE", default=""))
]
if _missing:
    raise ImproperlyConfigured(
        "Llámenos cannot start in production: required environment variable(s) not set: "
        + ", ".join(_missing)
        + ". See .env.example."
    )

DEBUG = False
SECRET_KEY = env_secret("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
DATABASES = {"default": env.db_url_config(env_secret("DATABASE_URL"))}
# Only without the pool (DB_POOL_MAX_SIZE=0): each worker thread then keeps a connection of its
# own for this long (0: a new connection for every request).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
# Django checks a connection before reusing it (with the pool: before the pool hands it out).
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Per process: size it so the processes' pools together stay under PostgreSQL's max_connections
# (deploy/README.md), and at least the process's threads (gunicorn --threads).
DB_POOL_MAX_SIZE = env.int("DB_POOL_MAX_SIZE", default=16)
database_pooled(DATABASES["default"], max_size=DB_POOL_MAX_SIZE)
REDIS_URL = env_secret("REDIS_URL")
CACHES, CHANNEL_LAYERS = redis_services(REDIS_URL)
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = False
FIELD_ENCRYPTION_KEYS = [key.strip() for key in env_secret("FIELD_ENCRYPTION_KEYS").split(",") if key.strip()]
NUMBER_HASH_PEPPER = env_secret("NUMBER_HASH_PEPPER")
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL").rstrip("/")
if not PUBLIC_BASE_URL.startswith("https://"):
    raise ImproperlyConfigured("PUBLIC_BASE_URL must be an https:// URL in production.")

TWILIO_AUTH_TOKEN = env_secret("TWILIO_AUTH_TOKEN", default="")
PLIVO_AUTH_TOKEN = env_secret("PLIVO_AUTH_TOKEN", default="")

# The emulator is a test and demo tool; production can never enable it.
TELEPHONY_EMULATOR_ENABLED = False

# HTTPS everywhere. The TLS proxy in front must set X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=63072000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
if not SECURE_HSTS_PRELOAD:
    # Preloading is a domain-wide, hard-to-undo commitment that only the operator can make
    # (every subdomain must serve HTTPS forever), so it is opt-in and its warning is silenced.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = [PUBLIC_BASE_URL]

STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
