"""Accounts the emulated carrier knows, and the ids it hands out (shaped like the real ones)."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

TWILIO = "twilio"
PLIVO = "plivo"
PROVIDERS = (TWILIO, PLIVO)


@dataclass(frozen=True)
class Account:
    """One provider account: the credentials the SDKs send and the hotline number it owns.

    ``status_path`` is what the provider console would hold as the number's status callback
    (Twilio) / the application's hangup URL (Plivo) for inbound calls; ``incoming_path`` is
    the voice URL. Both are relative to the carrier's public base URL.
    """

    provider: str
    account_id: str
    auth_token: str
    hotline_number: str
    friendly_name: str = "Emulated account"
    api_key_sid: str = ""
    api_key_secret: str = ""
    incoming_path: str = "/telephony/incoming"
    status_path: str = "/telephony/status"
    sms_path: str = "/telephony/sms/incoming"

    def __post_init__(self) -> None:
        if self.provider not in PROVIDERS:
            raise ValueError(f"unknown provider {self.provider!r}; expected one of {PROVIDERS}")


def twilio_sid(prefix: str) -> str:
    """Twilio sids: two letters and 32 hex digits (CA..., SM..., QU..., RE...)."""
    return prefix + secrets.token_hex(16)


def plivo_uuid() -> str:
    return str(uuid.uuid4())


def twilio_account_sid() -> str:
    return twilio_sid("AC")


def plivo_auth_id() -> str:
    """Plivo main-account Auth IDs are "MA" + 18 upper-case letters/digits (the SDK checks this)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return "MA" + "".join(secrets.choice(alphabet) for _ in range(18))


def plivo_number(e164: str) -> str:
    """Plivo writes numbers without the leading "+" in its webhooks and API responses."""
    return e164.removeprefix("+")


def e164(number: str) -> str:
    """Accept both the Twilio ("+1415...") and Plivo ("1415...") spellings."""
    number = number.strip()
    if number.startswith("sip:") or number.startswith("client:"):
        return number
    return number if number.startswith("+") else "+" + number
