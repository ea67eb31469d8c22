"""Who may open a view. Every URL's view carries one of these marks; a test walks the URLconf
and fails on any view without one, so a new page cannot be left unguarded by accident."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied


def admin_required(view: Callable) -> Callable:
    """Anonymous -> login page; logged-in non-admin -> the friendly 403 page."""

    @wraps(view)
    def inner(request, *args, **kwargs):
        if not request.user.is_admin:
            raise PermissionDenied("This page is for hotline admins.")
        return view(request, *args, **kwargs)

    guarded = login_required(inner)
    guarded.access = "admin"
    return guarded


def volunteer_required(view: Callable) -> Callable:
    """Any logged-in, active user (volunteers and admins)."""
    guarded = login_required(view)
    guarded.access = "login"
    return guarded


def public(reason: str) -> Callable[[Callable], Callable]:
    """Open to anyone; ``reason`` says why (a login page, a signed provider webhook, a health check)."""

    def mark(view: Callable) -> Callable:
        view.access = "public"
        view.public_reason = reason
        return view

    return mark
