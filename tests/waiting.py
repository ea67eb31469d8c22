"""Waiting in tests for what another process (the live server, a Celery worker, the emulator's
threads) does: poll until it is so, or fail saying what never happened."""

from __future__ import annotations

import time


def wait_until(predicate, timeout: float = 10.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
