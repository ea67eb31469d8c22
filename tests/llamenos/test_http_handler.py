"""llamenos/http.py: HTTP under ASGI with each request's middleware chain and view in one
worker thread, over a real event loop (asgiref's ApplicationCommunicator), Redis and PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlencode

import pytest
from asgiref.testing import ApplicationCommunicator
from channels.layers import get_channel_layer
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

from llamenos.http import ThreadedHTTPHandler
from telephony.emulator.signing import twilio_headers

from ..telephony.conftest import twilio_account  # noqa: F401 (the fixture)
from ..telephony.test_webhooks import TWILIO_TOKEN, incoming_fields

pytestmark = pytest.mark.django_db(transaction=True)  # the worker threads have connections of their own


def _scope(method: str, path: str, *, query: bytes = b"", headers=()) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 80),
    }


async def _request(app, method: str, path: str, *, body: bytes = b"", query: bytes = b"", headers=()):
    """Send one request; returns (status, headers as a dict of lists, body)."""
    communicator = ApplicationCommunicator(app, _scope(method, path, query=query, headers=headers))
    await communicator.send_input({"type": "http.request", "body": body})
    start = await communicator.receive_output(10)
    assert start["type"] == "http.response.start"
    chunks = []
    while True:
        message = await communicator.receive_output(10)
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    await communicator.wait(10)
    found: dict[str, list[str]] = {}
    for name, value in start["headers"]:
        found.setdefault(name.decode().lower(), []).append(value.decode("latin1"))
    return start["status"], found, b"".join(chunks)


@pytest.fixture
def app():
    return ThreadedHTTPHandler(threads=4)


async def test_a_page_goes_through_every_middleware_in_sync_mode(app):
    status, headers, body = await _request(app, "GET", "/login/")
    assert status == 200
    assert b"<form" in body
    # Security headers and the CSRF cookie: the whole chain ran, in the worker thread.
    assert "content-security-policy" in headers
    assert headers["x-frame-options"] == ["DENY"]
    assert any(cookie.startswith(django_settings.CSRF_COOKIE_NAME + "=") for cookie in headers["set-cookie"])


async def test_a_signed_webhook_is_answered_and_a_forged_one_refused(app, twilio_account):  # noqa: F811
    fields = incoming_fields(call_sid="CA" + "7" * 32)
    body = urlencode(fields).encode()
    url = django_settings.PUBLIC_BASE_URL + "/telephony/incoming"
    signed = [
        (b"content-type", b"application/x-www-form-urlencoded"),
        *(
            (name.lower().encode(), value.encode())
            for name, value in twilio_headers(TWILIO_TOKEN, url, fields).items()
        ),
    ]
    status, headers, answer = await _request(app, "POST", "/telephony/incoming", body=body, headers=signed)
    assert status == 200, answer
    assert "xml" in headers["content-type"][0]
    assert b"<Response>" in answer

    forged = [(b"content-type", b"application/x-www-form-urlencoded"), (b"x-twilio-signature", b"forged")]
    status, _, _ = await _request(app, "POST", "/telephony/incoming", body=body, headers=forged)
    assert status == 403


async def test_a_static_file_is_streamed_whole_from_the_worker_thread(app):
    status, headers, body = await _request(app, "GET", "/static/css/app.css")
    assert status == 200
    assert headers["content-type"][0].startswith("text/css")
    assert body == (Path(django_settings.STATIC_ROOT) / "css" / "app.css").read_bytes()


async def test_requests_are_served_at_the_same_time_on_different_threads(app, settings):
    settings.ROOT_URLCONF = "tests.llamenos.http_urls"
    # Each request returns only once the other is being served: one thread for both would time out.
    first, second = await asyncio.gather(_request(app, "GET", "/meet"), _request(app, "GET", "/meet"))
    assert first[0] == second[0] == 200
    names = {first[2], second[2]}
    assert len(names) == 2
    assert all(name.startswith(b"http") for name in names)


async def test_live_events_sent_by_a_view_reach_the_channel_layer(app, settings):
    settings.ROOT_URLCONF = "tests.llamenos.http_urls"
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("volunteer-test-http", channel)
    try:
        status, _, _ = await _request(app, "GET", "/announce", query=b"group=volunteer-test-http&call=42")
        assert status == 200
        assert await asyncio.wait_for(layer.receive(channel), 5) == {"type": "call.ringing", "call": 42}
    finally:
        await layer.group_discard("volunteer-test-http", channel)


async def test_work_a_view_defers_runs_only_after_its_response_was_sent(app, settings, caplog):
    from . import http_urls

    settings.ROOT_URLCONF = "tests.llamenos.http_urls"
    http_urls.released.clear()
    http_urls.ran.clear()
    communicator = ApplicationCommunicator(app, _scope("GET", "/answer-then-queue", query=b"name=ring"))
    await communicator.send_input({"type": "http.request", "body": b""})
    # The whole answer arrives while the queued task (eager here) still waits to be released:
    # had it run before the answer was sent, it would have given up waiting and noted nothing.
    start = await communicator.receive_output(10)
    body = await communicator.receive_output(10)
    assert start["status"] == 200
    assert body["body"] == b"answered"
    assert http_urls.ran == []
    http_urls.released.set()
    await communicator.wait(10)
    assert http_urls.ran == ["ring"]
    assert "work deferred until after the response failed" in caplog.text
    assert "the broker is down" in caplog.text


def test_outside_the_server_deferred_work_runs_at_once():
    from llamenos.deferred import after_response, deferred_until_exit

    ran = []
    after_response(lambda: ran.append("now"))
    assert ran == ["now"]
    with deferred_until_exit():
        after_response(lambda: ran.append("later"))
        assert ran == ["now"]
    assert ran == ["now", "later"]


async def test_a_client_gone_before_its_body_arrived_gets_nothing_and_breaks_nothing(app):
    communicator = ApplicationCommunicator(app, _scope("POST", "/telephony/incoming"))
    await communicator.send_input({"type": "http.disconnect"})
    await communicator.wait(5)
    assert await communicator.receive_nothing(0.1)


def test_zero_worker_threads_is_refused_at_start_up(settings):
    settings.HTTP_WORKER_THREADS = 0
    with pytest.raises(ImproperlyConfigured, match="HTTP_WORKER_THREADS"):
        ThreadedHTTPHandler()


def test_the_server_process_hands_the_gil_over_at_the_configured_interval(settings):
    import sys

    before = sys.getswitchinterval()
    settings.HTTP_GIL_SWITCH_INTERVAL = 0.002
    try:
        ThreadedHTTPHandler(threads=1)
        assert sys.getswitchinterval() == pytest.approx(0.002)
        settings.HTTP_GIL_SWITCH_INTERVAL = 0
        with pytest.raises(ImproperlyConfigured, match="HTTP_GIL_SWITCH_INTERVAL"):
            ThreadedHTTPHandler(threads=1)
    finally:
        sys.setswitchinterval(before)


async def test_websockets_are_not_served_here(app):
    with pytest.raises(ValueError, match="not websocket"):
        await app({"type": "websocket", "path": "/ws/events/"}, None, None)
