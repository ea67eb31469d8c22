"""Webhook views with malformed, repeated or unlucky input (Django test client, signed by the SDK)."""

from __future__ import annotations

import pytest
from channels.layers import get_channel_layer

from llamenos.crypto import number_hash
from llamenos.events import volunteer_group
from telephony.calls import call_claim
from telephony.models import Call, CallEvent, CallLeg, CallState, LegState
from volunteers.models import Volunteer

from .conftest import TWILIO_NUMBER, TWILIO_SID, TWILIO_TOKEN
from .signing import twilio_signature

pytestmark = pytest.mark.django_db


def post(client, settings, path: str, fields: dict[str, str]):
    url = settings.PUBLIC_BASE_URL + path
    return client.post(
        path, fields, headers={"X-Twilio-Signature": twilio_signature(TWILIO_TOKEN, url, fields)}
    )


def incoming_fields(call_sid: str = "CA" + "a" * 32, **extra) -> dict[str, str]:
    return {
        "CallSid": call_sid,
        "AccountSid": TWILIO_SID,
        "From": "+14155550123",
        "To": TWILIO_NUMBER,
        "CallStatus": "ringing",
        "Direction": "inbound",
        **extra,
    }


def test_incoming_without_a_call_id_ends_politely(client, settings, twilio_account):
    response = post(client, settings, "/telephony/incoming", incoming_fields(call_sid=""))
    assert response.status_code == 200
    assert "<Hangup" in response.content.decode()
    assert not Call.objects.exists()


def test_rate_limit_store_down_lets_the_call_through(client, settings, twilio_account):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    settings.REDIS_URL = f"redis://127.0.0.1:{closed}/0"

    response = post(client, settings, "/telephony/incoming", incoming_fields())

    assert response.status_code == 200
    assert "many calls from this number" not in response.content.decode()
    call = Call.objects.get()
    assert call.state != CallState.RATE_LIMITED
    assert CallEvent.objects.filter(call=call, name="ratelimit.unavailable").exists()


def test_a_repeated_incoming_webhook_is_one_call_and_counts_once(client, settings, twilio_account, make_user):
    from telephony.ratelimit import caller_rate_reset

    Volunteer.objects.create(user=make_user("ana"), phone="+14155550100", in_fallback_group=True)
    caller_rate_reset(caller_hash=number_hash("+14155550123"))
    for _ in range(5):  # over the default limit of 3 calls a minute, had each counted
        response = post(client, settings, "/telephony/incoming", incoming_fields())
        assert response.status_code == 200
        assert "many calls from this number" not in response.content.decode()
    call = Call.objects.get()
    assert call.state == CallState.QUEUED
    assert list(call.events.values_list("name", flat=True)) == ["call.started", "call.queued"]
    # A new call from the same number is counted on its own.
    post(client, settings, "/telephony/incoming", incoming_fields(call_sid="CA" + "d" * 32))
    assert Call.objects.get(provider_call_id="CA" + "d" * 32).state == CallState.QUEUED


def test_non_ascii_captcha_digits_are_a_failed_try_not_a_500(client, settings, twilio_account):
    call = Call.objects.create(
        provider_account=twilio_account,
        provider="twilio",
        provider_call_id="CA" + "b" * 32,
        caller_hash=number_hash("+14155550123"),
        captcha_expected="1234",
        language="en",
    )
    response = post(
        client,
        settings,
        f"/telephony/calls/{call.pk}/captcha",
        incoming_fields(call.provider_call_id, Digits="١٢٣٤"),
    )
    assert response.status_code == 200
    call.refresh_from_db()
    assert call.captcha_failures == 1
    assert "try again" in response.content.decode()


def test_step_of_another_accounts_call_is_not_served(client, settings, twilio_account, plivo_account):
    call = Call.objects.create(
        provider_account=plivo_account, provider="plivo", provider_call_id="x", caller_hash="h"
    )
    response = post(client, settings, f"/telephony/calls/{call.pk}/language", incoming_fields())
    assert "something went wrong on our side" in response.content.decode()


