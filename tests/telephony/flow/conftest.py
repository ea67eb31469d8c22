"""End-to-end harness: the app on a live server, the carrier emulator on loopback, a real Celery
worker on Redis, volunteers on shift. Both providers run every scenario."""

from __future__ import annotations

import datetime as dt
import itertools
import time
from dataclasses import dataclass, field

import pytest
from django.db import connections
from django.utils import timezone

from llamenos.celery import app as celery_app
from llamenos.models import Role, User
from telephony.emulator import Account, Carrier
from telephony.models import Call, CallFlowSettings, ProviderAccount
from volunteers.models import Shift, Volunteer

TWILIO = Account("twilio", "AC" + "5" * 32, "twilio-flow-token-0123456789abcdef", "+15005550101")
PLIVO = Account("plivo", "MAFLOWTEST0123456789", "plivo-flow-token-0123456789abcdef", "+15005550102")
ACCOUNTS = {"twilio": TWILIO, "plivo": PLIVO}
_phone_numbers = itertools.count(2000)


@dataclass
class Hotline:
    carrier: Carrier
    provider: str
    volunteers: list[Volunteer] = field(default_factory=list)

    @property
    def account(self) -> Account:
        return ACCOUNTS[self.provider]

    def dial(self, from_: str = "+14155550123"):
        return self.carrier.place_call(self.provider, from_=from_)

    def flow(self, **fields) -> CallFlowSettings:
        row, _ = CallFlowSettings.objects.get_or_create(pk=1)
        for name, value in fields.items():
            setattr(row, name, value)
        row.full_clean()
        row.save()
        return row

    def volunteer(self, name: str, *, on_shift: bool = True, fallback: bool = False, **fields) -> Volunteer:
        user = User.objects.create_user(username=name, first_name=name.title(), role=Role.VOLUNTEER)
        fields.setdefault("spoken_languages", ["en", "es"])
        volunteer = Volunteer.objects.create(
            user=user, phone=f"+1415555{next(_phone_numbers):04d}", in_fallback_group=fallback, **fields
        )
        if on_shift:
            self.shift_now().volunteers.add(volunteer)
        self.volunteers.append(volunteer)
        return volunteer

    def shift_now(self) -> Shift:
        """A shift running from an hour ago to an hour from now, in the hotline's zone."""
        from llamenos.selectors import hotline_settings_get

        start = timezone.now().astimezone(hotline_settings_get().zone) - dt.timedelta(hours=1)
        end = start + dt.timedelta(hours=2)
        shift, _ = Shift.objects.get_or_create(
            name="Now",
            defaults={"days": [start.weekday()], "start_time": start.time(), "end_time": end.time()},
        )
        return shift

    def phone(self, volunteer: Volunteer):
        return self.carrier.phone(str(volunteer.phone))

    def call_row(self) -> Call:
        return Call.objects.get()


@pytest.fixture
def celery_worker_thread():
    """A real worker (threads pool) on the Redis broker; tasks leave the webhook's process path."""
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun, task_received

    # Tasks the worker holds: id -> when it is due (None: now).
    pending: dict[str, float | None] = {}

    def received(request=None, **_):
        eta = request.eta
        if isinstance(eta, str):
            eta = dt.datetime.fromisoformat(eta)
        pending[request.id] = eta.timestamp() if eta else None

    def finished(task_id=None, **_):
        # What `celery worker`'s Django fixup does after each task; this test worker has none, and
        # a connection left in a finished worker thread outlived the test database.
        connections.close_all()
        pending.pop(task_id, None)

    def drained() -> bool:
        """Nothing runs or is due within seconds (a backstop due in minutes is dropped)."""
        soon = time.time() + 3
        before = dict(pending)
        time.sleep(0.2)
        return before == pending and all(due is not None and due > soon for due in pending.values())

    celery_app.conf.task_always_eager = False
    task_received.connect(received, weak=False)
    task_postrun.connect(finished, weak=False)
    try:
        celery_app.control.purge()
        with start_worker(
            celery_app, pool="threads", concurrency=4, perform_ping_check=False, shutdown_timeout=10
        ):
            yield
            # Tasks the test left behind (a countdown still running) finish before the test's
            # database is flushed under them.
            deadline = time.monotonic() + 15
            while not drained() and time.monotonic() < deadline:
                pass
    finally:
        task_received.disconnect(received)
        task_postrun.disconnect(finished)
        celery_app.conf.task_always_eager = True


@pytest.fixture(params=["twilio", "plivo"])
def hotline(request, live_server, settings, transactional_db, celery_worker_thread):
    for account in ACCOUNTS.values():
        ProviderAccount.objects.create(
            provider=account.provider,
            label=f"{account.provider} line",
            hotline_number=account.hotline_number,
            account_id=account.account_id,
            auth_token=account.auth_token,
        )
    with Carrier(
        live_server.url, settings.PUBLIC_BASE_URL, list(ACCOUNTS.values()), time_scale=0.05
    ) as carrier:
        settings.TWILIO_API_BASE_URL = carrier.twilio_api_base_url
        settings.PLIVO_API_BASE_URL = carrier.plivo_api_base_url
        yield Hotline(carrier=carrier, provider=request.param)
