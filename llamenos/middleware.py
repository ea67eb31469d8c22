from __future__ import annotations

from django.conf import settings


class PermissionsPolicyMiddleware:
    """Django has no setting for Permissions-Policy; the softphone needs the microphone, nothing else."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


class HotlineTimeZoneMiddleware:
    """Show every date in the hotline's own time zone (shifts, calls and audit rows alike).

    The settings row is loaded once per request and kept on it for the templates. When the
    database is down the request still runs (in UTC), so /healthz can say so instead of a 500.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.db import DatabaseError
        from django.utils import timezone

        from .selectors import hotline_settings_get

        try:
            request.hotline_settings = hotline_settings_get()
        except DatabaseError:
            request.hotline_settings = None
            return self.get_response(request)
        with timezone.override(request.hotline_settings.zone):
            return self.get_response(request)
