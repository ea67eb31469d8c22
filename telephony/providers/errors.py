"""Turning SDK failures into ProviderError with a retry decision.

Policy (see libraries.md): classify by HTTP status first - 429, 5xx and network failures are
worth retrying; every other 4xx is not (invalid or unroutable number, bad credentials, missing
resource). A few provider codes override the status where the provider says so.
"""

from __future__ import annotations

import re
import urllib.parse

from .base import ProviderError

PHONE_LIKE = re.compile(r"\+?\d[\d\s().-]{5,}\d")

# Twilio codes that are permanent whatever the HTTP status says.
TWILIO_PERMANENT_CODES = {
    20003,  # authentication failed
    20404,  # resource not found
    21211,  # invalid To number
    21212,  # invalid From number
    21214,  # To number cannot be reached
    21215,  # geo permission: calls to this number not allowed
    21217,  # To number not valid
    21401,  # invalid phone number
    21408,  # region not enabled
    21606,  # From cannot send SMS
    21608,  # trial account, unverified To
    21610,  # recipient replied STOP
    21612,  # To not routable
    21614,  # To not SMS-capable
    21635,  # landline
}
TWILIO_RETRYABLE_CODES = {20429, 20500, 20503}


def scrub(message: str) -> str:
    """Provider messages sometimes quote the number ("The 'To' number +1... is not valid")."""
    return PHONE_LIKE.sub("[number]", message or "").strip()[:300]


def retryable_status(status: int | None) -> bool:
    return status is not None and (status == 429 or status >= 500)


def classify(*, provider: str, status: int | None, code: int | None, message: str) -> ProviderError:
    if code in TWILIO_PERMANENT_CODES:
        permanent = True
    elif code in TWILIO_RETRYABLE_CODES:
        permanent = False
    else:
        permanent = not retryable_status(status)
    parts = [f"{provider}:"]
    if status:
        parts.append(f"HTTP {status}")
    if code and code != status:
        parts.append(f"(code {code})")
    text = scrub(message)
    if text:
        parts.append(f"- {text}")
    return ProviderError(" ".join(parts), permanent=permanent, status=status, code=code)


def network_error(provider: str, exc: Exception) -> ProviderError:
    """Connection refused, DNS, timeouts: the provider may be fine a moment later."""
    return ProviderError(
        f"{provider}: network error ({type(exc).__name__}); the request can be retried",
        permanent=False,
    )


def rewrite_base(url: str, base_url: str) -> str:
    """Keep the path and query of ``url`` but send it to ``base_url``'s scheme, host and prefix.

    Used to point the SDKs at the emulator, a recording proxy or a compatible carrier.
    """
    if not base_url:
        return url
    target = urllib.parse.urlsplit(base_url)
    original = urllib.parse.urlsplit(url)
    path = target.path.rstrip("/") + original.path
    return urllib.parse.urlunsplit((target.scheme, target.netloc, path, original.query, original.fragment))
