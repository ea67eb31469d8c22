"""A stateful fake carrier (Twilio + Plivo) for tests, the local demo and the bench harness.

See README.md in this directory.
"""

from __future__ import annotations

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
