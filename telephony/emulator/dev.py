"""The process-wide carrier for dev mode (``make run``): lives inside the Django process, serves
its REST API through views.py, and takes its accounts from the enabled ProviderAccount rows."""

from __future__ import annotations

import threading

from django.conf import settings

from .accounts import Account
from .carrier import Carrier

MOUNT = "/dev/emulator"
# People click slower than tests: every carrier timer runs six times longer (an 8 s Gather waits 48 s).
DEV_TIME_SCALE = 6.0

_lock = threading.Lock()
_carrier: Carrier | None = None


def dev_carrier() -> Carrier:
    global _carrier
    with _lock:
        if _carrier is None:
            base = settings.PUBLIC_BASE_URL
            _carrier = Carrier(base, base, [], time_scale=DEV_TIME_SCALE)
            _carrier.rest_base_url = base + MOUNT
        dev_carrier_sync_accounts(_carrier)
        return _carrier


def dev_carrier_reset() -> None:
    """Hang up everything and forget the carrier (tests; a settings change)."""
    global _carrier
    with _lock:
        if _carrier is not None:
            _carrier.stop()
        _carrier = None


def dev_carrier_sync_accounts(carrier: Carrier) -> None:
    """Mirror the enabled provider accounts, so the app's saved credentials are what the carrier checks."""
    from telephony.models import ProviderAccount

    accounts = [
        Account(
            provider=row.provider,
            account_id=row.account_id,
            auth_token=row.auth_token,
            hotline_number=str(row.hotline_number),
            friendly_name=row.label,
            api_key_sid=row.api_key_sid or "",
            api_key_secret=row.api_key_secret or "",
        )
        for row in ProviderAccount.objects.filter(enabled=True).order_by("id")
    ]
    with carrier._lock:
        carrier.accounts = accounts
