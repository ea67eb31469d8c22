"""Read-mostly rows, cached briefly per process: the hotline and call-flow settings singletons,
the enabled provider accounts, which prompts have an uploaded recording, when each shift runs.

Webhooks read them on every request; a cached copy saves those queries. A save or delete in this
process clears the cache at once (post_save / post_delete); other processes see a change within
``SINGLETON_TTL_SECONDS``.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from django.db import models
from django.db.models.signals import post_delete, post_save

SINGLETON_TTL_SECONDS = 5.0
T = TypeVar("T")

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
        value = self.peek()
        if value is None:
            value = self._load()
            self._value = (time.monotonic() + SINGLETON_TTL_SECONDS, value)
        return value

    def peek(self) -> T | None:
        """The cached value if it is fresh, without loading it (safe in async code)."""
        cached = self._value
        return cached[1] if cached and cached[0] > time.monotonic() else None

    def forget(self, *_args, **_kwargs) -> None:
        self._value = None


_singletons: dict[type[models.Model], Snapshot] = {}


def singleton_register(model: type[models.Model]) -> None:
    _singletons[model] = Snapshot(lambda: model.objects.get_or_create(pk=1)[0], model)


def singleton_get(model: type[models.Model]) -> models.Model:
    """A copy, so a caller (a form being validated) can never change the shared row."""
    return copy.copy(_singletons[model].get())


def singleton_cached(model: type[models.Model]) -> models.Model | None:
    """The cached copy if it is fresh, without touching the database (safe in async code)."""
    row = _singletons[model].peek()
    return copy.copy(row) if row is not None else None


def singletons_forget() -> None:
    """Drop everything this module caches (tests start each from empty)."""
    for snapshot in _snapshots:
        snapshot.forget()
