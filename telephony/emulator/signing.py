"""Webhook signatures, computed with the SDKs' own code so the app's checks meet the real thing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from urllib.parse import urlsplit, urlunsplit

from plivo.utils.signature_v3 import construct_post_url, get_signature_v3
from twilio.request_validator import RequestValidator


def twilio_headers(auth_token: str, url: str, params: dict[str, str]) -> dict[str, str]:
    return {"X-Twilio-Signature": RequestValidator(auth_token).compute_signature(url, params)}


def plivo_headers(auth_token: str, url: str, params: dict[str, str]) -> dict[str, str]:
    """V3 (URL with sorted query + sorted POST params + nonce) and the legacy V2 (URL + nonce)."""
    nonce = secrets.token_hex(10)
    base = construct_post_url(url, dict(params)).decode("utf-8")
    v3 = get_signature_v3(auth_token.encode("utf-8"), base, nonce.encode("utf-8")).decode("utf-8")
    parts = urlsplit(url)
    v2_base = urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")) + nonce
    v2 = base64.b64encode(hmac.new(auth_token.encode(), v2_base.encode(), hashlib.sha256).digest()).decode()
    return {
        "X-Plivo-Signature-V3": v3,
        "X-Plivo-Signature-V3-Nonce": nonce,
        "X-Plivo-Signature-V2": v2,
        "X-Plivo-Signature-V2-Nonce": nonce,
    }
