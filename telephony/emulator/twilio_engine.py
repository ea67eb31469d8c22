"""Twilio: the fields it posts and the TwiML verbs it follows."""

from __future__ import annotations

import time
from email.utils import formatdate

from .accounts import twilio_sid
from .engine import CallEnded, Document, Engine, Redirected
from .rooms import Room
from .xmldoc import Verb

API_VERSION = "2010-04-01"


class TwilioEngine(Engine):
    provider = "twilio"
    prompt_verbs = frozenset({"Say", "Play", "Pause"})
    not_answering = frozenset({"Reject"})

    def status_word(self) -> str:
        call = self.call
        return (
            call.state
            if call.state in ("ringing", "queued", "in-progress")
            else ("in-progress" if call.is_answered and not call.is_final else call.state)
        )

    def base_fields(self) -> dict[str, str]:
        call = self.call
        fields = {
            "CallSid": call.sid,
            "AccountSid": self.account.account_id,
            "From": call.from_,
            "To": call.to,
            "Caller": call.from_,
            "Called": call.to,
            "CallStatus": "in-progress" if call.is_answered else "ringing",
            "Direction": "inbound" if call.direction == "inbound" else "outbound-api",
            "ApiVersion": API_VERSION,
        }
        if call.answered_by:
            fields["AnsweredBy"] = call.answered_by
        return fields

    def incoming_fields(self) -> dict[str, str]:
        return self.base_fields()

    def answer_fields(self, machine: bool) -> dict[str, str]:
        return self.base_fields()

    def answered_by(self, machine: bool, detection: str) -> str:
        if not detection:
            return ""
        if not machine:
            return "human"
        return "machine_end_beep" if detection == "DetectMessageEnd" else "machine_start"

    def _callback_fields(self, status: str) -> dict[str, str]:
        call = self.call
        call._sequence += 1
        fields = self.base_fields()
        fields.update(
            {
                "CallStatus": status,
                "Timestamp": formatdate(time.time(), usegmt=True),
                "CallbackSource": "call-progress-events",
                "SequenceNumber": str(call._sequence - 1),
            }
        )
        return fields

    def progress(self, event: str) -> None:
        opts = self.call.options
        if opts.get("status_url") and event in opts.get("status_events", []):
            status = "in-progress" if event == "answered" else event
            self.call._post(
                "status", opts["status_url"], self._callback_fields(status), opts.get("status_method", "POST")
            )

    def final_callback(self, status: str, source: str) -> None:
        call = self.call
        fields = self._callback_fields(status)
        fields["CallDuration"] = str(call.duration_seconds)
        fields["Duration"] = str((call.duration_seconds + 59) // 60)
        if call.direction == "inbound":
            call._post("status", self.url(self.account.status_path), fields)
            return
        opts = call.options
        events = opts.get("status_events") or ["completed"]
        if opts.get("status_url") and "completed" in events:
            call._post("status", opts["status_url"], fields, opts.get("status_method", "POST"))

    # --- verbs --------------------------------------------------------------------------------

    def verb_Say(self, verb: Verb, doc: Document | None) -> None:
        self.speak(verb, "say")

    def verb_Play(self, verb: Verb, doc: Document | None) -> None:
        self.speak(verb, "play")

    def verb_Pause(self, verb: Verb, doc: Document | None) -> None:
        self.call._event("pause", verb.int_attr("length", 1))

    def verb_Hangup(self, verb: Verb, doc: Document) -> None:
        raise CallEnded("completed", "app")

    def verb_Reject(self, verb: Verb, doc: Document) -> None:
        self.call._event("rejected", verb.attr("reason", "rejected"))
        raise CallEnded("completed" if self.call.is_answered else "busy", "app")

    def verb_Leave(self, verb: Verb, doc: Document) -> None:
        self.call._event("leave_outside_queue")  # <Leave> only means something in a waitUrl document

    def verb_Redirect(self, verb: Verb, doc: Document) -> Document | None:
        return self.call._fetch(
            "redirect", verb.text, self.base_fields(), verb.attr("method", "POST"), doc.url
        )

    def verb_Gather(self, verb: Verb, doc: Document) -> Document | None:
        digits = self.wait_digits(verb, verb.children, verb.int_attr("timeout", 5))
        num = verb.int_attr("numDigits", 0)
        finish = verb.attr("finishOnKey", "#")
        fields = self.base_fields()
        if digits is None:
            if not verb.bool_attr("actionOnEmptyResult", False):
                return None
            fields["Digits"] = ""
        else:
            if finish and finish in digits:
                digits = digits[: digits.index(finish)]
                fields["FinishedOnKey"] = finish
            fields["Digits"] = digits[:num] if num else digits
        action = verb.attr("action") or doc.url
        return self.call._fetch("action", action, fields, verb.attr("method", "POST"), doc.url)

    def verb_Record(self, verb: Verb, doc: Document) -> Document | None:
        result = self.wait_recording(verb, verb.int_attr("timeout", 5))
        if result is None or result[0] == 0:
            # Twilio does not request the action URL for an empty recording; the document goes on.
            self.call._event("empty_recording")
            return None
        seconds, finished_on = result
        sid = twilio_sid("RE")
        fields = self.base_fields()
        fields.update(
            {
                "RecordingSid": sid,
                "RecordingDuration": str(seconds),
                "Digits": finished_on,
                "RecordingUrl": f"https://api.twilio.com/{API_VERSION}/Accounts/{self.account.account_id}/Recordings/{sid}",
            }
        )
        self.call.extra_seconds += seconds
        action = verb.attr("action") or doc.url
        return self.call._fetch("action", action, fields, verb.attr("method", "POST"), doc.url)

    # --- hold: <Enqueue> ----------------------------------------------------------------------

    def verb_Enqueue(self, verb: Verb, doc: Document) -> Document | None:
        call = self.call
        queue = self.carrier._queue(self.account, verb.text)
        hold = {
            "room": verb.text,
            "queue_sid": queue.sid,
            "entered": time.time(),
            "fetches": 0,
            "wait_url": verb.attr("waitUrl"),
            "base": doc.url,
        }
        with queue.lock:
            queue.waiting.append(call)
        call._changed(hold=hold, state="queued")
        result, bridged_at = "hangup", None
        try:
            result = self._hold_wait_doc(hold, verb)
            while result is None:
                kind, data = call._wait({"bridged", "advance_hold"})
                if kind == "advance_hold":
                    call.extra_seconds += data["seconds"]
                    hold["offset"] = hold.get("offset", 0) + data["seconds"]
                    result = self._hold_wait_doc(hold, verb)
                    continue
                bridged_at = time.time()
                hold["queue_time"] = self._queue_time(hold)
                call._changed(state="bridged")
                call._wait({"bridge_end"}, room=data["room"])
                result = "bridged"
        except CallEnded:
            self._leave_hold(queue, hold)
            self._enqueue_action(verb, doc, hold, "bridged" if bridged_at else "hangup", follow=False)
            raise
        except Redirected:
            self._leave_hold(queue, hold)
            self._enqueue_action(
                verb, doc, hold, "redirected-from-bridged" if bridged_at else "redirected", follow=False
            )
            raise
        self._leave_hold(queue, hold)
        call._changed(state="in-progress")
        return self._enqueue_action(verb, doc, hold, result, follow=True)

    def _queue_time(self, hold: dict) -> int:
        if "queue_time" in hold:
            return hold["queue_time"]
        return int(time.time() - hold["entered"]) + hold.get("offset", 0)

    def _leave_hold(self, queue, hold: dict) -> None:
        call = self.call
        with queue.lock:
            if call in queue.waiting:
                queue.waiting.remove(call)
        if call.room is not None:
            for other in call.room.leave(call, end=True):
                other._push("bridge_end", room=call.room)
        call._changed(hold=None)

    def _hold_wait_doc(self, hold: dict, verb: Verb) -> str | None:
        """Fetch the waitUrl (hold music) and run it; returns "leave" on <Leave>, else None."""
        if not hold["wait_url"]:
            return None
        call = self.call
        queue = self.carrier._queue(self.account, hold["room"])
        fields = self.base_fields()
        fields.update(
            {
                "QueueSid": hold["queue_sid"],
                "QueueTime": str(self._queue_time(hold)),
                "QueuePosition": str(queue.position(call)),
                "CurrentQueueSize": str(queue.size()),
                "AvgQueueTime": "0",
            }
        )
        hold["fetches"] += 1
        wait_doc = call._fetch(
            "wait", hold["wait_url"], fields, verb.attr("waitUrlMethod", "POST"), hold["base"]
        )
        call._changed(hold=hold)
        for wait_verb in wait_doc.verbs:
            if wait_verb.name == "Leave":
                return "leave"
            if wait_verb.name == "Hangup":
                raise CallEnded("completed", "app")
            if wait_verb.name in ("Say", "Play", "Pause"):
                getattr(self, "verb_" + wait_verb.name)(wait_verb, wait_doc)
            elif wait_verb.name == "Redirect":
                hold["wait_url"], hold["base"] = wait_verb.text, wait_doc.url
                return self._hold_wait_doc(hold, verb)
        return None

    def _enqueue_action(
        self, verb: Verb, doc: Document, hold: dict, result: str, *, follow: bool
    ) -> Document | None:
        action = verb.attr("action")
        if not action:
            return None
        fields = self.base_fields()
        fields.update(
            {"QueueResult": result, "QueueSid": hold["queue_sid"], "QueueTime": str(self._queue_time(hold))}
        )
        if not follow:
            fields["CallStatus"] = "completed" if result in ("hangup", "bridged") else fields["CallStatus"]
            self.call._post("action", action, fields, verb.attr("method", "POST"), doc.url)
            return None
        return self.call._fetch("action", action, fields, verb.attr("method", "POST"), doc.url)

    # --- bridge: <Dial><Queue> ----------------------------------------------------------------

    def verb_Dial(self, verb: Verb, doc: Document) -> Document | None:
        call = self.call
        target = next((c for c in verb.children if c.name == "Queue"), None)
        if target is None:
            call._event("unsupported", "Dial without <Queue>")
            return self._dial_action(verb, doc, {"DialCallStatus": "failed"}, follow=True)
        queue = self.carrier._queue(self.account, target.text)
        with queue.lock:
            caller = queue.waiting.pop(0) if queue.waiting else None
            if caller is not None:
                room = Room(target.text, started=True)
                room.join(caller, start=True)
                room.join(call, start=True)
        if caller is None:
            return self._dial_action(
                verb,
                doc,
                {"DialCallStatus": "failed", "DequeueResult": "queue-empty", "QueueSid": queue.sid},
                follow=True,
            )
        queue_time = self._other_queue_time(caller)
        connected_url = target.attr("url")
        if connected_url:
            # Twilio runs this document on the dequeued caller just before the bridge; only its
            # request matters here (the app answers it with an empty document).
            fields = {**TwilioEngine(caller).base_fields(), "QueueSid": queue.sid}
            caller._post("queue_url", connected_url, fields, target.attr("method", "POST"), doc.url)
        caller._push("bridged", room=room)
        call._changed(state="bridged")
        call._event("bridged", caller.sid)
        fields = {
            "DialCallSid": caller.sid,
            "QueueSid": queue.sid,
            "DequeueResult": "bridged",
            "DequeuedCallSid": caller.sid,
            "DequeuedCallQueueTime": str(queue_time),
        }
        try:
            call._wait({"bridge_end"}, room=room)
        except CallEnded:
            # The dialling party hung up: Twilio still reports the Dial outcome (and ignores the answer).
            self._end_bridge(room, verb, doc, fields)
            self._dial_action(verb, doc, fields, follow=False)
            raise
        except Redirected:
            self._end_bridge(room, verb, doc, fields)
            raise
        self._end_bridge(room, verb, doc, fields)
        call._changed(state="in-progress")
        return self._dial_action(verb, doc, fields, follow=True)

    def _other_queue_time(self, caller) -> int:
        hold = caller.hold or {}
        return int(time.time() - hold.get("entered", time.time())) + hold.get("offset", 0)

    def _end_bridge(self, room: Room, verb: Verb, doc: Document, fields: dict) -> None:
        call = self.call
        for other in room.leave(call, end=True):
            other._push("bridge_end", room=room)
        seconds = room.duration_seconds
        fields.update(
            {
                "DialCallStatus": "completed",
                "DialCallDuration": str(seconds),
                "DequeuedCallDuration": str(seconds),
            }
        )
        record = verb.attr("record", "do-not-record")
        callback = verb.attr("recordingStatusCallback")
        if record != "do-not-record" and callback:
            sid = twilio_sid("RE")
            rec = self.base_fields()
            rec.update(
                {
                    "RecordingSid": sid,
                    "RecordingStatus": "completed",
                    "RecordingDuration": str(seconds),
                    "RecordingChannels": "2" if record.endswith("dual") else "1",
                    "RecordingSource": "DialVerb",
                    "RecordingUrl": f"https://api.twilio.com/{API_VERSION}/Accounts/{self.account.account_id}/Recordings/{sid}",
                    "RecordingStartTime": formatdate(room.started_at or time.time(), usegmt=True),
                }
            )
            call._post(
                "recording", callback, rec, verb.attr("recordingStatusCallbackMethod", "POST"), doc.url
            )

    def _dial_action(self, verb: Verb, doc: Document, extra: dict, *, follow: bool) -> Document | None:
        action = verb.attr("action")
        if not action:
            return None
        fields = self.base_fields()
        fields.update(extra)
        if self.call._finished or not follow:
            self.call._post("action", action, fields, verb.attr("method", "POST"), doc.url)
            return None
        return self.call._fetch("action", action, fields, verb.attr("method", "POST"), doc.url)
