"""Twilio call flows through the emulator against a scripted test app (real HTTP, real signatures)."""

from __future__ import annotations

import pytest
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from . import app_urls
from .conftest import TWILIO_NUMBER, TWILIO_SID, twilio_client

pytestmark = pytest.mark.urls("tests.telephony.emulator.app_urls")
BASE = "https://hotline.example.org/telephony"
CALLER = "+15551230000"
VOLUNTEER = "+15557654321"


def twiml(build) -> str:
    r = VoiceResponse()
    build(r)
    return str(r)


def menu(r: VoiceResponse) -> None:
    g = Gather(num_digits=1, timeout=8, action=f"{BASE}/menu?step=2", method="POST")
    g.say("Press 1 for help", language="en-US")
    r.append(g)
    r.say("We did not get your choice", language="en-US")
    r.hangup()


def test_inbound_gather_press_and_signatures(app_carrier):
    app_urls.SCRIPTS["incoming"] = twiml(menu)
    app_urls.SCRIPTS["menu"] = lambda f: twiml(
        lambda r: r.say(f"You pressed {f['Digits']}", language="es-MX")
    )
    call = app_carrier.place_call("twilio", from_=CALLER)
    call.press("1")
    call.wait_for_state("completed")
    assert call.transcript == [("say", "Press 1 for help", "en-US"), ("say", "You pressed 1", "es-MX")]
    first = app_urls.SEEN[0]
    assert first["name"] == "incoming"
    assert first["fields"] == {
        "CallSid": call.sid,
        "AccountSid": TWILIO_SID,
        "From": CALLER,
        "To": TWILIO_NUMBER,
        "Caller": CALLER,
        "Called": TWILIO_NUMBER,
        "CallStatus": "ringing",
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
    }
    menu_hit = app_urls.SEEN[1]
    assert menu_hit["query"] == {"step": "2"} and menu_hit["fields"]["Digits"] == "1"
    assert menu_hit["fields"]["CallStatus"] == "in-progress"
    assert all(seen["signature_ok"] for seen in app_urls.SEEN)
    status = app_carrier.wait_for_webhook(kind="status")
    assert status.path == "/telephony/status"
    assert status.fields["CallStatus"] == "completed"
    assert status.fields["CallDuration"].isdigit()


def test_gather_timeout_continues_after_the_verb(app_carrier):
    app_urls.SCRIPTS["incoming"] = twiml(menu)
    call = app_carrier.place_call("twilio", from_=CALLER)
    call.no_input()
    call.wait_for_state("completed")
    assert call.said == ["Press 1 for help", "We did not get your choice"]
    assert [s["name"] for s in app_urls.SEEN] == ["incoming", "status"]


def test_gather_real_timeout_with_time_scale(app_carrier):
    app_urls.SCRIPTS["incoming"] = twiml(menu)  # 8 s x 0.05 = 0.4 s
    call = app_carrier.place_call("twilio", from_=CALLER)
    call.wait_for_state("completed")
    assert call.said[-1] == "We did not get your choice"


def test_redirect_and_relative_urls(app_carrier):
    app_urls.SCRIPTS["incoming"] = twiml(lambda r: r.redirect("next?x=1", method="POST"))
    app_urls.SCRIPTS["next"] = twiml(lambda r: r.say("Redirected"))
    call = app_carrier.place_call("twilio", from_=CALLER)
    call.wait_for_state("completed")
    assert call.said == ["Redirected"]
    assert app_urls.SEEN[1]["name"] == "next" and app_urls.SEEN[1]["query"] == {"x": "1"}


def test_forged_signature_is_an_application_error(app_carrier, monkeypatch):
    monkeypatch.setattr(app_urls, "TWILIO_TOKEN", "some-other-token")
    call = app_carrier.place_call("twilio", from_=CALLER)
    call.wait_for_state("failed")
    assert call.webhooks[0].status == 403
    assert call.transcript[0][0] == "error"


def _hold_script() -> None:
    def incoming(r):
        r.say("Please hold")
        r.enqueue(
            "room-1", wait_url=f"{BASE}/wait", wait_url_method="POST", action=f"{BASE}/left", method="POST"
        )

    app_urls.SCRIPTS["incoming"] = twiml(incoming)
    app_urls.SCRIPTS["wait"] = lambda f: twiml(
        lambda r: r.play(f"https://cdn.example.org/hold.mp3?t={f['QueueTime']}")
    )
    app_urls.SCRIPTS["left"] = lambda f: twiml(lambda r: r.say(f"Left with {f['QueueResult']}"))


