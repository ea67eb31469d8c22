"""Where parties meet: Twilio queues (<Enqueue> / <Dial><Queue>) and conference rooms (Plivo
<Conference>; a Twilio queue bridge is a two-member room too)."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from .accounts import plivo_uuid, twilio_sid

if TYPE_CHECKING:
    from .calls import EmulatedCall


class Queue:
    """A Twilio queue: callers wait in order; <Dial><Queue> takes the first one."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sid = twilio_sid("QU")
        self.waiting: list[EmulatedCall] = []
        self.lock = threading.Lock()

    def position(self, call: EmulatedCall) -> int:
        with self.lock:
            return self.waiting.index(call) + 1 if call in self.waiting else 0

    def size(self) -> int:
        with self.lock:
            return len(self.waiting)


class Room:
    """A set of parties that hear each other once ``started``. Ending it tells every other member."""

    def __init__(self, name: str, *, started: bool = False) -> None:
        self.name = name
        self.uuid = plivo_uuid()
        self.members: list[EmulatedCall] = []
        self.member_ids: dict[str, str] = {}
        self.started = started
        self.started_at: float | None = time.time() if started else None
        self.ended = False
        self.ended_at: float | None = None
        self.lock = threading.Lock()
        self._next_member = 1

    def join(self, call: EmulatedCall, *, start: bool) -> tuple[str, list[EmulatedCall]]:
        """Add ``call``; returns its member id and the members to tell that the room started/grew."""
        with self.lock:
            member_id = str(self._next_member)
            self._next_member += 1
            self.members.append(call)
            self.member_ids[call.sid] = member_id
            call.room = self
            if start and not self.started:
                self.started = True
                self.started_at = time.time()
            others = [m for m in self.members if m is not call]
            return member_id, others if self.started else []

    def leave(self, call: EmulatedCall, *, end: bool) -> list[EmulatedCall]:
        """Remove ``call``; with ``end`` (or when it empties) the room ends. Returns members to tell."""
        with self.lock:
            if call in self.members:
                self.members.remove(call)
            if call.room is self:
                call.room = None
            if self.ended:
                return []
            if end or not self.members:
                self.ended = True
                self.ended_at = time.time()
                return list(self.members)
            return []

    @property
    def duration_seconds(self) -> int:
        if self.started_at is None:
            return 0
        return int((self.ended_at or time.time()) - self.started_at)
