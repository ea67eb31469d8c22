"""One emulated call leg: its state, transcript and the thread that follows the app's XML.

The provider-specific parts (field names, verbs) live in twilio_engine.py and plivo_engine.py;
this module holds what both share: the inbox a test (or the REST API, or the other party of a
bridge) drops events into, the waits, the webhook fetches and the end-of-call bookkeeping.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from .accounts import TWILIO, Account
from .engine import CallEnded, Document, Redirected
from .plivo_engine import PlivoEngine
from .twilio_engine import TwilioEngine
from .webhooks import Webhook, resolve, webhook_send
from .xmldoc import BadDocument, parse_document

if TYPE_CHECKING:
    from .carrier import Carrier
    from .phones import SimulatedPhone
    from .rooms import Room

logger = logging.getLogger(__name__)

FINAL_STATES = frozenset({"completed", "busy", "no-answer", "canceled", "failed"})
# Events a test sends for the verb that is running right now; stale ones are dropped.
MOMENT_EVENTS = frozenset({"digits", "no_input", "record", "advance_hold"})
INTERRUPTS = frozenset({"hangup", "end", "redirect"})


class EmulatedCall:
    """A call leg. Tests drive it with press/no_input/record/hangup and read state/transcript."""

    def __init__(
        self,
        carrier: Carrier,
        account: Account,
        *,
        sid: str,
        direction: str,
        from_: str,
        to: str,
        phone: SimulatedPhone | None = None,
        options: dict[str, Any] | None = None,
    ) -> None:
        self.carrier = carrier
        self.account = account
        self.provider = account.provider
        self.sid = sid
        self.request_uuid = sid
        self.direction = direction  # "inbound" | "outbound"
        self.from_ = from_
        self.to = to
        self.phone = phone
        self.options = options or {}
        self.state = "ringing" if direction == "inbound" else "queued"
        self.transcript: list[tuple] = []
        self.events: list[tuple] = []
        self.gather: dict[str, Any] | None = None
        self.recording: dict[str, Any] | None = None
        self.hold: dict[str, Any] | None = None
        self.room: Room | None = None
        self.answered_by = ""
        self.created_at = time.time()
        self.answered_at: float | None = None
        self.ended_at: float | None = None
        self.extra_seconds = 0  # virtual time added by advance_hold
        self.end_source = ""
        self._cond = threading.Condition()
        self._inbox: deque[tuple[str, dict[str, Any]]] = deque()
        self._sequence = 0
        self._finished = False
        self._thread: threading.Thread | None = None
        self.engine = (TwilioEngine if self.provider == TWILIO else PlivoEngine)(self)

    def __repr__(self) -> str:
        return f"<EmulatedCall {self.provider} {self.sid} {self.direction} {self.state}>"

    # --- what tests read ---------------------------------------------------------------------

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def is_answered(self) -> bool:
        return self.answered_at is not None

    @property
    def said(self) -> list[str]:
        return [entry[1] for entry in self.transcript if entry[0] == "say"]

    @property
    def webhooks(self) -> list[Webhook]:
        return [w for w in self.carrier.webhooks if w.call_sid == self.sid]

    @property
    def duration_seconds(self) -> int:
        if self.answered_at is None:
            return 0
        end = self.ended_at or time.time()
        return int(end - self.answered_at) + self.extra_seconds

    def _wait_until(self, predicate, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"{self!r}: no {what} within {timeout}s; transcript tail {self.transcript[-3:]!r}, "
                        f"last events {self.events[-3:]!r}"
                    )
                self._cond.wait(remaining)

    def wait_for_state(self, *states: str, timeout: float = 5) -> EmulatedCall:
        self._wait_until(lambda: self.state in states, timeout, f"state in {states}")
        return self

    def wait_for_gather(self, timeout: float = 5) -> dict[str, Any]:
        self._wait_until(lambda: self.gather is not None or self.is_final, timeout, "Gather/GetDigits")
        if self.gather is None:
            raise TimeoutError(f"{self!r} ended before a Gather; transcript {self.transcript!r}")
        return self.gather

    def wait_for_say(self, text: str, timeout: float = 5) -> EmulatedCall:
        """Wait until something said (or a played URL) contains ``text``."""
        self._wait_until(
            lambda: any(text in str(e[1]) for e in self.transcript), timeout, f"speech containing {text!r}"
        )
        return self

    def wait_for_record(self, timeout: float = 5) -> dict[str, Any]:
        self._wait_until(lambda: self.recording is not None or self.is_final, timeout, "Record")
        if self.recording is None:
            raise TimeoutError(f"{self!r} ended before a Record; transcript {self.transcript!r}")
        return self.recording

    def wait_for_hold(self, timeout: float = 5) -> dict[str, Any]:
        self._wait_until(lambda: self.hold is not None or self.is_final, timeout, "hold")
        if self.hold is None:
            raise TimeoutError(f"{self!r} ended before a hold")
        return self.hold

    # --- what tests do -----------------------------------------------------------------------

    def press(self, digits: str, timeout: float = 5) -> None:
        """Key in ``digits`` for the Gather/GetDigits that is (or is about to be) listening."""
        gather = self.wait_for_gather(timeout)
        self._push("digits", digits=str(digits), gather_id=gather["id"])
        self._wait_until(
            lambda: self.gather is None or self.gather["id"] != gather["id"], timeout, "gather to finish"
        )

    def no_input(self, timeout: float = 5) -> None:
        """Let the running Gather/GetDigits time out now (without waiting its real timeout)."""
        gather = self.wait_for_gather(timeout)
        self._push("no_input", gather_id=gather["id"])
        self._wait_until(
            lambda: self.gather is None or self.gather["id"] != gather["id"], timeout, "gather to finish"
        )

    def record(self, duration_seconds: int, timeout: float = 5) -> None:
        """Speak into the running <Record> for ``duration_seconds`` (0 = say nothing)."""
        rec = self.wait_for_record(timeout)
        self._push("record", seconds=int(duration_seconds), record_id=rec["id"])
        self._wait_until(
            lambda: self.recording is None or self.recording["id"] != rec["id"], timeout, "record to finish"
        )

    def advance_hold(self, seconds: int, timeout: float = 5) -> None:
        """Pretend ``seconds`` more passed on hold: the carrier refetches the wait URL (QueueTime grows)."""
        hold = self.wait_for_hold(timeout)
        before = hold["fetches"]
        self._push("advance_hold", seconds=int(seconds))
        self._wait_until(
            lambda: self.hold is not hold or hold["fetches"] > before, timeout, "wait URL refetch"
        )

    def hangup(self) -> None:
        """The party on this leg hangs up."""
        if self.direction == "outbound" and not self.is_answered and self.phone is not None:
            self._push("reject")  # hanging up a ringing phone is declining it
        else:
            self._push(
                "hangup", status="completed", source="caller" if self.direction == "inbound" else "callee"
            )

    # --- REST (called from the carrier's HTTP threads; never block) ---------------------------

    def rest_end(self, status: str) -> str:
        """End the call by REST; returns the status it ends in (as Twilio's answer says it
        at once), or its current one when the request changes nothing."""
        if self.is_final:
            return self.state
        if not self.is_answered:
            self._push("end", status="canceled", source="api")
            return "canceled"
        if status == "completed":
            self._push("hangup", status="completed", source="api")
            return "completed"
        # Twilio: Status=canceled on an answered call does nothing.
        return self.state

    def rest_redirect(self, url: str, method: str = "POST", *, twiml: str = "") -> None:
        if self.is_final:
            return
        self._push("redirect", url=url, method=method, twiml=twiml)

    # --- engine plumbing ---------------------------------------------------------------------

    def _push(self, kind: str, **data: Any) -> None:
        with self._cond:
            self._inbox.append((kind, data))
            self._cond.notify_all()

    def _changed(self, **attrs: Any) -> None:
        with self._cond:
            for name, value in attrs.items():
                setattr(self, name, value)
            if "state" in attrs:
                self.events.append(("state", attrs["state"]))
            self._cond.notify_all()

    def _event(self, *entry: Any) -> None:
        with self._cond:
            self.events.append(entry)
            self._cond.notify_all()

    def _say(self, *entry: Any) -> None:
        with self._cond:
            self.transcript.append(entry)
            self._cond.notify_all()

    def _wait(
        self, accept: set[str], timeout: float | None = None, room: Room | None = None
    ) -> tuple[str, dict] | None:
        """Next accepted event; interrupts raise; None on timeout (None = wait for ever)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                kept: deque = deque()
                found = None
                while self._inbox:
                    kind, data = self._inbox.popleft()
                    if found is None and kind in INTERRUPTS:
                        self._inbox.extendleft(reversed(kept))
                        self._raise(kind, data)
                    if (
                        found is None
                        and kind in accept
                        and (room is None or data.get("room") in (None, room))
                    ):
                        found = (kind, data)
                        continue
                    if kind in MOMENT_EVENTS:
                        continue
                    kept.append((kind, data))
                self._inbox = kept
                if found is not None:
                    return found
                if deadline is not None:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return None
                    self._cond.wait(remaining)
                else:
                    self._cond.wait()

    def _raise(self, kind: str, data: dict) -> None:
        if kind == "redirect":
            raise Redirected(data["url"], data.get("method", "POST"), data.get("twiml", ""))
        raise CallEnded(data.get("status", "completed"), data.get("source", "caller"))

    def _check_interrupts(self) -> None:
        self._wait(set(), timeout=0)

    def scaled(self, seconds: float) -> float:
        return max(0.0, seconds * self.carrier.time_scale)

    def _post(
        self, kind: str, url: str, fields: dict[str, str], method: str = "POST", base: str = ""
    ) -> Webhook:
        return webhook_send(
            self.carrier,
            account=self.account,
            kind=kind,
            url=resolve(base, url),
            fields=fields,
            method=method,
            call_sid=self.sid,
        )

    def _fetch(
        self, kind: str, url: str, fields: dict[str, str], method: str = "POST", base: str = ""
    ) -> Document | None:
        """POST to the app and parse its XML; a failed or unparsable answer ends the call like the carrier
        does (Twilio: "an application error has occurred", error 11200/12100)."""
        hook = self._post(kind, url, fields, method, base)
        if not hook.ok:
            self._app_error(f"{kind} webhook answered {hook.status or hook.error}")
            return None
        try:
            verbs = parse_document(hook.body)
        except BadDocument as exc:
            self._app_error(f"{kind} webhook returned bad XML: {exc}")
            return None
        return Document(verbs, resolve(base, url))

    def _app_error(self, message: str) -> None:
        self._event("error", message)
        self._say("error", message)
        raise CallEnded("completed" if self.is_answered else "failed", source="error")

    def _start(self, target) -> None:
        self._thread = threading.Thread(
            target=self._guard, args=(target,), name=f"call-{self.sid[:10]}", daemon=True
        )
        self._thread.start()

    def _guard(self, target) -> None:
        try:
            target()
        except Exception:
            logger.exception("emulated call %s crashed", self.sid)
            self._event("error", "emulator crashed; see log")
            if not self.is_final:
                self._finish("failed", "error")

    def _finish(self, status: str, source: str) -> None:
        """Mark the leg ended, send its final status callback, then publish the final state (so a
        test that saw the state can assert on the callback)."""
        with self._cond:
            if self._finished:
                return
            self._finished = True
        self._changed(ended_at=time.time(), end_source=source, gather=None, recording=None, hold=None)
        try:
            self.engine.final_callback(status, source)
        finally:
            self._changed(state=status)
            if self.phone is not None:
                self.phone._notify()


