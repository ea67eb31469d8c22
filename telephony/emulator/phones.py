"""Simulated phones: where outbound legs ring and outbound SMS land."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .calls import EmulatedCall
    from .messages import EmulatedMessage


class SimulatedPhone:
    """A volunteer's (or caller's) handset. Tests answer, reject or ignore its ringing legs."""

    def __init__(self, number: str) -> None:
        self.number = number
        self.calls: list[EmulatedCall] = []
        self.messages: list[EmulatedMessage] = []
        self._cond = threading.Condition()

    def __repr__(self) -> str:
        return f"<SimulatedPhone {self.number} calls={len(self.calls)}>"

    def _notify(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _add_call(self, call: EmulatedCall) -> None:
        with self._cond:
            self.calls.append(call)
            self._cond.notify_all()

    def _add_message(self, message: EmulatedMessage) -> None:
        with self._cond:
            self.messages.append(message)
            self._cond.notify_all()

    @property
    def ringing(self) -> list[EmulatedCall]:
        return [c for c in self.calls if c.state == "ringing"]

    @property
    def current_call(self) -> EmulatedCall | None:
        """The live answered leg if any, else the most recent leg."""
        live = [c for c in self.calls if c.is_answered and not c.is_final]
        if live:
            return live[-1]
        return self.calls[-1] if self.calls else None

    def _wait(self, predicate, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = predicate()
                if found:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{self!r}: no {what} within {timeout}s")
                self._cond.wait(min(remaining, 0.2))

    def wait_ringing(self, timeout: float = 5) -> EmulatedCall:
        """The oldest leg ringing on this phone."""
        return self._wait(lambda: (self.ringing or [None])[0], timeout, "ringing call")

    def answer(self, as_machine: bool = False, timeout: float = 5) -> EmulatedCall:
        """Pick up (a person, or voicemail when ``as_machine``); returns the answered leg."""
        call = self.wait_ringing(timeout)
        call._push("answer", machine=as_machine)
        call.wait_for_state(
            "in-progress", "bridged", "queued", "conference", *sorted(_FINAL), timeout=timeout
        )
        return call

    def reject(self, timeout: float = 5) -> EmulatedCall:
        """Decline: the carrier reports busy."""
        call = self.wait_ringing(timeout)
        call._push("reject")
        call.wait_for_state(*_FINAL, timeout=timeout)
        return call

    def time_out(self, timeout: float = 5) -> EmulatedCall:
        """Let it ring out now: the carrier reports no-answer."""
        call = self.wait_ringing(timeout)
        call._push("time_out")
        call.wait_for_state(*_FINAL, timeout=timeout)
        return call

    def wait_message(self, count: int = 1, timeout: float = 5) -> EmulatedMessage:
        """The ``count``-th SMS received (1 = first)."""
        return self._wait(
            lambda: self.messages[count - 1] if len(self.messages) >= count else None, timeout, "SMS"
        )


_FINAL = frozenset({"completed", "busy", "no-answer", "canceled", "failed"})
