"""Plivo: the fields it posts (numbers without "+") and the Plivo XML elements it follows."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from .accounts import plivo_number, plivo_uuid
from .engine import CallEnded, Document, Engine, Redirected, billed
from .xmldoc import Verb

PLIVO_STATUS = {"canceled": "cancel"}
HANGUP_CAUSE = {
    "completed": "NORMAL_CLEARING",
    "busy": "USER_BUSY",
    "no-answer": "NO_ANSWER",
    "canceled": "ORIGINATOR_CANCEL",
    "failed": "NORMAL_TEMPORARY_FAILURE",
}
HANGUP_SOURCE = {
    "caller": "Caller",
    "callee": "Callee",
    "api": "API Request",
    "app": "Plivo",
    "error": "Error",
    "machine": "Plivo",
}


def _stamp(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S") if ts else ""


class PlivoEngine(Engine):
    provider = "plivo"
    prompt_verbs = frozenset({"Speak", "Play", "Wait"})
    not_answering = frozenset({"Hangup", "PreAnswer"})

    def base_fields(self, event: str = "Redirect") -> dict[str, str]:
        call = self.call
        status = "in-progress" if call.is_answered else "ringing"
        fields = {
            "CallUUID": call.sid,
            "From": plivo_number(call.from_),
            "To": plivo_number(call.to),
            "CallStatus": status,
            "Direction": call.direction,
            "Event": event,
            "BillRate": "0.00850",
            "CallerName": plivo_number(call.from_),
        }
        if call.direction == "outbound":
            fields.update(
                {"RequestUUID": call.request_uuid, "ALegUUID": call.sid, "ALegRequestUUID": call.request_uuid}
            )
        return fields

    def incoming_fields(self) -> dict[str, str]:
        return self.base_fields("StartApp")

    def answer_fields(self, machine: bool) -> dict[str, str]:
        fields = self.base_fields("StartApp")
        # Synchronous detection (no machine_detection_url): the answer URL carries the result.
        # With a machine_detection_url, Plivo answers at once and reports the result there later.
        options = self.call.options
        if options.get("machine_detection") and not options.get("machine_detection_url"):
            fields["Machine"] = "true" if machine else "false"
        return fields

    def machine_hangs_up(self) -> bool:
        return self.call.options.get("machine_detection") == "hangup"

    def answered_by(self, machine: bool, detection: str) -> str:
        return ("machine" if machine else "human") if detection else ""

    def after_answer(self, machine: bool) -> None:
        url = self.call.options.get("machine_detection_url")
        if url and self.call.options.get("machine_detection"):
            fields = self.base_fields("MachineDetection")
            fields["Machine"] = "true" if machine else "false"
            self.call._post("machine", url, fields, self.call.options.get("machine_detection_method", "POST"))

    def progress(self, event: str) -> None:
        opts = self.call.options
        if event == "ringing" and opts.get("ring_url"):
            self.call._post(
                "ring", opts["ring_url"], self.base_fields("Ring"), opts.get("ring_method", "POST")
            )

    def final_callback(self, status: str, source: str) -> None:
        call = self.call
        fields = self.base_fields("Hangup")
        duration = call.duration_seconds
        cause = HANGUP_CAUSE.get(status, "NORMAL_CLEARING")
        if source == "app" and status == "busy":
            cause = "CALL_REJECTED"
        fields.update(
            {
                "CallStatus": PLIVO_STATUS.get(status, status),
                "Duration": str(duration),
                "BillDuration": str(billed(duration)),
                "HangupCause": cause,
                "HangupSource": HANGUP_SOURCE.get(source, "Plivo"),
                "StartTime": _stamp(call.created_at),
                "AnswerTime": _stamp(call.answered_at),
                "EndTime": _stamp(call.ended_at or time.time()),
                "TotalCost": f"{billed(duration) / 60 * 0.0085:.5f}",
            }
        )
        if call.direction == "inbound":
            call._post("status", self.url(self.account.status_path), fields)
        elif call.options.get("status_url"):
            call._post(
                "status", call.options["status_url"], fields, call.options.get("status_method", "POST")
            )

    # --- elements -----------------------------------------------------------------------------

    def verb_Speak(self, verb: Verb, doc: Document | None) -> None:
        self.speak(verb, "say")

    def verb_Play(self, verb: Verb, doc: Document | None) -> None:
        self.speak(verb, "play")

    def verb_Wait(self, verb: Verb, doc: Document | None) -> None:
        self.call._event("pause", verb.int_attr("length", 1))

    def verb_PreAnswer(self, verb: Verb, doc: Document) -> None:
        for child in verb.children:
            if child.name in self.prompt_verbs:
                getattr(self, "verb_" + child.name)(child, doc)

    def verb_Hangup(self, verb: Verb, doc: Document) -> None:
        reason = verb.attr("reason")
        self.call._event("hangup", reason or "")
        if reason in ("rejected", "busy") and not self.call.is_answered:
            raise CallEnded("busy", "app")
        raise CallEnded("completed", "app")

    def verb_Redirect(self, verb: Verb, doc: Document) -> Document | None:
        return self.call._fetch(
            "redirect", verb.text, self.base_fields(), verb.attr("method", "POST"), doc.url
        )

    def verb_GetDigits(self, verb: Verb, doc: Document) -> Document | None:
        attempts = max(1, verb.int_attr("retries", 1))
        digits = None
        for _ in range(attempts):
            digits = self.wait_digits(verb, verb.children, verb.int_attr("timeout", 5))
            if digits is not None:
                break
        if digits is None:
            return None  # no input: Plivo goes on with the next element
        finish = verb.attr("finishOnKey", "#")
        if finish and finish in digits:
            digits = digits[: digits.index(finish)]
        num = verb.int_attr("numDigits", 99)
        fields = self.base_fields()
        fields["Digits"] = digits[:num]
        action = verb.attr("action")
        if not action:
            return None
        if verb.bool_attr("redirect", True):
            return self.call._fetch("action", action, fields, verb.attr("method", "POST"), doc.url)
        self.call._post("action", action, fields, verb.attr("method", "POST"), doc.url)
        return None

    verb_GetInput = verb_GetDigits

    def verb_Record(self, verb: Verb, doc: Document) -> Document | None:
        result = self.wait_recording(verb, verb.int_attr("timeout", 15))
        seconds = 0 if result is None else result[0]
        rec_id = plivo_uuid()
        ext = verb.attr("fileFormat", "mp3")
        fields = self.base_fields()
        fields.update(
            {
                "RecordUrl": f"https://media.plivo.com/v1/Account/{self.account.account_id}/Recording/{rec_id}.{ext}",
                "RecordingID": rec_id,
                "RecordingDuration": str(seconds),
                "RecordingDurationMs": str(seconds * 1000),
                "RecordingStartMs": str(int(time.time() * 1000)),
                "RecordingEndMs": str(int(time.time() * 1000) + seconds * 1000),
            }
        )
        self.call.extra_seconds += seconds
        if verb.attr("callbackUrl"):
            self.call._post(
                "recording", verb.attr("callbackUrl"), fields, verb.attr("callbackMethod", "POST"), doc.url
            )
        action = verb.attr("action")
        if not action:
            return None
        if verb.bool_attr("redirect", True):
            return self.call._fetch("action", action, fields, verb.attr("method", "POST"), doc.url)
        self.call._post("action", action, fields, verb.attr("method", "POST"), doc.url)
        return None

    # --- <Conference>: hold (not started yet) and bridge (started) ----------------------------

    def verb_Conference(self, verb: Verb, doc: Document) -> Document | None:
        call = self.call
        room = self.carrier._room(self.account, verb.text)
        start = verb.bool_attr("startConferenceOnEnter", True)
        end_on_exit = verb.bool_attr("endConferenceOnExit", False)
        member_id, to_tell = room.join(call, start=start)
        for other in to_tell:
            other._push("joined", room=room)
        conf = {"ConferenceName": room.name, "ConferenceUUID": room.uuid, "ConferenceMemberID": member_id}
        self._conference_event(verb, doc, conf, "enter")
        hold = {
            "room": room.name,
            "entered": time.time(),
            "fetches": 0,
            "wait_url": verb.attr("waitSound"),
            "base": doc.url,
        }
        try:
            if not room.started:
                call._changed(hold=hold, state="queued")
                self._wait_sound(hold, verb, conf)
                while not room.started:
                    kind, data = call._wait({"joined", "advance_hold", "bridge_end"}, room=room)
                    if kind == "bridge_end":
                        break
                    if kind == "advance_hold":
                        call.extra_seconds += data["seconds"]
                        hold["offset"] = hold.get("offset", 0) + data["seconds"]
                        self._wait_sound(hold, verb, conf)
                call._changed(hold=None)
            while not room.ended:
                call._changed(state="bridged" if len(room.members) > 1 else "conference")
                kind, _ = call._wait({"joined", "bridge_end", "left"}, room=room)
                if kind == "bridge_end":
                    break
        except (CallEnded, Redirected):
            self._exit(room, verb, doc, conf, end_on_exit, follow=False)
            raise
        return self._exit(room, verb, doc, conf, end_on_exit, follow=True)

    def _exit(
        self, room, verb: Verb, doc: Document, conf: dict, end_on_exit: bool, *, follow: bool
    ) -> Document | None:
        call = self.call
        seconds = room.duration_seconds
        for other in room.leave(call, end=end_on_exit):
            other._push("bridge_end", room=room)
        for other in list(room.members):
            other._push("left", room=room)
        call._changed(hold=None)
        if not call._finished:
            call._changed(state="in-progress")
        self._conference_event(verb, doc, conf, "exit")
        record = {}
        if verb.bool_attr("record", False) and room.started_at:
            rec_id = plivo_uuid()
            ext = verb.attr("recordFileFormat", "mp3")
            record = {
                "RecordUrl": f"https://media.plivo.com/v1/Account/{self.account.account_id}/Recording/{rec_id}.{ext}",
                "RecordingID": rec_id,
                "RecordFile": f"{rec_id}.{ext}",
                "RecordingDuration": str(seconds),
                "RecordingDurationMs": str(seconds * 1000),
            }
            self._conference_event(verb, doc, {**conf, **record}, "record")
        action = verb.attr("action")
        if not action:
            return None
        fields = {**self.base_fields(), **conf, **record}
        if not follow or call._finished:
            call._post("action", action, fields, verb.attr("method", "POST"), doc.url)
            return None
        return call._fetch("action", action, fields, verb.attr("method", "POST"), doc.url)

    def _conference_event(self, verb: Verb, doc: Document, conf: dict, action: str) -> None:
        url = verb.attr("callbackUrl")
        if url:
            fields = {
                **self.base_fields("ConferenceEvent" if action != "record" else "Record"),
                **conf,
                "ConferenceAction": action,
            }
            self.call._post("conference", url, fields, verb.attr("callbackMethod", "POST"), doc.url)

    def _wait_sound(self, hold: dict, verb: Verb, conf: dict) -> None:
        if not hold["wait_url"]:
            return
        fields = {**self.base_fields(), **conf}
        hold["fetches"] += 1
        wait_doc = self.call._fetch(
            "wait", hold["wait_url"], fields, verb.attr("waitSoundMethod", "POST"), hold["base"]
        )
        self.call._changed(hold=hold)
        for wait_verb in wait_doc.verbs:
            if wait_verb.name in self.prompt_verbs:
                getattr(self, "verb_" + wait_verb.name)(wait_verb, wait_doc)
