"""ProviderError, and turning SDK failures into one with a retry decision.

Policy (see libraries.md): classify by HTTP status first - 429, 5xx and network failures are
worth retrying; every other 4xx is not (invalid or unroutable number, bad credentials, missing
resource). A provider's own error codes override the status where that provider says so; each
provider module passes its codes in.
"""

from __future__ import annotations

import re
import urllib.parse


class ProviderError(Exception):
    """A REST call to the provider failed.

    ``permanent`` means retrying cannot help (bad number, unroutable, wrong credentials);
    otherwise (429, 5xx, network) the caller may retry with backoff. The message never carries
    secrets or phone numbers, so it can be logged and shown to an admin.
    """

    def __init__(self, message: str, *, permanent: bool, status: int | None = None, code: int | None = None):
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.status = status
        self.code = code

    @property
    def retryable(self) -> bool:
        return not self.permanent


PHONE_LIKE = re.compile(r"\+?\d[\d\s().-]{5,}\d")


def scrub(message: str) -> str:
    """Provider messages sometimes quote the number ("The 'To' number +1... is not valid")."""
    return PHONE_LIKE.sub("[number]", message or "").strip()[:300]


def retryable_status(status: int | None) -> bool:
    return status is not None and (status == 429 or status >= 500)


def classify(
    *,
    provider: str,
    status: int | None,
    code: int | None,
    message: str,
    permanent_codes: frozenset[int] = frozenset(),
    retryable_codes: frozenset[int] = frozenset(),
) -> ProviderError:
    if code in permanent_codes:
        permanent = True
    elif code in retryable_codes:
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
