"""/ws/events/ over the real Redis channel layer."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from llamenos.asgi import application
from llamenos.events import ADMINS_GROUP, volunteer_group

ORIGIN = (b"origin", b"http://testserver")


@database_sync_to_async
def session_cookie_for(user) -> bytes:
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}".encode()


def communicator(*headers: tuple[bytes, bytes]) -> WebsocketCommunicator:
    return WebsocketCommunicator(application, "/ws/events/", headers=list(headers))


def test_the_suite_uses_the_redis_channel_layer():
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "channels_redis.core.RedisChannelLayer"


@pytest.mark.django_db(transaction=True)
async def test_logged_in_volunteer_connects_and_receives_their_events(volunteer_user):
    cookie = await session_cookie_for(volunteer_user)
    socket = communicator(ORIGIN, (b"cookie", cookie))

    connected, _ = await socket.connect(timeout=5)
    assert connected
    assert await socket.receive_json_from(timeout=5) == {
        "type": "hello",
        "user": volunteer_user.pk,
        "admin": False,
    }

    await get_channel_layer().group_send(
        volunteer_group(volunteer_user.pk), {"type": "call.ringing", "call": 7}
    )
    assert await socket.receive_json_from(timeout=5) == {"type": "call.ringing", "call": 7}

    await get_channel_layer().group_send(ADMINS_GROUP, {"type": "presence", "on_shift": 3})
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_admin_also_joins_the_admins_group(admin_user):
    socket = communicator(ORIGIN, (b"cookie", await session_cookie_for(admin_user)))
    assert (await socket.connect(timeout=5))[0]
    await socket.receive_json_from(timeout=5)

    await get_channel_layer().group_send(ADMINS_GROUP, {"type": "presence", "on_shift": 3})
    assert await socket.receive_json_from(timeout=5) == {"type": "presence", "on_shift": 3}
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_anonymous_socket_is_refused():
    socket = communicator(ORIGIN)
    connected, code = await socket.connect(timeout=5)
    assert not connected
    assert code == 4401


@pytest.mark.django_db(transaction=True)
async def test_foreign_origin_is_refused_even_with_a_session(volunteer_user):
    socket = communicator(
        (b"origin", b"https://evil.example"), (b"cookie", await session_cookie_for(volunteer_user))
    )
    connected, _ = await socket.connect(timeout=5)
    assert not connected
