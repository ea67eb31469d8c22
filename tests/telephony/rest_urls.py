"""A tiny app for REST tests: answer URLs that keep an emulated leg live (waiting for digits)."""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from llamenos.access import public


@public("test-only answer URL for REST tests")
@csrf_exempt
def answer(request, provider: str):
    if provider == "plivo":
        xml = (
            '<Response><GetDigits action="/done" timeout="60" numDigits="1">'
            "<Speak>hold</Speak></GetDigits></Response>"
        )
        return HttpResponse(xml, content_type="application/xml")
    xml = '<Response><Gather action="/done" timeout="60" numDigits="1"><Say>hold</Say></Gather></Response>'
    return HttpResponse(xml, content_type="text/xml")


@public("test-only status URL for REST tests")
@csrf_exempt
def status(request):
    return HttpResponse("", content_type="text/plain")


urlpatterns = [
    path("answer/<str:provider>", answer),
    path("status", status),
    path("done", status),
]
