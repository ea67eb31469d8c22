# ruff: noqa: E501 (expected XML is easier to read on one line)
"""Neutral instructions -> TwiML / Plivo XML, and provider form fields -> ProviderEvent."""

from __future__ import annotations

import pytest

from telephony import instructions as ins
from telephony.models import ProviderAccount, ProviderName
from telephony.providers import PROVIDERS, PlivoProvider, TwilioProvider, provider_for
from telephony.webhooks.parsing import webhook_event

A = "https://hotline.example.org/telephony"


def twiml(*instructions) -> str:
    xml = TwilioProvider(ProviderAccount(provider="twilio")).render_xml(ins.Script.of(*instructions))
    prefix = '<?xml version="1.0" encoding="UTF-8"?><Response>'
    assert xml.startswith(prefix) and xml.endswith("</Response>")
    return xml[len(prefix) : -len("</Response>")]


def plivo_xml(*instructions) -> str:
    xml = PlivoProvider(ProviderAccount(provider="plivo")).render_xml(ins.Script.of(*instructions))
    if xml == "<Response/>":
        return ""
    assert xml.startswith("<Response>") and xml.endswith("</Response>")
    return xml[len("<Response>") : -len("</Response>")]


def test_registry_matches_the_model_choices():
    assert set(PROVIDERS) == set(ProviderName.values)
    for name, cls in PROVIDERS.items():
        assert cls.name == name
        assert isinstance(provider_for(ProviderAccount(provider=name)), cls)


TWILIO_CASES = [
    (ins.Say("Hola", language="es-MX"), '<Say language="es-MX" loop="1">Hola</Say>'),
    (ins.Say("Hi", loop=2), '<Say language="en-US" loop="2">Hi</Say>'),
    (ins.Play(f"{A}/hold.mp3", loop=0), f'<Play loop="0">{A}/hold.mp3</Play>'),
    (ins.Pause(3), '<Pause length="3" />'),
    (
        ins.Gather(f"{A}/lang", num_digits=1, timeout_seconds=6, prompts=(ins.Say("Press 1"), ins.Pause(1))),
        f'<Gather action="{A}/lang" input="dtmf" method="POST" numDigits="1" timeout="6">'
        '<Say language="en-US" loop="1">Press 1</Say><Pause length="1" /></Gather>',
    ),
    (ins.Redirect(f"{A}/next"), f'<Redirect method="POST">{A}/next</Redirect>'),
    (
        ins.Hold("call-7", wait_url=f"{A}/wait/7", action_url=f"{A}/left/7"),
        f'<Enqueue action="{A}/left/7" method="POST" waitUrl="{A}/wait/7" waitUrlMethod="POST">call-7</Enqueue>',
    ),
    (ins.Bridge("call-7"), "<Dial><Queue>call-7</Queue></Dial>"),
    (
        ins.Bridge("call-7", action_url=f"{A}/bridged/7", record=True, recording_url=f"{A}/rec/7"),
        f'<Dial action="{A}/bridged/7" method="POST" record="record-from-answer-dual" '
        f'recordingStatusCallback="{A}/rec/7" recordingStatusCallbackMethod="POST"><Queue>call-7</Queue></Dial>',
    ),
    (
        ins.Record(f"{A}/vm/7", max_length_seconds=90, play_beep=True, timeout_seconds=4),
        f'<Record action="{A}/vm/7" finishOnKey="#" maxLength="90" method="POST" playBeep="true" timeout="4" />',
    ),
    (ins.Reject(), '<Reject reason="rejected" />'),
    (ins.Reject("busy"), '<Reject reason="busy" />'),
    (ins.Hangup(), "<Hangup />"),
]


@pytest.mark.parametrize(("instruction", "expected"), TWILIO_CASES, ids=lambda v: type(v).__name__)
def test_twilio_render(instruction, expected):
    assert twiml(instruction) == expected


PLIVO_CASES = [
    (ins.Say("Hola", language="es-MX"), '<Speak voice="WOMAN" language="es-MX" loop="1">Hola</Speak>'),
    (ins.Play(f"{A}/hold.mp3", loop=0), f'<Play loop="0">{A}/hold.mp3</Play>'),
    (ins.Pause(3), '<Wait length="3"/>'),
    (
        ins.Gather(
            f"{A}/lang", num_digits=1, timeout_seconds=6, prompts=(ins.Say("Press 1"), ins.Play(f"{A}/a.mp3"))
        ),
        f'<GetDigits action="{A}/lang" method="POST" timeout="6" numDigits="1" retries="1" redirect="true">'
        f'<Speak voice="WOMAN" language="en-US" loop="1">Press 1</Speak><Play loop="1">{A}/a.mp3</Play></GetDigits>',
    ),
    (ins.Redirect(f"{A}/next"), f'<Redirect method="POST">{A}/next</Redirect>'),
    (
        ins.Hold("call-7", wait_url=f"{A}/wait/7", action_url=f"{A}/left/7"),
        '<Conference enterSound="" exitSound="" startConferenceOnEnter="false" endConferenceOnExit="true" '
        f'stayAlone="true" waitSound="{A}/wait/7">call-7</Conference>',
    ),
    (
        ins.Bridge("call-7", action_url=f"{A}/bridged/7"),
        '<Conference enterSound="" exitSound="" startConferenceOnEnter="true" endConferenceOnExit="true" '
        'stayAlone="false">call-7</Conference>',
    ),
    (
        ins.Bridge("call-7", action_url=f"{A}/bridged/7", record=True, recording_url=f"{A}/rec/7"),
        '<Conference enterSound="" exitSound="" startConferenceOnEnter="true" endConferenceOnExit="true" '
        f'stayAlone="false" record="true" recordFileFormat="mp3" action="{A}/rec/7" method="POST" '
        'redirect="false">call-7</Conference>',
    ),
    (
        ins.Record(f"{A}/vm/7", max_length_seconds=90, play_beep=False, timeout_seconds=4),
        f'<Record action="{A}/vm/7" method="POST" fileFormat="mp3" redirect="true" timeout="4" maxLength="90" '
        'playBeep="false" finishOnKey="#"/>',
    ),
    (ins.Reject(), '<Hangup reason="rejected"/>'),
    (ins.Hangup(), "<Hangup/>"),
]


