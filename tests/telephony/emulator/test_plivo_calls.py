"""Plivo call flows through the emulator against the scripted test app."""

from __future__ import annotations

import pytest
from plivo import plivoxml

from . import app_urls
from .conftest import PLIVO_NUMBER, plivo_client

pytestmark = pytest.mark.urls("tests.telephony.emulator.app_urls")
BASE = "https://hotline.example.org/telephony"
CALLER = "+15551230000"
VOLUNTEER = "+15557654321"


def xml(*elements) -> str:
    r = plivoxml.ResponseElement()
    for el in elements:
        r.add(el)
    return r.to_string(pretty=False)


def menu() -> str:
    gd = plivoxml.GetDigitsElement(
        action=f"{BASE}/menu", method="POST", num_digits=1, timeout=8, retries=1, redirect=True
    )
    gd.add_speak("Oprima 1", language="es-US", voice="WOMAN")
    return xml(gd, plivoxml.SpeakElement("Nothing pressed"))


def hold() -> str:
    return xml(
        plivoxml.ConferenceElement(
            "room-7",
            wait_sound=f"{BASE}/wait",
            start_conference_on_enter=False,
            end_conference_on_exit=True,
            callback_url=f"{BASE}/conf-events",
            callback_method="POST",
        )
    )


def join() -> str:
    return xml(
        plivoxml.ConferenceElement(
            "room-7",
            start_conference_on_enter=True,
            end_conference_on_exit=True,
            record=True,
            callback_url=f"{BASE}/bridge-events",
            callback_method="POST",
        )
    )


def test_inbound_getdigits_press_fields_and_signature(app_carrier):
    app_urls.SCRIPTS["incoming"] = menu()
    app_urls.SCRIPTS["menu"] = lambda f: xml(plivoxml.SpeakElement(f"Pressed {f['Digits']}"))
    call = app_carrier.place_call("plivo", from_=CALLER)
    call.press("1")
    call.wait_for_state("completed")
    assert call.transcript == [("say", "Oprima 1", "es-US"), ("say", "Pressed 1", "en-US")]
    first = app_urls.SEEN[0]["fields"]
    assert first["CallUUID"] == call.sid
    assert (first["From"], first["To"]) == (CALLER.lstrip("+"), PLIVO_NUMBER.lstrip("+"))
    assert (first["CallStatus"], first["Direction"], first["Event"]) == ("ringing", "inbound", "StartApp")
    assert all(s["signature_ok"] for s in app_urls.SEEN)
    hangup = app_carrier.wait_for_webhook(kind="status")
    assert hangup.fields["CallStatus"] == "completed" and hangup.fields["Event"] == "Hangup"
    assert {"Duration", "BillDuration", "HangupCause"} <= set(hangup.fields)


def test_getdigits_no_input_goes_to_next_element(app_carrier):
    app_urls.SCRIPTS["incoming"] = menu()
    call = app_carrier.place_call("plivo", from_=CALLER)
    call.no_input()
    call.wait_for_state("completed")
    assert call.said == ["Oprima 1", "Nothing pressed"]


def _start_leg(carrier, **extra):
    return plivo_client(carrier).calls.create(
        from_=PLIVO_NUMBER.lstrip("+"),
        to_=VOLUNTEER.lstrip("+"),
        answer_url=f"{BASE}/answer",
        hangup_url=f"{BASE}/leg-hangup",
        ring_url=f"{BASE}/leg-ring",
        ring_timeout=30,
        **extra,
    )


def _volunteer_script():
    gd = plivoxml.GetDigitsElement(action=f"{BASE}/accept", method="POST", num_digits=1, timeout=5, retries=1)
    gd.add_speak("Press 1 to take the call")
    app_urls.SCRIPTS["answer"] = xml(gd, plivoxml.HangupElement())
    app_urls.SCRIPTS["accept"] = join()


