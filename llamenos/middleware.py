"""Project middleware. It works in sync mode, as llamenos/http.py serves every request, and in
async mode too (Django's own ASGIHandler, the test AsyncClient) without a thread hop of its own."""

from __future__ import annotations

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from .models import HotlineSettings
from .selectors import hotline_settings_get
from .singletons import singleton_cached


class _BothModes:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.is_async:
            return self.__acall__(request)
        return self.handle(request, self.get_response)

    async def __acall__(self, request):
        raise NotImplementedError


class PermissionsPolicyMiddleware(_BothModes):
    """Django has no setting for Permissions-Policy; the softphone needs the microphone, nothing else."""

    def handle(self, request, get_response):
        return self._add_header(get_response(request))

    async def __acall__(self, request):
        return self._add_header(await self.get_response(request))

    @staticmethod
    def _add_header(response):
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


def _hotline_settings_or_none():
    try:
        return hotline_settings_get()
    except DatabaseError:
        return None


class HotlineTimeZoneMiddleware(_BothModes):
    """Show every date in the hotline's own time zone (shifts, calls and audit rows alike).

    The settings row is kept on the request for the templates. When the database is down the
    request still runs (in UTC), so /healthz can say so instead of a 500.
    """

    def handle(self, request, get_response):
        request.hotline_settings = _hotline_settings_or_none()
        if request.hotline_settings is None:
            return get_response(request)
        with timezone.override(request.hotline_settings.zone):
            return get_response(request)

    async def __acall__(self, request):
        request.hotline_settings = (
            singleton_cached(HotlineSettings) or await sync_to_async(_hotline_settings_or_none)()
        )
        if request.hotline_settings is None:
            return await self.get_response(request)
        with timezone.override(request.hotline_settings.zone):
            return await self.get_response(request)
