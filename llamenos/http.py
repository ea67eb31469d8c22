"""HTTP under ASGI, served the way a WSGI server serves Django: each request's middleware chain
and view run in one worker thread, from a fixed pool.

Every view of the app is synchronous, and so are Django's own middleware (``MiddlewareMixin``).
Django's ``ASGIHandler`` runs the chain on the event loop and sends each middleware's
``process_request`` and ``process_response``, the view and the request signals to a thread and
back: about twenty hand-offs per request, each waiting for the GIL on a busy worker. Measured
for the hold step's webhook, in-process: 5.8 ms of CPU per request through ``ASGIHandler``,
2.2 ms through the same stack in sync mode. Here a request goes to a worker thread once and
comes back once, with its whole response. Websockets never come here: asgi.py routes only
``http`` to this handler, and the Channels consumers keep the event loop.

What a request leaves for later (its Celery tasks, its live events) is sent from the same thread
once the response has gone out (llamenos/deferred.py).

The pool is fixed (``HTTP_WORKER_THREADS``), so the threads, and the database connections they
hold while serving, are bounded; a request beyond that waits for a free thread.

A webhook spends most of its time waiting on PostgreSQL and Redis, a few round trips each. When
the answer to one comes back, its thread must get the GIL again, and while another request runs
Python it waits for that thread to let go: by default after up to 5 ms, once per round trip. The
server process switches threads every ``HTTP_GIL_SWITCH_INTERVAL`` seconds instead (0.5 ms by
default). Measured with the bench, 20 calls live, Twilio, two runs each way on the same hour:
answer p99 61.6 and 47.1 ms at 5 ms; 32.5 and 39.1 ms at 0.5 ms.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import ImproperlyConfigured, RequestAborted
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse, HttpResponseBase
from django.urls import set_script_prefix

from llamenos.deferred import deferred_until_exit


async def _send_all(send, messages: list[dict]) -> None:
    for message in messages:
        await send(message)


def response_headers(response: HttpResponseBase) -> list[tuple[bytes, bytes]]:
    """The response's headers and cookies as ASGI wants them (as Django's ASGIHandler does)."""
    headers = [
        (
            header.encode("ascii") if isinstance(header, str) else bytes(header),
            value.encode("latin1") if isinstance(value, str) else bytes(value),
        )
        for header, value in response.items()
    ]
    headers += [
        (b"Set-Cookie", cookie.output(header="").encode("ascii").strip())
        for cookie in response.cookies.values()
    ]
    return headers


class ThreadedHTTPHandler(ASGIHandler):
    """Django's request handling in sync mode, one worker thread per request."""

    def __init__(self, *, threads: int | None = None) -> None:
        base.BaseHandler.__init__(self)
        self.load_middleware(is_async=False)
        self.threads = threads or settings.HTTP_WORKER_THREADS
        if self.threads < 1:
            raise ImproperlyConfigured("HTTP_WORKER_THREADS must be at least 1.")
        if settings.HTTP_GIL_SWITCH_INTERVAL <= 0:
            raise ImproperlyConfigured("HTTP_GIL_SWITCH_INTERVAL must be a positive number of seconds.")
        sys.setswitchinterval(settings.HTTP_GIL_SWITCH_INTERVAL)  # for the whole server process
        self._executor = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="http")
        # A thread started by sync_to_async: async_to_sync in a view (live events) runs on this
        # server's event loop and its channel-layer connections, not on a loop of its own.
        self._serve_in_thread = sync_to_async(self._serve, thread_sensitive=False, executor=self._executor)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django serves HTTP here, not {scope['type']}.")
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        await self._serve_in_thread(scope, body_file, send)

    def _serve(self, scope, body_file, send) -> None:
        """In a worker thread: the whole request, from request_started to request_finished, then
        what it left for after its response (llamenos/deferred.py)."""
        with deferred_until_exit():
            self._serve_request(scope, body_file, send)

    def _serve_request(self, scope, body_file, send) -> None:
        try:
            set_script_prefix(get_script_prefix(scope))
            signals.request_started.send(sender=self.__class__, scope=scope)
            request, response = self.create_request(scope, body_file)
            if request is not None:
                response = self.get_response(request)
                response._handler_class = self.__class__
                if isinstance(response, FileResponse):
                    response.block_size = self.chunk_size
            try:
                self._send(response, send)
            finally:
                response.close()  # request_finished: this thread's database connection is released
        finally:
            body_file.close()

    def _send(self, response: HttpResponseBase, send) -> None:
        start = {"type": "http.response.start", "status": response.status_code}
        start["headers"] = response_headers(response)
        if not response.streaming:
            bodies = [
                {"type": "http.response.body", "body": chunk, "more_body": not last}
                for chunk, last in self.chunk_bytes(response.content)
            ]
            async_to_sync(_send_all)(send, [start, *bodies])  # one trip to the event loop
            return
        send_now = async_to_sync(send)
        send_now(start)
        for part in response:  # files are read here, in the worker thread
            for chunk, _last in self.chunk_bytes(part):
                send_now({"type": "http.response.body", "body": chunk, "more_body": True})
        send_now({"type": "http.response.body", "body": b"", "more_body": False})