def make_ringing_call(account, *users) -> tuple[Call, list[CallLeg]]:
    call = Call.objects.create(
        provider_account=account,
        provider="twilio",
        provider_call_id="CA" + "c" * 32,
        caller_hash="h",
        state="ringing",
    )
    legs = []
    for index, user in enumerate(users):
        volunteer = Volunteer.objects.create(user=user, phone=f"+1415555100{index}")
        legs.append(
            CallLeg.objects.create(
                call=call, volunteer=volunteer, provider_call_id=f"CA{index:032d}", state=LegState.ANSWERED
            )
        )
    return call, legs


def test_a_repeated_press_one_keeps_the_winner_bridged(client, settings, twilio_account, volunteer_user):
    _call, (leg,) = make_ringing_call(twilio_account, volunteer_user)
    fields = incoming_fields(leg.provider_call_id, Digits="1", Direction="outbound-api")

    first = post(client, settings, f"/telephony/legs/{leg.pk}/accept", fields).content.decode()
    again = post(client, settings, f"/telephony/legs/{leg.pk}/accept", fields).content.decode()

    assert "<Queue" in first
    assert again == first  # not "another volunteer has already taken this call"
    assert Call.objects.get().answered_by.user == volunteer_user


def test_only_one_claim_wins_and_the_loser_is_told(twilio_account, make_user):
    call, (first, second) = make_ringing_call(twilio_account, make_user("one"), make_user("two"))
    assert call_claim(call=call, leg=first) is True
    assert call_claim(call=Call.objects.get(pk=call.pk), leg=second) is False
    assert CallLeg.objects.get(pk=second.pk).state == LegState.TAKEN_ELSEWHERE
    assert Call.objects.get().state == CallState.ANSWERED


@pytest.mark.django_db(transaction=True)
async def test_rung_browsers_hear_that_the_call_was_answered(twilio_account, make_user):
    from channels.db import database_sync_to_async as sync_to_async

    layer = get_channel_layer()
    channel = await layer.new_channel()
    one, two = await sync_to_async(make_user)("one"), await sync_to_async(make_user)("two")
    await layer.group_add(volunteer_group(two.pk), channel)
    call, legs = await sync_to_async(make_ringing_call)(twilio_account, one, two)

    assert await sync_to_async(call_claim)(call=call, leg=legs[0])

    import asyncio

    message = await asyncio.wait_for(layer.receive(channel), timeout=5)
    assert message == {"type": "call.answered", "call": call.pk, "volunteer": legs[0].volunteer_id}
    await layer.group_discard(volunteer_group(two.pk), channel)


def test_browser_originated_call_is_refused_out_loud(client, settings, twilio_account):
    fields = {"CallSid": "CA" + "d" * 32, "AccountSid": TWILIO_SID, "From": "client:vera", "To": ""}
    response = post(client, settings, "/telephony/webrtc-incoming", fields)
    assert response.status_code == 200
    assert "not available on this hotline" in response.content.decode()


def test_inbound_sms_is_acknowledged_and_traced_without_its_text(client, settings, twilio_account):
    from llamenos.models import AuditEvent

    fields = {
        "MessageSid": "SM" + "e" * 32,
        "AccountSid": TWILIO_SID,
        "From": "+14155550123",
        "To": TWILIO_NUMBER,
    }
    fields["Body"] = "please call me back"
    response = post(client, settings, "/telephony/sms/incoming", fields)
    assert response.status_code == 200
    event = AuditEvent.objects.get(event="sms.received_unhandled")
    assert "please call me back" not in str(event.details) + event.target
    assert "0123" not in event.target


def test_a_caller_out_of_a_fallen_through_bridge_is_held_again_not_dropped(client, settings, twilio_account):
    """Twilio's <Enqueue> ended (the winner left as the bridge was made) but the call waits
    again: the caller goes back on hold. A hang-up gets nothing to say."""
    call, _legs = make_ringing_call(twilio_account)
    path = f"/telephony/calls/{call.pk}/hold-exit"
    fields = incoming_fields(call.provider_call_id, QueueResult="bridged", QueueTime="3")
    assert "<Enqueue" in post(client, settings, path, fields).content.decode()
    hung_up = incoming_fields(call.provider_call_id, QueueResult="hangup", CallStatus="completed")
    assert post(client, settings, path, hung_up).status_code == 204
