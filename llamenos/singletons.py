"""Read-mostly rows, cached briefly per process: the hotline and call-flow settings singletons,
the enabled provider accounts, which prompts have an uploaded recording.

Webhooks read them on every request; a cached copy saves those queries. A save or delete in this
process clears the cache at once (post_save / post_delete); other processes see a change within
``SINGLETON_TTL_SECONDS``.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from django.db import models
from django.db.models.signals import post_delete, post_save

SINGLETON_TTL_SECONDS = 5.0
T = TypeVar("T")

_lock = threading.Lock()
_rows: dict[type[models.Model], tuple[float, models.Model]] = {}
_snapshots: list[Snapshot] = []


class Snapshot(Generic[T]):
    """``load()``'s value, kept for ``SINGLETON_TTL_SECONDS`` and dropped as soon as a row of one
    of ``models`` is saved or deleted in this process. ``load`` must return something nobody
    mutates (tuples, frozensets, dicts that are only read)."""

    def __init__(self, load: Callable[[], T], *sources: type[models.Model]) -> None:
        self._load = load
        self._value: tuple[float, T] | None = None
        for model in sources:
            post_save.connect(self.forget, sender=model, weak=False)
            post_delete.connect(self.forget, sender=model, weak=False)
        _snapshots.append(self)

    def get(self) -> T:
        cached = self._value
        if cached and cached[0] > time.monotonic():
            return cached[1]
        value = self._load()
        self._value = (time.monotonic() + SINGLETON_TTL_SECONDS, value)
        return value

    def forget(self, *_args, **_kwargs) -> None:
        self._value = None


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
    """Drop the cached singleton of ``sender``; with no sender, everything this module caches."""
    with _lock:
        if sender is None:
            _rows.clear()
            for snapshot in _snapshots:
                snapshot.forget()
        else:
            _rows.pop(sender, None)


def singleton_register(model: type[models.Model]) -> None:
    post_save.connect(singletons_forget, sender=model, weak=False)
    post_delete.connect(singletons_forget, sender=model, weak=False)