def _bridge_script() -> None:
    def answer(r):
        g = Gather(num_digits=1, action=f"{BASE}/accept", method="POST", timeout=5)
        g.say("Press 1 to take the call")
        r.append(g)
        r.hangup()

    def accept(f):
        r = VoiceResponse()
        d = Dial(
            action=f"{BASE}/dial-done",
            record="record-from-answer-dual",
            recording_status_callback=f"{BASE}/rec",
        )
        d.queue("room-1")
        r.append(d)
        return str(r)

    app_urls.SCRIPTS["answer"] = twiml(answer)
    app_urls.SCRIPTS["accept"] = accept
    app_urls.SCRIPTS["dial-done"] = twiml(lambda r: r.hangup())


def _start_leg(carrier, **extra):
    return twilio_client(carrier).calls.create(
        to=VOLUNTEER,
        from_=TWILIO_NUMBER,
        url=f"{BASE}/answer",
        status_callback=f"{BASE}/leg-status",
        status_callback_event=["initiated", "ringing", "answered", "completed"],
        timeout=30,
        **extra,
    )


def test_hold_bridge_with_outbound_leg_and_volunteer_hangup(app_carrier):
    _hold_script()
    _bridge_script()
    call = app_carrier.place_call("twilio", from_=CALLER)
    call.wait_for_state("queued")
    call.wait_for_say("hold.mp3?t=0")
    call.advance_hold(30)
    call.wait_for_say("hold.mp3?t=30")

    leg_info = _start_leg(app_carrier, machine_detection="Enable")
    phone = app_carrier.phone(VOLUNTEER)
    leg = phone.answer()
    assert leg.sid == leg_info.sid
    leg.press("1")
    leg.wait_for_state("bridged")
    call.wait_for_state("bridged")
    leg.hangup()
    leg.wait_for_state("completed")
    call.wait_for_say("Left with bridged")
    call.wait_for_state("completed")

    answer = next(s for s in app_urls.SEEN if s["name"] == "answer")["fields"]
    assert answer["AnsweredBy"] == "human" and answer["Direction"] == "outbound-api"
    statuses = [s["fields"]["CallStatus"] for s in app_urls.SEEN if s["name"] == "leg-status"]
    assert statuses == ["initiated", "ringing", "in-progress", "completed"]
    left = next(s for s in app_urls.SEEN if s["name"] == "left")["fields"]
    assert left["QueueResult"] == "bridged" and int(left["QueueTime"]) >= 30
    dial = next(s for s in app_urls.SEEN if s["name"] == "dial-done")["fields"]
    assert dial["DialCallStatus"] == "completed" and dial["DialCallSid"] == call.sid
    assert dial["DequeueResult"] == "bridged"
    rec = next(s for s in app_urls.SEEN if s["name"] == "rec")["fields"]
    assert rec["RecordingStatus"] == "completed" and rec["RecordingChannels"] == "2"
    assert rec["RecordingUrl"].startswith(
        f"https://api.twilio.com/2010-04-01/Accounts/{TWILIO_SID}/Recordings/RE"
    )
    assert all(s["signature_ok"] for s in app_urls.SEEN)


def test_caller_hangs_up_while_bridged(app_carrier):
    _hold_script()
    _bridge_script()
    call = app_carrier.place_call("twilio", from_=CALLER)
    call.wait_for_state("queued")
    _start_leg(app_carrier)
    leg = app_carrier.phone(VOLUNTEER).answer()
    leg.press("1")
    call.wait_for_state("bridged")
    call.hangup()
    call.wait_for_state("completed")
    leg.wait_for_state("completed")  # dial-done answers <Hangup/>
    dial = next(s for s in app_urls.SEEN if s["name"] == "dial-done")["fields"]
    assert dial["DialCallStatus"] == "completed"
    left = next(s for s in app_urls.SEEN if s["name"] == "left")["fields"]
    assert left["QueueResult"] == "bridged"


