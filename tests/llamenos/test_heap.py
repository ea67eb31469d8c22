"""Server and worker processes freeze their start-up heap (llamenos/heap.py), so the collector's
full passes never walk Django, the URL conf and the SDKs again while calls are being answered."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("module", ["llamenos.asgi", "llamenos.wsgi"])
def test_the_server_entry_points_freeze_a_heap_that_already_holds_the_views(module):
    code = (
        f"import gc, sys, {module}\n"
        "from llamenos.celery import app\n"
        "print(gc.get_freeze_count(), 'telephony.webhooks' in sys.modules and app.finalized,"
        " len(gc.get_objects()))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "llamenos.settings.test"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    frozen, loaded, still_scanned = result.stdout.split()
    assert loaded == "True"  # the views and the Celery task registry, as the first call needs them
    # Nearly everything is out of the collector's reach; what is left is what import-time
    # code made after the freeze.
    assert int(frozen) > 100_000
    assert int(still_scanned) < int(frozen) // 20


@pytest.mark.parametrize("signal_name", ["worker_ready", "worker_process_init"])
def test_celery_worker_processes_freeze_their_heap(signal_name):
    """worker_ready: the threads and solo pools; worker_process_init: each prefork child."""
    from celery import signals

    import llamenos.celery  # noqa: F401 (connects the handler)

    gc.unfreeze()
    try:
        getattr(signals, signal_name).send(sender=None)
        assert gc.get_freeze_count() > 100_000
    finally:
        gc.unfreeze()
