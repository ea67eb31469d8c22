from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_process_init, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "llamenos.settings.dev")

app = Celery("llamenos")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect  # the worker's own process: the threads and solo pools run tasks there
@worker_process_init.connect  # each child of the prefork pool (the default), once forked
def _freeze_startup_heap(**kwargs) -> None:
    # Django, the tasks and the SDKs are loaded: keep full collections off them.
    from llamenos.heap import startup_heap_freeze

    startup_heap_freeze()
