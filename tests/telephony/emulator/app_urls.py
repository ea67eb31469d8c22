"""A test-only app for the emulator tests: webhook views that check the carrier's signatures
(with the SDKs' validators, on PUBLIC_BASE_URL + path) and answer scripted XML."""

from __future__ import annotations

import threading

from django.conf import settings
from django.http import HttpResponse, HttpResponseForbidden
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from plivo.utils.signature_v3 import validate_v3_signature
from twilio.request_validator import RequestValidator

from llamenos.access import public

from .conftest import PLIVO_TOKEN, TWILIO_TOKEN

SCRIPTS: dict[str, object] = {}  # path name -> XML string or callable(fields) -> XML string
SEEN: list[dict] = []  # every request: name, fields, signature_ok
LOCK = threading.Lock()


def _signature_ok(request) -> bool:
    url = settings.PUBLIC_BASE_URL + request.get_full_path()
    if "X-Twilio-Signature" in request.headers:
        return RequestValidator(TWILIO_TOKEN).validate(
            url, request.POST, request.headers["X-Twilio-Signature"]
        )
    if "X-Plivo-Signature-V3" in request.headers:
        return validate_v3_signature(
            "POST",
            url,
            request.headers.get("X-Plivo-Signature-V3-Nonce", ""),
            PLIVO_TOKEN,
            request.headers["X-Plivo-Signature-V3"],
            request.POST.dict(),
        )
    return False


@public("test-only signed webhook")
@csrf_exempt
def hook(request, name: str):
    ok = _signature_ok(request)
    with LOCK:
        SEEN.append(
            {"name": name, "fields": request.POST.dict(), "signature_ok": ok, "query": request.GET.dict()}
        )
    if not ok:
        return HttpResponseForbidden("bad signature")
    script = SCRIPTS.get(name, "<Response/>")
    xml = script(request.POST.dict()) if callable(script) else script
    content_type = "application/xml" if "X-Plivo-Signature-V3" in request.headers else "text/xml"
    return HttpResponse(xml, content_type=content_type)


urlpatterns = [path("telephony/<path:name>", hook)]
