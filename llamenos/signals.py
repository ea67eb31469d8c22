"""Auth events go to the audit log. Receivers only translate a signal into ``audit_record``."""

from __future__ import annotations

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .audit import audit_record


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs) -> None:
    audit_record(event="auth.login", actor=user, target=user.username, request=request)


@receiver(user_logged_out)
def audit_logout(sender, request, user, **kwargs) -> None:
    if user is not None:
        audit_record(event="auth.logout", actor=user, target=user.username, request=request)


def _known_username(credentials: dict) -> str:
    # A mistyped password sometimes lands in the username box: only name accounts that exist.
    username = (credentials or {}).get("username") or ""
    exists = get_user_model().objects.filter(username=username).exists()
    return username if exists else "(unknown account)"


@receiver(user_login_failed)
def audit_login_failed(sender, credentials, request=None, **kwargs) -> None:
    audit_record(event="auth.login_failed", target=_known_username(credentials), request=request)


@receiver(user_locked_out)
def audit_locked_out(sender, request, username=None, ip_address=None, **kwargs) -> None:
    audit_record(event="auth.locked_out", target=_known_username({"username": username}), request=request)
