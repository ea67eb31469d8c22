from __future__ import annotations

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .events import ADMINS_GROUP, EVENT_TYPES, volunteer_group

# 4401/4403: application close codes, "unauthenticated" / "forbidden" in HTTP's spirit.
CLOSE_UNAUTHENTICATED = 4401


class EventsConsumer(AsyncJsonWebsocketConsumer):
    """One socket per logged-in browser; it only listens, the server pushes events."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.groups_joined = [volunteer_group(user.pk)]
        if user.is_admin:
            self.groups_joined.append(ADMINS_GROUP)
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "hello", "user": user.pk, "admin": user.is_admin})

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content, **kwargs) -> None:
        # Browsers talk to the server over HTTP; the socket is push-only.
        if content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def forward(self, event: dict) -> None:
        await self.send_json(event)


# Channels dispatches "call.ringing" to a method named call_ringing; every event is forwarded as is.
for _event_type in EVENT_TYPES:
    setattr(EventsConsumer, _event_type.replace(".", "_"), EventsConsumer.forward)
