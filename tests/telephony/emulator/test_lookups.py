"""Looking one call up by REST (what the sweep asks when callbacks were lost), and losing
callbacks on purpose: the real SDKs and the app's providers against the emulator."""

from __future__ import annotations

import pytest
from plivo import exceptions as plivo_errors
from plivo import plivoxml
from twilio.base.exceptions import TwilioRestException
from twilio.twiml.voice_response import Gather, VoiceResponse

from telephony.models import ProviderAccount
from telephony.providers import provider_for
from telephony.providers.base import CallLookup

from . import app_urls
from .conftest import (
    PLIVO_ID,
    PLIVO_NUMBER,
    PLIVO_TOKEN,
    TWILIO_NUMBER,
    TWILIO_SID,
    TWILIO_TOKEN,
    plivo_client,
    twilio_client,
)

pytestmark = pytest.mark.urls("tests.telephony.emulator.app_urls")
BASE = "https://hotline.example.org/telephony"
CALLER = "+15551230000"
VOLUNTEER = "+15557654321"


def twilio_leg(carrier):
    return twilio_client(carrier).calls.create(
        to=VOLUNTEER, from_=TWILIO_NUMBER, url=f"{BASE}/answer", status_callback=f"{BASE}/leg", timeout=120
    )


def plivo_leg(carrier):
    return plivo_client(carrier).calls.create(
        from_=PLIVO_NUMBER.lstrip("+"),
        to_=VOLUNTEER.lstrip("+"),
        answer_url=f"{BASE}/answer",
        hangup_url=f"{BASE}/leg",
        ring_timeout=120,  # x 0.05: six seconds of ringing
    )


def keep_listening(provider: str) -> str:
    """A document that keeps the call live: a menu nobody answers for 100 s x 0.05."""
    if provider == "twilio":
        response = VoiceResponse()
        gather = Gather(num_digits=1, timeout=100, action=f"{BASE}/pressed")
        gather.say("Press 1")
        response.append(gather)
        return str(response)
    response = plivoxml.ResponseElement()
    digits = plivoxml.GetDigitsElement(action=f"{BASE}/pressed", num_digits=1, timeout=100, retries=1)
    digits.add_speak("Press 1")
    response.add(digits)
    return response.to_string(pretty=False)


def test_twilio_fetch_follows_a_leg_and_a_held_caller(app_carrier):
    client = twilio_client(app_carrier)
    leg = twilio_leg(app_carrier)
    app_carrier.phone(VOLUNTEER).wait_ringing()
    assert client.calls(leg.sid).fetch().status == "ringing"
    app_carrier.phone(VOLUNTEER).time_out()
    app_carrier.call(leg.sid).wait_for_state("no-answer")
    assert client.calls(leg.sid).fetch().status == "no-answer"

    app_urls.SCRIPTS["incoming"] = '<Response><Enqueue waitUrl="/telephony/wait">room</Enqueue></Response>'
    caller = app_carrier.place_call("twilio", from_=CALLER)
    caller.wait_for_hold()
    assert caller.state == "queued"  # the emulator's word for a caller on hold...
    assert client.calls(caller.sid).fetch().status == "in-progress"  # ...Twilio's
    caller.hangup()
    caller.wait_for_state("completed")
    ended = client.calls(caller.sid).fetch()
    assert (ended.status, ended.duration.isdigit()) == ("completed", True)

    with pytest.raises(TwilioRestException) as err:
        client.calls("CA" + "f" * 32).fetch()
    assert (err.value.status, err.value.code) == (404, 20404)


def test_plivo_shows_a_leg_queued_then_live_then_in_its_detail_record(app_carrier):
    client = plivo_client(app_carrier)
    app_urls.SCRIPTS["answer"] = keep_listening("plivo")
    request_uuid = plivo_leg(app_carrier).request_uuid
    leg = app_carrier.phone(VOLUNTEER).wait_ringing()
    queued = client.queued_calls.get(request_uuid)
    assert (queued.call_status, queued.request_uuid) == ("queued", request_uuid)
    assert app_carrier.requests[-1].query == {"status": "queued"}
    for not_there in (lambda: client.live_calls.get(leg.sid), lambda: client.calls.get(leg.sid)):
        with pytest.raises(plivo_errors.ResourceNotFoundError):
            not_there()

    app_carrier.phone(VOLUNTEER).answer()
    leg.wait_for_gather()
    live = client.live_calls.get(leg.sid)
    assert (live.call_status, live.call_uuid, live.direction) == ("in-progress", leg.sid, "outbound")
    with pytest.raises(plivo_errors.ResourceNotFoundError):
        client.queued_calls.get(request_uuid)

    leg.hangup()
    leg.wait_for_state("completed")
    record = client.calls.get(leg.sid)
    assert record.call_uuid == leg.sid and record.answer_time
    assert (record.hangup_cause_code, record.hangup_cause_name, record.hangup_source) == (
        4000,
        "Normal Hangup",
        "Callee",
    )
    with pytest.raises(plivo_errors.ResourceNotFoundError):
        client.live_calls.get(leg.sid)