def twilio_call_json(call: EmulatedCall, *, state: str = "") -> dict[str, Any]:
    """The call resource; ``state`` is one it is moving to (the call's thread applies it)."""
    from .rest import rfc2822

    acc = call.account.account_id
    state = state or call.state
    status = state if state != "conference" else "in-progress"
    # Talking, or a caller on hold (the emulator's "queued"): to Twilio both are in-progress.
    if status == "bridged" or (status == "queued" and call.is_answered):
        status = "in-progress"
    return {
        "sid": call.sid,
        "account_sid": acc,
        "to": call.to,
        "to_formatted": call.to,
        "from": call.from_,
        "from_formatted": call.from_,
        "status": status,
        "direction": "inbound" if call.direction == "inbound" else "outbound-api",
        "api_version": "2010-04-01",
        "answered_by": call.answered_by or None,
        "caller_name": None,
        "date_created": rfc2822(call.created_at),
        "date_updated": rfc2822(time.time()),
        "start_time": rfc2822(call.answered_at),
        "end_time": rfc2822(call.ended_at),
        "duration": str(call.duration_seconds) if state in FINAL_STATES else None,
        "parent_call_sid": None,
        "forwarded_from": None,
        "group_sid": None,
        "phone_number_sid": None,
        "price": None,
        "price_unit": "USD",
        "queue_time": "0",
        "trunk_sid": None,
        "annotation": None,
        "uri": f"/2010-04-01/Accounts/{acc}/Calls/{call.sid}.json",
        "subresource_uris": {"recordings": f"/2010-04-01/Accounts/{acc}/Calls/{call.sid}/Recordings.json"},
    }


EmulatedCall.twilio_json = twilio_call_json  # type: ignore[attr-defined]
