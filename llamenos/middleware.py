"""Project middleware."""

from __future__ import annotations

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from .selectors import hotline_settings_get


class PermissionsPolicyMiddleware:
    """Django has no setting for Permissions-Policy; the softphone needs the microphone, nothing else."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


def _hotline_settings_or_none():
    try:
        return hotline_settings_get()
    except DatabaseError:
        return None


class HotlineTimeZoneMiddleware:
    """Show every date in the hotline's own time zone (shifts, calls and audit rows alike).

    The settings row is kept on the request for the templates. When the database is down the
    request still runs (in UTC), so /healthz can say so instead of a 500.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.hotline_settings = _hotline_settings_or_none()
        if request.hotline_settings is None:
            return self.get_response(request)
        with timezone.override(request.hotline_settings.zone):
            return self.get_response(request)
