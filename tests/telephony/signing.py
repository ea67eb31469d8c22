"""Signing helpers for tests: the SDKs' own signing code, as the carriers use it."""

from __future__ import annotations

from plivo.utils.signature_v3 import construct_post_url, get_signature_v3
from twilio.request_validator import RequestValidator


def twilio_signature(token: str, url: str, params: dict[str, str]) -> str:
    return RequestValidator(token).compute_signature(url, params)


def plivo_signature(token: str, url: str, params: dict[str, str], nonce: str) -> str:
    base = construct_post_url(url, dict(params)).decode()
    return get_signature_v3(token.encode(), base, nonce.encode()).decode()
