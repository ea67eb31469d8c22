"""Views for tests/llamenos/test_http_handler.py only."""

from __future__ import annotations

import threading

from django.http import HttpResponse
from django.urls import path

from llamenos.access import public
from telephony.events import events_send

partners = threading.Barrier(2, timeout=5)


@public("test view")
def meet_partner(request):
    """Returns only once a second request is being served at the same time."""
    partners.wait()
    return HttpResponse(threading.current_thread().name)


@public("test view")
def announce(request):
    events_send(groups=[request.GET["group"]], event_type="call.ringing", call=int(request.GET["call"]))
    return HttpResponse("sent")


urlpatterns = [path("meet", meet_partner), path("announce", announce)]
