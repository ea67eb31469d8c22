"""Live events for browsers: group names, event names, and sending from sync code after commit.

Payloads are JSON ``{"type": ..., ...}`` and never carry a caller's number.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

ADMINS_GROUP = "admins"
EVENT_TYPES = (
    "call.ringing",
    "call.answered",
    "call.ended",
    "call.voicemail",
    "presence",
    "shift.changed",
)


def volunteer_group(user_id: int) -> str:
    return f"volunteer.{user_id}"


def event_send(*, group: str, event_type: str, **payload: Any) -> None:
    """Send to a group once the surrounding transaction commits (at once outside one)."""
    events_send(groups=[group], event_type=event_type, **payload)


def events_send(*, groups: Iterable[str], event_type: str, **payload: Any) -> None:
    """Send one event to several groups once the transaction commits (at once outside one), in
    one trip to the event loop. A channel layer that is down is logged, never a failed request."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown live event type {event_type!r}")
    message = {"type": event_type, **payload}
    groups = list(dict.fromkeys(groups))

    async def send_all() -> None:
        layer = get_channel_layer()
        await asyncio.gather(*(layer.group_send(group, message) for group in groups))

    if groups:
        transaction.on_commit(async_to_sync(send_all), robust=True)
