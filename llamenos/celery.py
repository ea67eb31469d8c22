from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "llamenos.settings.dev")

app = Celery("llamenos")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def _freeze_startup_heap(**kwargs) -> None:
    # The worker has loaded Django, the tasks and the SDKs: keep full collections off them.
    from llamenos.heap import startup_heap_freeze

    startup_heap_freeze()
