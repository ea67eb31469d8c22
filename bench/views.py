"""The baseline: what the same server, middleware and Django answer with no work at all."""

from __future__ import annotations

import os

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from llamenos.access import public

FIXED_TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Thank you for calling.</Say><Hangup/></Response>'
)


@public("benchmark baseline, mounted only by bench.urls under the bench settings")
@csrf_exempt
@require_POST
def fixed_twiml(request):
    return HttpResponse(FIXED_TWIML, content_type="text/xml; charset=utf-8")


@public("benchmark readiness probe, mounted only by bench.urls under the bench settings")
@require_GET
def worker_pid(request):
    """Which web worker answered: the harness waits until every worker has."""
    return HttpResponse(str(os.getpid()), content_type="text/plain")
