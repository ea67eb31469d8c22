"""Benchmark settings: production-like (DEBUG off, persistent DB connections, a real Celery
worker on Redis) on the bench's own PostgreSQL database and Redis db.

The harness sets the BENCH_* variables for the server and worker it starts: the server's own
loopback URL (signatures are checked against it) and the carrier emulator's REST base URL.
"""

from __future__ import annotations

from llamenos.settings.base import *  # noqa: F403
from llamenos.settings.base import database_pooled, env, redis_services

DEBUG = False
SECRET_KEY = "bench-secret-key-not-secret-0123456789abcdef-0123456789"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

DATABASES = {
    "default": env.db("BENCH_DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/llamenos_bench")
}
# As prod.py: a psycopg pool per process (BENCH_DB_POOL_MAX_SIZE=0 turns it off, and then
# BENCH_CONN_MAX_AGE applies; with many threads anything but 0 piles connections up).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("BENCH_CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
database_pooled(DATABASES["default"], max_size=env.int("BENCH_DB_POOL_MAX_SIZE", default=16))

REDIS_URL = env.str("BENCH_REDIS_URL", default="redis://127.0.0.1:6379/12")
CACHES, CHANNEL_LAYERS = redis_services(REDIS_URL)
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_ALWAYS_EAGER = False

FIELD_ENCRYPTION_KEYS = ["YmVuY2gtb25seS1maWVsZC1rZXktMDEyMzQ1Njc4OWE="]
NUMBER_HASH_PEPPER = "bench-pepper"
PUBLIC_BASE_URL = env.str("BENCH_PUBLIC_BASE_URL", default="http://127.0.0.1:8765").rstrip("/")
TWILIO_API_BASE_URL = env.str("BENCH_CARRIER_URL", default="")
PLIVO_API_BASE_URL = TWILIO_API_BASE_URL

# The production URLconf plus the bare baseline view; never mounted outside the bench.
ROOT_URLCONF = "bench.urls"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
