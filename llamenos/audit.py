"""The audit log service. Every admin action and call milestone goes through ``audit_record``."""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest

from .crypto import ip_hash
from .models import AuditEvent, User

# Keys that must never reach the audit log, whatever their value.
FORBIDDEN_DETAIL_KEYS = re.compile(
    r"(password|secret|token|auth_?id|api_?key|phone|number|caller|from|to|body|e164)",
    re.IGNORECASE,
)
# Anything shaped like a phone number (7+ digits, optionally with +, spaces, dots, dashes).
PHONE_LIKE = re.compile(r"\+?\d[\d\s().-]{5,}\d")
SAFE_SUFFIXES = ("_last4", "_count", "_id", "_hash", "_seconds")


class UnsafeAuditDetails(ValueError):
    """Raised when someone tries to put a secret or a phone number into an audit row."""


def _check_details(details: dict[str, Any], path: str = "") -> None:
    for key, value in details.items():
        name = f"{path}{key}"
        if not key.endswith(SAFE_SUFFIXES) and FORBIDDEN_DETAIL_KEYS.search(key):
            raise UnsafeAuditDetails(f"audit details key {name!r} may hold a secret or a number")
        if isinstance(value, dict):
            _check_details(value, path=f"{name}.")
        elif isinstance(value, str) and PHONE_LIKE.search(value):
            raise UnsafeAuditDetails(f"audit details value of {name!r} looks like a phone number")


def client_ip(request: HttpRequest) -> str:
    from axes.helpers import get_client_ip_address

    return get_client_ip_address(request) or ""


def audit_record(
    *,
    event: str,
    actor: User | None = None,
    target: str = "",
    details: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> AuditEvent:
    record = audit_event_build(event=event, actor=actor, target=target, details=details, request=request)
    record.save()
    return record


def audit_event_build(
    *,
    event: str,
    actor: User | None = None,
    target: str = "",
    details: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> AuditEvent:
    """The row ``audit_record`` writes, checked but not saved: for a caller that writes it in one
    statement with the change it records."""
    details = details or {}
    _check_details(details)
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    ip = client_ip(request) if request is not None else ""
    return AuditEvent(
        actor=actor,
        actor_label=actor.username if actor else "system",
        event=event,
        target=target[:200],
        details=details,
        ip_hash=ip_hash(ip) if ip else "",
    )
