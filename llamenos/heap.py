"""Keep the cyclic garbage collector off the long-lived start-up heap of a server process.

A web or Celery process holds a few hundred thousand objects from Django, the models, the URL
conf, the provider SDKs and Celery, all loaded once and never freed. CPython's full collection
walks every one of them: measured under the bench, a full collection in a uvicorn worker took
55-180 ms, and every request that process had in flight (a caller's first webhook, say) waited
that long. ``gc.freeze()`` moves what exists now into a generation the collector never scans;
what requests allocate later is collected as before, so nothing leaks.
"""

from __future__ import annotations

import gc


def startup_heap_freeze() -> None:
    """Load what the first request would (the URL conf and every view it imports, the Celery
    task registry the first webhook queues into), free what is garbage already, then freeze the
    rest. Call once per process, after Django is set up."""
    from django.urls import get_resolver

    from llamenos.celery import app as celery_app

    get_resolver().url_patterns  # noqa: B018 (imports the views, their SDKs and forms)
    celery_app.finalize(auto=True)  # else the first call's ringing task pays for it (~17 ms)
    gc.collect()
    gc.freeze()