def test_plivo_detail_record_of_an_unanswered_leg(app_carrier):
    client = plivo_client(app_carrier)
    plivo_leg(app_carrier)
    leg = app_carrier.phone(VOLUNTEER).wait_ringing()
    app_carrier.phone(VOLUNTEER).reject()
    leg.wait_for_state("busy")
    record = client.calls.get(leg.sid)
    assert (record.answer_time, record.hangup_cause_name) == (None, "Busy Line")


@pytest.fixture
def accounts(db, settings, app_carrier):
    settings.TWILIO_API_BASE_URL = settings.PLIVO_API_BASE_URL = app_carrier.base_url
    rows = [
        ("twilio", TWILIO_SID, TWILIO_TOKEN, TWILIO_NUMBER),
        ("plivo", PLIVO_ID, PLIVO_TOKEN, PLIVO_NUMBER),
    ]
    return {
        provider: ProviderAccount.objects.create(
            provider=provider, label=provider, hotline_number=number, account_id=account_id, auth_token=token
        )
        for provider, account_id, token, number in rows
    }


@pytest.mark.parametrize("provider", ["twilio", "plivo"])
def test_the_providers_call_lookup_in_neutral_words(app_carrier, accounts, provider):
    lookup = provider_for(accounts[provider]).call_lookup
    app_urls.SCRIPTS["answer"] = keep_listening(provider)
    placed = twilio_leg(app_carrier).sid if provider == "twilio" else plivo_leg(app_carrier).request_uuid
    phone = app_carrier.phone(VOLUNTEER)
    leg = phone.wait_ringing()
    # Before its first webhook the app knows a Plivo leg by the create's request_uuid only.
    assert lookup(placed, request_id=placed).live
    phone.answer()
    leg.wait_for_gather()
    assert lookup(leg.sid, request_id=placed) == CallLookup("in-progress")
    leg.hangup()
    leg.wait_for_state("completed")
    ended = lookup(leg.sid, request_id=placed)
    assert ended.status == "completed" and ended.ended and ended.duration_seconds is not None

    unknown = "CA" + "e" * 32 if provider == "twilio" else "0b7f1e2c-0000-4000-8000-000000000000"
    assert lookup(unknown) == CallLookup("not-found")


@pytest.mark.parametrize("provider", ["twilio", "plivo"])
def test_a_lookup_the_provider_refuses_is_a_provider_error(app_carrier, accounts, provider):
    from telephony.providers import ProviderError

    app_carrier.fail_next("GET", r"/Calls?/", 503)
    unknown = "CA" + "e" * 32 if provider == "twilio" else "0b7f1e2c-0000-4000-8000-000000000000"
    with pytest.raises(ProviderError) as err:
        provider_for(accounts[provider]).call_lookup(unknown)
    assert err.value.retryable


def test_lost_callbacks_are_recorded_and_never_delivered(app_carrier):
    app_urls.SCRIPTS["incoming"] = keep_listening("twilio")
    caller = app_carrier.place_call("twilio", from_=CALLER)
    caller.wait_for_gather()
    app_carrier.lose_webhooks("status", call=caller)
    caller.hangup()
    caller.wait_for_state("completed")
    status = app_carrier.wait_for_webhook(kind="status")
    assert (status.status, status.error) == (0, "lost on the way (Carrier.lose_webhooks)")
    assert [seen["name"] for seen in app_urls.SEEN] == ["incoming"]

    app_carrier.deliver_webhooks()
    other = app_carrier.place_call("twilio", from_=CALLER)
    other.wait_for_gather()
    other.hangup()
    other.wait_for_state("completed")
    assert [seen["name"] for seen in app_urls.SEEN] == ["incoming", "incoming", "status"]
