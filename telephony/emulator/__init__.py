"""A stateful fake carrier (Twilio + Plivo) for tests, the local demo and the bench harness.

See README.md in this directory.
"""

from __future__ import annotations

# Plivo's call lookups (live, queued, detail record) share one REST path; importing the module
# adds its routes to rest.py's table.
from . import lookups  # noqa: F401
from .accounts import PLIVO, TWILIO, Account, plivo_auth_id, twilio_account_sid
from .calls import EmulatedCall
from .carrier import Carrier
from .phones import SimulatedPhone
from .webhooks import Webhook

__all__ = [
    "PLIVO",
    "TWILIO",
    "Account",
    "Carrier",
    "EmulatedCall",
    "SimulatedPhone",
    "Webhook",
    "plivo_auth_id",
    "twilio_account_sid",
]