def test_conference_hold_bridge_and_volunteer_hangup(app_carrier):
    app_urls.SCRIPTS["incoming"] = hold()
    app_urls.SCRIPTS["wait"] = xml(plivoxml.PlayElement("https://cdn.example.org/hold.mp3"))
    _volunteer_script()
    call = app_carrier.place_call("plivo", from_=CALLER)
    call.wait_for_state("queued")
    call.wait_for_say("hold.mp3")

    resp = _start_leg(app_carrier, machine_detection="true")
    leg = app_carrier.phone(VOLUNTEER).answer()
    assert leg.request_uuid == resp.request_uuid and leg.sid != resp.request_uuid
    leg.press("1")
    leg.wait_for_state("bridged")
    call.wait_for_state("bridged")
    leg.hangup()
    leg.wait_for_state("completed")
    call.wait_for_state("completed")  # end of its XML after the conference ended

    answer = next(s for s in app_urls.SEEN if s["name"] == "answer")["fields"]
    assert answer["Machine"] == "false" and answer["Direction"] == "outbound"
    assert answer["RequestUUID"] == resp.request_uuid
    ring = next(s for s in app_urls.SEEN if s["name"] == "leg-ring")["fields"]
    assert ring["CallStatus"] == "ringing"
    events = [s["fields"]["ConferenceAction"] for s in app_urls.SEEN if s["name"] == "conf-events"]
    assert events == ["enter", "exit"]
    bridge = [s["fields"] for s in app_urls.SEEN if s["name"] == "bridge-events"]
    assert [b["ConferenceAction"] for b in bridge] == ["enter", "exit", "record"]
    assert bridge[-1]["RecordUrl"].startswith("https://media.plivo.com/")
    leg_hangup = next(s for s in app_urls.SEEN if s["name"] == "leg-hangup")["fields"]
    assert leg_hangup["CallStatus"] == "completed" and leg_hangup["HangupSource"] == "Callee"
    assert all(s["signature_ok"] for s in app_urls.SEEN)


def test_machine_reject_and_time_out(app_carrier):
    _volunteer_script()
    phone = app_carrier.phone(VOLUNTEER)
    _start_leg(app_carrier, machine_detection="true")
    leg = phone.answer(as_machine=True)
    leg.no_input()
    leg.wait_for_state("completed")
    answer = next(s for s in app_urls.SEEN if s["name"] == "answer")["fields"]
    assert answer["Machine"] == "true"

    busy = _start_leg(app_carrier)
    phone.reject()
    late = _start_leg(app_carrier)
    phone.time_out()
    finals = {
        s["fields"]["RequestUUID"]: s["fields"]["CallStatus"]
        for s in app_urls.SEEN
        if s["name"] == "leg-hangup"
    }
    assert finals[busy.request_uuid] == "busy"
    assert finals[late.request_uuid] == "no-answer"


def test_rest_transfer_moves_caller_out_of_conference(app_carrier):
    app_urls.SCRIPTS["incoming"] = hold()
    app_urls.SCRIPTS["moved"] = xml(plivoxml.SpeakElement("Transferred"))
    call = app_carrier.place_call("plivo", from_=CALLER)
    call.wait_for_state("queued")
    plivo_client(app_carrier).calls.transfer(
        call.sid, legs="aleg", aleg_url=f"{BASE}/moved", aleg_method="POST"
    )
    call.wait_for_say("Transferred")
    call.wait_for_state("completed")
    events = [s["fields"]["ConferenceAction"] for s in app_urls.SEEN if s["name"] == "conf-events"]
    assert events == ["enter", "exit"]


def test_rest_hangup_of_live_call(app_carrier):
    app_urls.SCRIPTS["incoming"] = hold()
    call = app_carrier.place_call("plivo", from_=CALLER)
    call.wait_for_state("queued")
    plivo_client(app_carrier).calls.delete(call.sid)
    call.wait_for_state("completed")
    hangup = app_carrier.wait_for_webhook(kind="status")
    assert hangup.fields["HangupSource"] == "API Request"


def test_record_and_empty_recording(app_carrier):
    app_urls.SCRIPTS["incoming"] = xml(
        plivoxml.SpeakElement("Leave a message"),
        plivoxml.RecordElement(
            action=f"{BASE}/voicemail",
            max_length=120,
            play_beep=True,
            timeout=5,
            finish_on_key="#",
            file_format="mp3",
            redirect=True,
        ),
    )
    app_urls.SCRIPTS["voicemail"] = lambda f: xml(
        plivoxml.SpeakElement(f"Got {f['RecordingDuration']} seconds")
    )
    call = app_carrier.place_call("plivo", from_=CALLER)
    call.record(9)
    call.wait_for_say("Got 9 seconds")
    vm = next(s for s in app_urls.SEEN if s["name"] == "voicemail")["fields"]
    assert vm["RecordingDurationMs"] == "9000" and vm["RecordUrl"].endswith(".mp3")

    empty = app_carrier.place_call("plivo", from_=CALLER)
    empty.record(0)
    empty.wait_for_say("Got 0 seconds")


def test_hangup_reason_rejected_is_busy(app_carrier):
    app_urls.SCRIPTS["incoming"] = xml(plivoxml.HangupElement(reason="rejected"))
    call = app_carrier.place_call("plivo", from_=CALLER)
    call.wait_for_state("busy")
    assert app_carrier.wait_for_webhook(kind="status").fields["HangupCause"] == "CALL_REJECTED"


def test_inbound_sms_is_signed(app_carrier):
    hook = app_carrier.send_sms("plivo", from_=CALLER, body="necesito ayuda")
    assert hook.status == 200
    seen = app_urls.SEEN[-1]
    assert seen["name"] == "sms/incoming" and seen["signature_ok"]
    assert seen["fields"]["Text"] == "necesito ayuda"
