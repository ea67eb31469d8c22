"""Project middleware. All of it works in sync and async mode, so an ASGI request is not handed
to a thread and back at each layer (that hop cost a quarter of the web process's CPU under load)."""

from __future__ import annotations

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone
from whitenoise.middleware import WhiteNoiseMiddleware

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


class StaticFilesMiddleware(_BothModes, WhiteNoiseMiddleware):
    """WhiteNoise, made async-capable: it is sync-only, and one sync-only middleware near the top
    sent every ASGI request (webhooks included) to a thread and back to the event loop before
    the view's own thread. Static files are served as WhiteNoise serves them (opened in a
    thread); every other request goes straight on."""

    def __init__(self, get_response):
        WhiteNoiseMiddleware.__init__(self, get_response)
        _BothModes.__init__(self, get_response)

    def handle(self, request, get_response):
        return WhiteNoiseMiddleware.__call__(self, request)

    async def __acall__(self, request):
        if self.autorefresh:  # DEBUG: looks on disk
            static_file = await sync_to_async(self.find_file)(request.path_info)
        else:
            static_file = self.files.get(request.path_info)  # a dict lookup, no I/O
        if static_file is None:
            return await self.get_response(request)
        return await sync_to_async(self.serve)(static_file, request)