def test_machine_answer_reject_and_time_out(app_carrier):
    _bridge_script()
    phone = app_carrier.phone(VOLUNTEER)
    first = _start_leg(app_carrier, machine_detection="Enable")
    leg = phone.answer(as_machine=True)
    assert leg.sid == first.sid and leg.answered_by == "machine_start"
    leg.no_input()  # voicemail never presses 1
    answer = next(s for s in app_urls.SEEN if s["name"] == "answer")["fields"]
    assert answer["AnsweredBy"] == "machine_start"
    leg.wait_for_state("completed")

    second = _start_leg(app_carrier)
    assert phone.reject().sid == second.sid
    assert app_carrier.call(second.sid).state == "busy"
    third = _start_leg(app_carrier)
    assert phone.time_out().sid == third.sid
    assert app_carrier.call(third.sid).state == "no-answer"
    finals = [
        (s["fields"]["CallSid"], s["fields"]["CallStatus"])
        for s in app_urls.SEEN
        if s["name"] == "leg-status" and s["fields"]["CallStatus"] in ("busy", "no-answer")
    ]
    assert finals == [(second.sid, "busy"), (third.sid, "no-answer")]


def test_dial_queue_when_nobody_waits(app_carrier):
    _bridge_script()
    _start_leg(app_carrier)
    leg = app_carrier.phone(VOLUNTEER).answer()
    leg.press("1")
    leg.wait_for_state("completed")
    dial = next(s for s in app_urls.SEEN if s["name"] == "dial-done")["fields"]
    assert dial["DequeueResult"] == "queue-empty"


def test_record_posts_recording_and_empty_recording_goes_on(app_carrier):
    def incoming(r):
        r.say("Leave a message")
        r.record(action=f"{BASE}/voicemail", max_length=120, play_beep=True, timeout=5, finish_on_key="#")
        r.say("No message recorded")

    app_urls.SCRIPTS["incoming"] = twiml(incoming)
    app_urls.SCRIPTS["voicemail"] = twiml(lambda r: r.say("Thanks"))
    call = app_carrier.place_call("twilio", from_=CALLER)
    call.record(12)
    call.wait_for_state("completed")
    vm = next(s for s in app_urls.SEEN if s["name"] == "voicemail")["fields"]
    assert vm["RecordingDuration"] == "12" and vm["RecordingUrl"].startswith("https://api.twilio.com/")
    assert call.said == ["Leave a message", "Thanks"]

    empty = app_carrier.place_call("twilio", from_=CALLER)
    empty.record(0)
    empty.wait_for_state("completed")
    assert empty.said == ["Leave a message", "No message recorded"]


def test_rest_redirect_takes_caller_out_of_hold(app_carrier):
    _hold_script()
    app_urls.SCRIPTS["moved"] = twiml(lambda r: r.say("Moved to voicemail"))
    call = app_carrier.place_call("twilio", from_=CALLER)
    call.wait_for_state("queued")
    twilio_client(app_carrier).calls(call.sid).update(url=f"{BASE}/moved", method="POST")
    call.wait_for_say("Moved to voicemail")
    call.wait_for_state("completed")
    left = next(s for s in app_urls.SEEN if s["name"] == "left")["fields"]
    assert left["QueueResult"] == "redirected"


def test_rest_hangup_of_live_call_and_cancel_of_ringing_leg(app_carrier):
    _hold_script()
    _bridge_script()
    client = twilio_client(app_carrier)
    call = app_carrier.place_call("twilio", from_=CALLER)
    call.wait_for_state("queued")
    client.calls(call.sid).update(status="completed")
    call.wait_for_state("completed")
    left = next(s for s in app_urls.SEEN if s["name"] == "left")["fields"]
    assert left["QueueResult"] == "hangup"

    leg = _start_leg(app_carrier)
    app_carrier.phone(VOLUNTEER).wait_ringing()
    client.calls(leg.sid).update(status="canceled")
    app_carrier.call(leg.sid).wait_for_state("canceled")
    final = [s["fields"] for s in app_urls.SEEN if s["name"] == "leg-status"][-1]
    assert final["CallStatus"] == "canceled"


def test_reject_before_answer_reports_busy(app_carrier):
    app_urls.SCRIPTS["incoming"] = twiml(lambda r: r.reject(reason="busy"))
    call = app_carrier.place_call("twilio", from_=CALLER)
    call.wait_for_state("busy")
    assert app_carrier.wait_for_webhook(kind="status").fields["CallStatus"] == "busy"


def test_many_calls_at_once(app_carrier):
    _hold_script()
    calls = [app_carrier.place_call("twilio", from_=f"+1555000{i:04d}") for i in range(12)]
    for call in calls:
        call.wait_for_say("hold.mp3")
    positions = sorted(int(s["fields"]["QueuePosition"]) for s in app_urls.SEEN if s["name"] == "wait")
    assert positions == list(range(1, 13))
    for call in calls:
        call.hangup()
    for call in calls:
        call.wait_for_state("completed")
