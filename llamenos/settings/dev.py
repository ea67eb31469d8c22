"""Zero-setup local run: SQLite, in-process channel layer and Celery, the carrier emulator.

Nothing here is safe for production; prod.py refuses to start without real secrets.
"""

from __future__ import annotations

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-secret-key-never-use-in-production-0123")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])

# Fixed dev-only key and pepper so demo data survives restarts. Never reuse them anywhere else.
FIELD_ENCRYPTION_KEYS = env.list(
    "FIELD_ENCRYPTION_KEYS", default=["ZGV2LW9ubHktZmllbGQta2V5LW5vdC1mb3ItcHJvZCE="]
)
NUMBER_HASH_PEPPER = env.str("NUMBER_HASH_PEPPER", default="dev-only-number-pepper")

CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)

# The demo's SQLite file is written from several threads at once (webhooks, eager tasks, the
# emulator's callbacks). A transaction that reads first and writes later fails at once with
# "database is locked" when another holds the write lock; IMMEDIATE ones wait for it instead.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"].setdefault("OPTIONS", {}).update(  # noqa: F405
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )

# `make run HOST=… PORT=…` says where it serves (DEV_SERVER_URL), so the emulator's webhooks reach
# it; PUBLIC_BASE_URL set in the environment or .env still wins.
PUBLIC_BASE_URL = env.str(
    "PUBLIC_BASE_URL",
    default=env.str("DEV_SERVER_URL", default=PUBLIC_BASE_URL),  # noqa: F405
).rstrip("/")

# The carrier emulator runs inside the app under a dev-only URL prefix (telephony/emulator).
TELEPHONY_EMULATOR_ENABLED = env.bool("TELEPHONY_EMULATOR_ENABLED", default=True)

# The Twilio/Plivo SDKs talk to the in-process emulator (telephony/emulator) unless told otherwise.
if TELEPHONY_EMULATOR_ENABLED:
    _EMULATOR = PUBLIC_BASE_URL + "/dev/emulator"
    TWILIO_API_BASE_URL = env.str("TWILIO_API_BASE_URL", default=_EMULATOR)
    PLIVO_API_BASE_URL = env.str("PLIVO_API_BASE_URL", default=_EMULATOR)
    # Emulated accounts for the demo (manage.py provider_bootstrap, run by `make run`): fake ids and
    # tokens that only the in-process emulator accepts. 555-01xx numbers are reserved for fiction.
    TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="AC" + "de" * 16)
    TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="dev-emulator-twilio-auth-token")
    TWILIO_PHONE_NUMBER = env.str("TWILIO_PHONE_NUMBER", default="+12025550100")
    PLIVO_AUTH_ID = env.str("PLIVO_AUTH_ID", default="MADEVEMULATOR0000000")
    PLIVO_AUTH_TOKEN = env.str("PLIVO_AUTH_TOKEN", default="dev-emulator-plivo-auth-token")
    PLIVO_PHONE_NUMBER = env.str("PLIVO_PHONE_NUMBER", default="+12025550199")

# Eager tasks run inside the webhook; a task's retry or failure must not break the demo's answer.
CELERY_TASK_EAGER_PROPAGATES = False
