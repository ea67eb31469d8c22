"""The verb walker both providers share: fetch a document, run its verbs, follow redirects,
and the outbound ringing sequence. Subclasses supply field names and verb handlers."""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

from .xmldoc import BadDocument, Verb, parse_document

if TYPE_CHECKING:
    from .calls import EmulatedCall


class CallEnded(Exception):
    def __init__(self, status: str = "completed", source: str = "caller") -> None:
        super().__init__(status)
        self.status = status
        self.source = source


class Redirected(Exception):
    def __init__(self, url: str, method: str = "POST", twiml: str = "") -> None:
        super().__init__(url)
        self.url = url
        self.method = method
        self.twiml = twiml


class Document:
    def __init__(self, verbs: list[Verb], url: str) -> None:
        self.verbs = verbs
        self.url = url


def billed(seconds: int) -> int:
    return 0 if seconds <= 0 else int(math.ceil(seconds / 60.0) * 60)


class Engine:
    provider = ""

    def __init__(self, call: EmulatedCall) -> None:
        self.call = call
        self.carrier = call.carrier
        self.account = call.account

    # --- hooks --------------------------------------------------------------------------------

    def base_fields(self) -> dict[str, str]:
        raise NotImplementedError

    def incoming_fields(self) -> dict[str, str]:
        raise NotImplementedError

    def answer_fields(self, machine: bool) -> dict[str, str]:
        raise NotImplementedError

    def progress(self, event: str) -> None:
        """Outbound progress callbacks (initiated, ringing, answered)."""

    def final_callback(self, status: str, source: str) -> None:
        raise NotImplementedError

    def machine_hangs_up(self) -> bool:
        return False

    # --- running ------------------------------------------------------------------------------

    def url(self, path: str) -> str:
        return self.carrier.public_base_url + path

    def run_inbound(self) -> None:
        call = self.call
        try:
            doc = call._fetch("incoming", self.url(self.account.incoming_path), self.incoming_fields())
            self.follow(doc)
            raise CallEnded("completed", "app")
        except CallEnded as end:
            call._finish(end.status, end.source)

    def run_outbound(self) -> None:
        call = self.call
        opts = call.options
        try:
            self.progress("initiated")
            call._changed(state="ringing")
            if call.phone is not None:
                call.phone._notify()
            self.progress("ringing")
            deadline = time.monotonic() + call.scaled(opts.get("ring_timeout", 60))
            while True:
                try:
                    event = call._wait(
                        {"answer", "reject", "time_out"}, timeout=max(0.0, deadline - time.monotonic())
                    )
                    break
                except Redirected as moved:  # a new URL for a leg that has not answered yet
                    opts["answer_url"], opts["answer_method"], opts["twiml"] = (
                        moved.url,
                        moved.method,
                        moved.twiml,
                    )
            if event is None or event[0] == "time_out":
                raise CallEnded("no-answer", "callee")
            if event[0] == "reject":
                raise CallEnded("busy", "callee")
            machine = bool(event[1].get("machine"))
            detection = opts.get("machine_detection", "")
            call._changed(
                answered_at=time.time(), state="in-progress", answered_by=self.answered_by(machine, detection)
            )
            self.progress("answered")
            if machine and self.machine_hangs_up():
                raise CallEnded("completed", "machine")
            if opts.get("twiml"):
                doc = self.inline(opts["twiml"])
            else:
                doc = call._fetch(
                    "answer",
                    opts["answer_url"],
                    self.answer_fields(machine),
                    opts.get("answer_method", "POST"),
                )
            self.after_answer(machine)
            self.follow(doc)
            raise CallEnded("completed", "app")
        except CallEnded as end:
            call._finish(end.status, end.source)

    def answered_by(self, machine: bool, detection: str) -> str:
        return ""

    def after_answer(self, machine: bool) -> None:
        """Hook for asynchronous machine-detection callbacks."""

    def inline(self, xml: str) -> Document:
        try:
            return Document(parse_document(xml), "")
        except BadDocument as exc:
            self.call._app_error(f"inline XML is bad: {exc}")
            raise

    def follow(self, doc: Document | None) -> None:
        while doc is not None:
            try:
                doc = self.execute(doc)
            except Redirected as moved:
                doc = self.redirected(moved)

    def redirected(self, moved: Redirected) -> Document | None:
        if moved.twiml:
            return self.inline(moved.twiml)
        self.call._event("redirected", moved.url)
        return self.call._fetch("redirect", moved.url, self.base_fields(), moved.method)

    def execute(self, doc: Document) -> Document | None:
        """Run the verbs in order; a verb that moves the call elsewhere returns the next document."""
        call = self.call
        for verb in doc.verbs:
            call._check_interrupts()
            handler = getattr(self, "verb_" + verb.name, None)
            if handler is None:
                call._event("unsupported", verb.name)
                continue
            if not call.is_answered and verb.name not in self.not_answering:
                call._changed(answered_at=time.time(), state="in-progress")
            result = handler(verb, doc)
            if isinstance(result, Document):
                return result
        return None

    not_answering = frozenset({"Reject", "Hangup", "PreAnswer"})

    # --- shared verb pieces -------------------------------------------------------------------

    def speak(self, verb: Verb, kind: str) -> None:
        """Say/Speak/Play: record what the caller hears (a loop of 0 = for ever counts once)."""
        loop = verb.int_attr("loop", 1)
        times = 1 if loop <= 0 else min(loop, 10)
        for _ in range(times):
            if kind == "say":
                self.call._say("say", verb.text, verb.attr("language", "en-US"))
            else:
                self.call._say("play", verb.text)

    def wait_digits(self, verb: Verb, prompts: list[Verb], timeout_s: float) -> str | None:
        """Play the prompts, then listen; returns the digits or None when nothing was pressed."""
        call = self.call
        for child in prompts:
            handler = getattr(self, "verb_" + child.name, None)
            if handler is not None and child.name in self.prompt_verbs:
                handler(child, None)
        gather_id = f"{call.sid}-{time.monotonic_ns()}"
        call._changed(gather={"id": gather_id, "verb": verb.name, "attrs": dict(verb.attrs)})
        try:
            event = call._wait({"digits", "no_input"}, timeout=call.scaled(timeout_s))
        finally:
            call._changed(gather=None)
        if event is None or event[0] == "no_input":
            call._event("gather_timeout")
            return None
        digits = event[1]["digits"]
        call._event("digits", digits)
        return digits

    prompt_verbs: frozenset[str] = frozenset()

    def wait_recording(self, verb: Verb, silence_timeout: float) -> tuple[int, str] | None:
        """Wait for the test to speak; returns (seconds, finished_on) or None for silence."""
        call = self.call
        record_id = f"{call.sid}-{time.monotonic_ns()}"
        call._changed(recording={"id": record_id, "verb": verb.name, "attrs": dict(verb.attrs)})
        try:
            event = call._wait({"record"}, timeout=call.scaled(silence_timeout) if silence_timeout else None)
        finally:
            call._changed(recording=None)
        if event is None:
            return None
        seconds = min(event[1]["seconds"], verb.int_attr("maxLength", 3600) or 3600)
        call._event("recorded", seconds)
        return seconds, "#"

    def hold_fields(self) -> dict[str, Any]:
        return {}