@pytest.mark.parametrize(("instruction", "expected"), PLIVO_CASES, ids=lambda v: type(v).__name__)
def test_plivo_render(instruction, expected):
    assert plivo_xml(instruction) == expected


def test_render_keeps_order_and_sets_content_types():
    script = ins.Script.of(ins.Say("One"), ins.Pause(1), ins.Hangup())
    twilio = TwilioProvider(ProviderAccount(provider="twilio")).render(script)
    assert twilio["Content-Type"].startswith("text/xml")
    assert twilio.content.decode().endswith(
        '<Say language="en-US" loop="1">One</Say><Pause length="1" /><Hangup /></Response>'
    )
    plivo = PlivoProvider(ProviderAccount(provider="plivo")).render(script)
    assert plivo["Content-Type"].startswith("application/xml")
    assert plivo.content.decode() == (
        '<Response><Speak voice="WOMAN" language="en-US" loop="1">One</Speak><Wait length="1"/><Hangup/></Response>'
    )


def test_text_is_escaped():
    assert twiml(ins.Say("Tom & <Jerry>")) == '<Say language="en-US" loop="1">Tom &amp; &lt;Jerry&gt;</Say>'
    assert "Tom &amp; &lt;Jerry&gt;" in plivo_xml(ins.Say("Tom & <Jerry>"))


# --- parse -------------------------------------------------------------------------------------
def test_twilio_parse(rf):
    request = rf.post(
        "/telephony/status",
        {
            "CallSid": "CA42",
            "From": "+15551230000",
            "To": "+15005550006",
            "Digits": "1",
            "CallStatus": "in-progress",
            "QueueTime": "37",
            "AnsweredBy": "machine_end_beep",
            "RecordingUrl": "https://api.twilio.com/rec/RE1",
            "RecordingDuration": "12",
            "CallDuration": "95",
            "Direction": "outbound-api",
        },
    )
    event = webhook_event(request, TwilioProvider(ProviderAccount(provider="twilio")))
    assert (event.call_id, event.from_number, event.to_number, event.digits) == (
        "CA42",
        "+15551230000",
        "+15005550006",
        "1",
    )
    assert event.call_status == "in-progress"
    assert event.queue_time_seconds == 37
    assert event.answered_by == "machine"
    assert event.recording_url == "https://api.twilio.com/rec/RE1"
    assert event.recording_duration_seconds == 12
    assert event.duration_seconds == 95
    assert event.direction == "outbound"
    assert "5551230000" not in repr(event)


@pytest.mark.parametrize(
    ("answered_by", "neutral"),
    [("human", "human"), ("machine_start", "machine"), ("fax", "machine"), ("unknown", "unknown"), ("", "")],
)
def test_twilio_answered_by(rf, answered_by, neutral):
    event = webhook_event(
        rf.post("/x", {"AnsweredBy": answered_by}), TwilioProvider(ProviderAccount(provider="twilio"))
    )
    assert event.answered_by == neutral


def test_twilio_parse_sms(rf):
    request = rf.post(
        "/x", {"MessageSid": "SM1", "MessageStatus": "delivered", "Body": "hello", "QueueTime": "x"}
    )
    event = webhook_event(request, TwilioProvider(ProviderAccount(provider="twilio")))
    assert (event.message_id, event.message_status, event.body) == ("SM1", "delivered", "hello")
    assert event.queue_time_seconds is None
    assert "hello" not in repr(event)


def test_plivo_parse(rf):
    request = rf.post(
        "/telephony/status",
        {
            "CallUUID": "uuid-1",
            "From": "+15551230000",
            "To": "+15005550007",
            "Digits": "2",
            "CallStatus": "timeout",
            "Machine": "true",
            "RecordUrl": "https://media.plivo.com/rec.mp3",
            "RecordingDuration": "8",
            "Duration": "61",
            "Direction": "inbound",
        },
    )
    event = webhook_event(request, PlivoProvider(ProviderAccount(provider="plivo")))
    assert (event.call_id, event.from_number, event.to_number, event.digits) == (
        "uuid-1",
        "+15551230000",
        "+15005550007",
        "2",
    )
    assert event.call_status == "no-answer"
    assert event.answered_by == "machine"
    assert event.recording_url == "https://media.plivo.com/rec.mp3"
    assert event.recording_duration_seconds == 8
    assert event.duration_seconds == 61
    assert event.direction == "inbound"
    assert event.queue_time_seconds is None


@pytest.mark.parametrize(
    ("fields", "attribute", "value"),
    [
        ({"Machine": "false"}, "answered_by", "human"),
        ({"CallStatus": "cancel"}, "call_status", "canceled"),
        ({"CallStatus": "completed"}, "call_status", "completed"),
        ({"BillDuration": "60"}, "duration_seconds", 60),
        ({"MessageUUID": "m-1", "Status": "delivered"}, "message_status", "delivered"),
        ({"Text": "hola"}, "body", "hola"),
    ],
)
def test_plivo_parse_fields(rf, fields, attribute, value):
    event = webhook_event(rf.post("/x", fields), PlivoProvider(ProviderAccount(provider="plivo")))
    assert getattr(event, attribute) == value
