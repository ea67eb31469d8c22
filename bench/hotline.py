"""The bench's hotline: its own database (created, migrated, emptied), provider accounts that
match the emulator's, and volunteers with phones on a shift running now."""

from __future__ import annotations

import datetime as dt

import psycopg
from psycopg import sql

from telephony.emulator import Account

TWILIO = Account("twilio", "AC" + "b" * 32, "bench-twilio-token-0123456789abcdef", "+15005550201")
PLIVO = Account("plivo", "MABENCH0123456789ABC", "bench-plivo-token-0123456789abcdef", "+15005550202")
# The baseline: the carrier posts the same signed incoming webhook to the bare fixed-TwiML view.
BASELINE = Account(
    "twilio",
    "AC" + "c" * 32,
    "bench-baseline-token-0123456789abcd",
    "+15005550203",
    incoming_path="/bench/fixed-twiml",
    status_path="/bench/fixed-twiml",
)
ACCOUNTS = {"twilio": TWILIO, "plivo": PLIVO}
MAX_VOLUNTEERS = 50


def database_prepare() -> str:
    """Create the bench database if missing, migrate it and empty it; returns its name.

    Refuses any database whose name lacks "bench": emptying it is part of every run.
    """
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    db = settings.DATABASES["default"]
    name = db["NAME"]
    if "bench" not in name:
        raise SystemExit(
            f"refusing to use database {name!r}: the bench empties it; its name must contain 'bench'"
        )
    with psycopg.connect(
        host=db.get("HOST") or "127.0.0.1",
        port=db.get("PORT") or 5432,
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        dbname="postgres",
        autocommit=True,
        connect_timeout=5,
    ) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    call_command("migrate", interactive=False, verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    connection.close()
    return name


def redis_empty() -> None:
    """Stale Celery messages, scheduled timeouts and rate-limit windows of an earlier run go."""
    import redis
    from django.conf import settings

    redis.Redis.from_url(settings.REDIS_URL).flushdb()


def hotline_populate() -> list:
    """Provider accounts for both providers and MAX_VOLUNTEERS phone volunteers (none on shift)."""
    from django.contrib.auth.hashers import make_password

    from llamenos.models import Role, User
    from telephony.models import CallFlowSettings, ProviderAccount
    from volunteers.models import CallPreference, Volunteer

    for account in ACCOUNTS.values():
        ProviderAccount.objects.create(
            provider=account.provider,
            label=f"Bench {account.provider}",
            hotline_number=account.hotline_number,
            account_id=account.account_id,
            auth_token=account.auth_token,
        )
    CallFlowSettings.objects.get_or_create(pk=1)  # defaults: no menu, no CAPTCHA, press 1, rate limit on
    password = make_password(None)
    users = User.objects.bulk_create(
        User(username=f"bench{n:02d}", first_name=f"Bench {n}", role=Role.VOLUNTEER, password=password)
        for n in range(MAX_VOLUNTEERS)
    )
    return Volunteer.objects.bulk_create(
        Volunteer(
            user=user,
            phone=f"+1415556{n:04d}",
            call_preference=CallPreference.PHONE,
            spoken_languages=["en"],
        )
        for n, user in enumerate(users)
    )


def shift_now():
    """A shift from an hour ago to an hour from now, in the hotline's zone (as the flow tests do)."""
    from django.utils import timezone

    from llamenos.selectors import hotline_settings_get
    from volunteers.models import Shift

    start = timezone.now().astimezone(hotline_settings_get().zone) - dt.timedelta(hours=1)
    end = start + dt.timedelta(hours=2)
    shift, _ = Shift.objects.get_or_create(
        name="Bench now",
        defaults={"days": [start.weekday()], "start_time": start.time(), "end_time": end.time()},
    )
    return shift


def on_shift_set(volunteers: list, count: int) -> None:
    shift_now().volunteers.set(volunteers[:count])


class ConnectionPeak:
    """Samples, every 20 ms in a thread, how many PostgreSQL connections the bench database has
    open and how many the whole server has (which max_connections caps)."""

    def __init__(self) -> None:
        import threading

        self.peak = 0
        self.server_peak = 0
        self.max_connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _connect(self):
        from django.conf import settings

        db = settings.DATABASES["default"]
        return psycopg.connect(
            host=db.get("HOST") or "127.0.0.1",
            port=db.get("PORT") or 5432,
            user=db.get("USER") or None,
            password=db.get("PASSWORD") or None,
            dbname=db["NAME"],
            autocommit=True,
            connect_timeout=5,
        )

    def _sample(self) -> None:
        with self._connect() as conn:
            name = conn.info.dbname
            self.max_connections = int(conn.execute("SHOW max_connections").fetchone()[0])
            while not self._stop.wait(0.02):
                mine, total = conn.execute(
                    "SELECT count(*) FILTER (WHERE datname = %s), count(*) FROM pg_stat_activity", [name]
                ).fetchone()
                self.peak = max(self.peak, mine - 1)  # not counting this sampler
                self.server_peak = max(self.server_peak, total)

    def __enter__(self) -> ConnectionPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
