"""Delivering webhooks: sign for the public URL, send to the app's address, keep a record."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urljoin

import requests

from .accounts import TWILIO, Account
from .signing import plivo_headers, twilio_headers

if TYPE_CHECKING:
    from .carrier import Carrier

logger = logging.getLogger(__name__)


@dataclass
class Webhook:
    """One request the carrier made to the app and what came back."""

    provider: str
    kind: str  # "incoming", "action", "status", "wait", "redirect", "answer", "sms", ...
    url: str  # the public URL that was signed
    path: str  # path + query, for easy asserts
    fields: dict[str, str]
    call_sid: str = ""
    status: int = 0  # 0 = not delivered (network error or URL outside the app)
    body: str = ""
    content_type: str = ""
    error: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    at: float = field(default_factory=time.time)
    # time.monotonic() when the request went out and when its answer was read (0 = never);
    # the bench harness reads answer times from these.
    sent_at: float = 0.0
    answered_at: float = 0.0

    @property
    def elapsed(self) -> float:
        """Seconds from sending the request to reading the app's answer (0 if not delivered)."""
        return self.answered_at - self.sent_at if self.answered_at else 0.0

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def resolve(base_url: str, url: str) -> str:
    """Relative URLs in XML resolve against the document that contained them, like the carriers do."""
    return urljoin(base_url, url) if base_url else url


def webhook_send(
    carrier: Carrier,
    *,
    account: Account,
    kind: str,
    url: str,
    fields: dict[str, str],
    method: str = "POST",
    call_sid: str = "",
) -> Webhook:
    public = carrier.public_base_url
    path = url[len(public) :] if url.startswith(public) else url
    record = Webhook(
        provider=account.provider, kind=kind, url=url, path=path, fields=dict(fields), call_sid=call_sid
    )
    carrier._record_webhook(record)
    if carrier._webhook_lost(kind, call_sid):
        record.error = "lost on the way (Carrier.lose_webhooks)"
        return record
    if not url.startswith(public + "/") and url != public:
        record.error = "URL outside the app (not delivered)"
        return record
    target = carrier.app_base_url + url[len(public) :]
    if method.upper() == "GET":
        # A GET carries the fields in the query string, and that is what gets signed.
        req = requests.Request("GET", target, params=fields).prepare()
        signed_url = public + req.url[len(carrier.app_base_url) :]
        sign_params: dict[str, str] = {}
    else:
        signed_url, sign_params = url, fields
    if account.provider == TWILIO:
        headers = twilio_headers(account.auth_token, signed_url, sign_params)
        headers["User-Agent"] = "TwilioProxy/1.1"
    else:
        headers = plivo_headers(account.auth_token, signed_url, sign_params)
        headers["User-Agent"] = "PlivoHTTP/1.0"
    record.headers = headers
    record.sent_at = time.monotonic()
    try:
        if method.upper() == "GET":
            response = carrier._http.get(
                target, params=fields, headers=headers, timeout=carrier.webhook_timeout, allow_redirects=False
            )
        else:
            response = carrier._http.post(
                target, data=fields, headers=headers, timeout=carrier.webhook_timeout, allow_redirects=False
            )
    except requests.RequestException as exc:
        record.error = f"{type(exc).__name__}: {exc}"
        logger.warning("emulator webhook %s failed: %s", path.split("?")[0], type(exc).__name__)
        return record
    record.answered_at = time.monotonic()
    record.status = response.status_code
    record.body = response.text
    record.content_type = response.headers.get("Content-Type", "")
    return record
