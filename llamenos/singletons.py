"""Read-mostly singleton rows (hotline settings, call-flow settings), cached briefly per process.

Webhooks read them several times per request; a cached copy saves those queries. A save in this
process clears the cache at once (post_save); other processes see a change within
``SINGLETON_TTL_SECONDS``.
"""

from __future__ import annotations

import copy
import threading
import time

from django.db import models
from django.db.models.signals import post_delete, post_save

SINGLETON_TTL_SECONDS = 5.0

_lock = threading.Lock()
_rows: dict[type[models.Model], tuple[float, models.Model]] = {}


def singleton_get(model: type[models.Model]) -> models.Model:
    """A copy, so a caller (a form being validated) can never change the shared row."""
    now = time.monotonic()
    cached = _rows.get(model)
    if cached and cached[0] > now:
        return copy.copy(cached[1])
    row, _ = model.objects.get_or_create(pk=1)
    with _lock:
        _rows[model] = (now + SINGLETON_TTL_SECONDS, row)
    return copy.copy(row)


def singleton_cached(model: type[models.Model]) -> models.Model | None:
    """The cached copy if it is fresh, without touching the database (safe in async code)."""
    cached = _rows.get(model)
    return copy.copy(cached[1]) if cached and cached[0] > time.monotonic() else None


def singletons_forget(*_args, sender=None, **_kwargs) -> None:
    with _lock:
        if sender is None:
            _rows.clear()
        else:
            _rows.pop(sender, None)


def singleton_register(model: type[models.Model]) -> None:
    post_save.connect(singletons_forget, sender=model, weak=False)
    post_delete.connect(singletons_forget, sender=model, weak=False)
