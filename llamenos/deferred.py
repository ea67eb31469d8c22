"""Work that leaves the process (a Celery task to the broker, a live event to the channel
layer) is sent once the response has gone out, so the provider's webhook never waits on it.

A caller's first webhook used to publish its ringing task before its XML was sent: one more
Redis round trip, and the broker client's CPU, inside the answer time. The server's request
handler (llamenos/http.py) serves each request inside ``deferred_until_exit()``: what
``after_response`` is handed while the request is served runs when the block exits, after the
response was sent and closed (its database connection back in the pool). Everywhere else
(Django's own handlers and test clients, Celery tasks, management commands, websocket
consumers) ``after_response`` runs the function at once.

A function that fails is logged and the others still run, as ``on_commit(robust=True)`` does.
One that needs the database (an eager Celery task, in development) opens a connection of its
own, which the thread's next request closes as Django closes any.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

logger = logging.getLogger(__name__)
_local = threading.local()


def after_response(func: Callable[[], object]) -> None:
    """Run ``func`` once this thread's response has gone out (at once outside the server)."""
    pending = getattr(_local, "pending", None)
    if pending is None:
        func()
    else:
        pending.append(func)


@contextmanager
def deferred_until_exit() -> Iterator[None]:
    """Keep what ``after_response`` is handed in this thread; run it, in order, on exit."""
    outer = getattr(_local, "pending", None)
    _local.pending = pending = []
    try:
        yield
    finally:
        _local.pending = outer
        for func in pending:
            try:
                func()
            except Exception:
                logger.exception("work deferred until after the response failed: %r", func)
