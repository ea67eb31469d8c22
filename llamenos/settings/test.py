"""Test settings: real PostgreSQL and Redis on 127.0.0.1 (overridable by env)."""

from __future__ import annotations

from .base import *  # noqa: F403
from .base import env, redis_services

DEBUG = False
SECRET_KEY = "test-secret-key-not-secret-at-all-0123456789abcdef"  # noqa: S105
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]

DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/llamenos")}

# Each pytest-xdist worker gets its own Redis database so caches, rate limits and channel
# groups of parallel tests never meet.
_worker = env.str("PYTEST_XDIST_WORKER", default="gw0").removeprefix("gw") or "0"
REDIS_URL = env.str("TEST_REDIS_URL", default=f"redis://127.0.0.1:6379/{1 + int(_worker) % 15}")
CACHES, CHANNEL_LAYERS = redis_services(REDIS_URL)
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_ALWAYS_EAGER = True
WINNER_LEFT_GRACE_SECONDS = 0.5

FIELD_ENCRYPTION_KEYS = ["dGVzdC1vbmx5LWZpZWxkLWtleS0wMTIzNDU2Nzg5YWI="]
NUMBER_HASH_PEPPER = "test-pepper"
PUBLIC_BASE_URL = "https://hotline.example.org"

# Argon2 is deliberately slow; tests create many users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}

INSTALLED_APPS = [*INSTALLED_APPS, "tests.support"]  # noqa: F405
