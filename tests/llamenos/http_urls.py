"""Views for tests/llamenos/test_http_handler.py only."""

from __future__ import annotations

import threading

from celery import shared_task
from django.http import HttpResponse
from django.urls import path

from llamenos.access import public
from llamenos.deferred import after_response
from telephony.events import events_send
from telephony.tasks import queue_after_commit

partners = threading.Barrier(2, timeout=5)
# What answer_then_queue's task saw: it runs once the test, holding the answer, releases it.
released = threading.Event()
ran: list[str] = []


@public("test view")
def meet_partner(request):
    """Returns only once a second request is being served at the same time."""
    partners.wait()
    return HttpResponse(threading.current_thread().name)


@public("test view")
def announce(request):
    events_send(groups=[request.GET["group"]], event_type="call.ringing", call=int(request.GET["call"]))
    return HttpResponse("sent")


@shared_task
def note_when_released(name: str) -> None:
    if released.wait(5):
        ran.append(name)


def _fail() -> None:
    raise RuntimeError("the broker is down")


@public("test view")
def answer_then_queue(request):
    after_response(_fail)  # logged; what comes after it still runs
    queue_after_commit(note_when_released, request.GET["name"])
    return HttpResponse("answered")


urlpatterns = [
    path("meet", meet_partner),
    path("announce", announce),
    path("answer-then-queue", answer_then_queue),
]
