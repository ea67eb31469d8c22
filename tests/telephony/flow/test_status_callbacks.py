"""Status callbacks arrive twice, late and out of order; a call never moves backwards."""

from __future__ import annotations

import time

import pytest
import requests
from django.utils import timezone

from telephony.emulator.signing import plivo_headers, twilio_headers
from telephony.flow import step_url
from telephony.models import Call, CallEvent, CallLeg, CallState, LegState, ProviderAccount
from telephony.providers import provider_for

from .conftest import ACCOUNTS

pytestmark = pytest.mark.django_db(transaction=True)


def post_status(hotline, live_server, settings, fields: dict[str, str], path: str = "/telephony/status"):
    account = ACCOUNTS[hotline.provider]
    url = settings.PUBLIC_BASE_URL + path
    sign = twilio_headers if hotline.provider == "twilio" else plivo_headers
    return requests.post(
        live_server.url + path, data=fields, headers=sign(account.auth_token, url, fields), timeout=10
    )


def status_fields(hotline, call_sid: str, status: str, duration: int) -> dict[str, str]:
    account = ACCOUNTS[hotline.provider]
    if hotline.provider == "twilio":
        return {
            "CallSid": call_sid,
            "AccountSid": account.account_id,
            "From": "+14155550123",
            "To": account.hotline_number,
            "CallStatus": status,
            "CallDuration": str(duration),
        }
    plivo_status = {"in-progress": "in-progress", "completed": "completed", "ringing": "ringing"}[status]
    return {
        "CallUUID": call_sid,
        "From": "14155550123",
        "To": account.hotline_number.lstrip("+"),
        "CallStatus": plivo_status,
        "Duration": str(duration),
        "Event": "Hangup" if status == "completed" else "Ring",
    }


def _settled(hotline, timeout: float = 10.0) -> None:
    """Every emulated call over, no webhook in flight and no new CallEvent for a moment: the
    leg's own callbacks (the volunteer hung up first) may land after the caller's."""
    deadline = time.monotonic() + timeout
    seen, still_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        carrier = hotline.carrier
        busy = any(not c.is_final for c in list(carrier.calls)) or any(
            not w.answered_at and not w.error for w in list(carrier.webhooks)
        )
        count = CallEvent.objects.count()
        if count != seen or busy:
            seen, still_since = count, time.monotonic()
        elif time.monotonic() - still_since >= 0.5:
            return
        time.sleep(0.05)
    raise TimeoutError("the call did not settle")


def test_duplicated_and_reversed_callbacks_change_nothing(hotline, live_server, settings):
    volunteer = hotline.volunteer("ana")
    caller = hotline.dial()
    caller.wait_for_state("queued", timeout=10)
    phone = hotline.phone(volunteer)
    phone.wait_ringing(timeout=10)
    phone.answer().press("1")
    caller.wait_for_state("bridged", timeout=10)
    phone.current_call.hangup()
    caller.wait_for_state("completed", timeout=10)
    _settled(hotline)
    call = Call.objects.get()
    assert call.state == CallState.COMPLETED
    before = (call.ended_at, call.duration_seconds, call.talk_seconds, CallEvent.objects.count())

    # The final callback again, then an old "ringing" and "in-progress" that arrive late.
    for status in ("completed", "ringing", "in-progress", "completed"):
        response = post_status(
            hotline, live_server, settings, status_fields(hotline, caller.sid, status, 999)
        )
        assert response.status_code == 204

    call.refresh_from_db()
    assert call.state == CallState.COMPLETED
    assert (call.ended_at, call.duration_seconds, call.talk_seconds, CallEvent.objects.count()) == before


def leg_status_fields(hotline, leg: CallLeg, status: str, *, machine: bool = False) -> dict[str, str]:
    """A volunteer leg's status callback as the carrier sends it (From is the hotline)."""
    account = ACCOUNTS[hotline.provider]
    if hotline.provider == "twilio":
        fields = {
            "CallSid": leg.provider_call_id,
            "AccountSid": account.account_id,
            "From": account.hotline_number,
            "To": str(leg.volunteer.phone),
            "CallStatus": status,
        }
        return {**fields, "AnsweredBy": "machine_start"} if machine else fields
    fields = {
        "CallUUID": leg.provider_call_id,
        "From": account.hotline_number.lstrip("+"),
        "To": str(leg.volunteer.phone).lstrip("+"),
        "CallStatus": {"no-answer": "no_answer"}.get(status, status),
        "Event": "Ring" if status == "ringing" else "Hangup",
    }
    return {**fields, "Machine": "true"} if machine else fields


def test_late_and_repeated_leg_callbacks_change_nothing(hotline, live_server, settings):
    """After the call: the winner's leg hears of ringing, no answer, busy and a machine; the
    cancelled leg hears it rang and completed. Legs, call and history stay as they were, and
    nothing is hung up by REST."""
    ana, ben = hotline.volunteer("ana"), hotline.volunteer("ben")
    caller = hotline.dial()
    caller.wait_for_state("queued", timeout=10)
    phones = [hotline.phone(volunteer) for volunteer in (ana, ben)]
    for phone in phones:
        phone.wait_ringing(timeout=10)
    phones[0].answer().press("1")
    caller.wait_for_state("bridged", timeout=10)
    phones[0].current_call.hangup()
    caller.wait_for_state("completed", timeout=10)
    _settled(hotline)
    legs = {leg.volunteer_id: leg for leg in CallLeg.objects.select_related("volunteer")}
    won, lost = legs[ana.pk], legs[ben.pk]
    assert (won.state, lost.state) == (LegState.COMPLETED, LegState.CANCELED)
    call = Call.objects.get()
    before = (call.state, call.ended_at, call.talk_seconds, CallEvent.objects.count())
    ends_before = len(_leg_ends_requested(hotline))

    late = [(won, "ringing", False), (won, "no-answer", False), (won, "busy", False)]
    late += [
        (won, "completed", True),
        (won, "completed", False),
        (lost, "ringing", False),
        (lost, "completed", False),
    ]
    for leg, status, machine in late:
        path = step_url("leg_status", leg_id=leg.pk).removeprefix(settings.PUBLIC_BASE_URL)
        fields = leg_status_fields(hotline, leg, status, machine=machine)
        assert post_status(hotline, live_server, settings, fields, path=path).status_code == 204
    _settled(hotline)

    assert [CallLeg.objects.get(pk=leg.pk).state for leg in (won, lost)] == [won.state, lost.state]
    call.refresh_from_db()
    assert (call.state, call.ended_at, call.talk_seconds, CallEvent.objects.count()) == before
    assert len(_leg_ends_requested(hotline)) == ends_before


def test_a_hang_up_for_a_call_not_seen_yet_is_kept_as_a_missed_call(hotline, live_server, settings):
    """It overtook the call's first webhook: that webhook will find the call over."""
    response = post_status(
        hotline, live_server, settings, status_fields(hotline, "CA" + "0" * 32, "completed", 3)
    )
    assert response.status_code == 204
    call = Call.objects.get()
    assert (call.state, call.duration_seconds, call.ended_at is not None) == (CallState.MISSED, 3, True)
    # Repeated: the same call, nothing new.
    post_status(hotline, live_server, settings, status_fields(hotline, "CA" + "0" * 32, "completed", 3))
    assert Call.objects.count() == 1 and call.events.count() == 2


def test_a_status_that_is_not_an_end_creates_nothing(hotline, live_server, settings):
    response = post_status(
        hotline, live_server, settings, status_fields(hotline, "CA" + "0" * 32, "in-progress", 0)
    )
    assert response.status_code == 204
    assert not Call.objects.exists()


def test_step_url_for_an_unknown_call_gets_a_spoken_goodbye(hotline, live_server, settings):
    fields = status_fields(hotline, "CA" + "9" * 32, "in-progress", 0)
    response = post_status(hotline, live_server, settings, fields, path="/telephony/calls/424242/language")
    assert response.status_code == 200
    assert "Hangup" in response.text
    assert "something went wrong on our side" in response.text


def test_forged_webhook_is_refused(hotline, live_server, settings):
    fields = status_fields(hotline, "CA" + "1" * 32, "ringing", 0)
    response = requests.post(
        live_server.url + "/telephony/incoming",
        data=fields,
        headers={"X-Twilio-Signature": "forged"},
        timeout=10,
    )
    assert response.status_code == 403
    assert not Call.objects.exists()


def _cancelled_leg_ringing_at_the_carrier(hotline, ring_timeout_seconds: int = 300, **leg_fields):
    """A call over here with its one leg cancelled, while the carrier rings that leg."""
    volunteer = hotline.volunteer("ana")
    account = ProviderAccount.objects.get(provider=hotline.provider)
    call = Call.objects.create(
        provider_account=account,
        provider=hotline.provider,
        provider_call_id="caller-gone",
        state=CallState.MISSED,
    )
    leg = CallLeg.objects.create(call=call, volunteer=volunteer, state=LegState.CANCELED, **leg_fields)
    request_id = provider_for(account).start_leg(
        to=str(volunteer.phone),
        from_=str(account.hotline_number),
        answer_url=step_url("leg_answer", leg_id=leg.pk),
        status_url=step_url("leg_status", leg_id=leg.pk),
        ring_timeout_seconds=ring_timeout_seconds,  # 300: 15 s at the emulator's time scale
    )
    return leg, request_id, hotline.phone(volunteer).wait_ringing(timeout=10)


def _leg_ends_requested(hotline) -> list:
    """REST requests that end a leg: Plivo's DELETEs, Twilio's updates of one call."""
    return [
        r
        for r in list(hotline.carrier.requests)
        if r.method == "DELETE" or (r.method == "POST" and "/Calls/CA" in r.path)
    ]


def test_a_leg_given_up_before_its_ids_were_written_is_hung_up_when_it_rings(hotline, live_server):
    """The ringing task placed a leg and stopped before writing down the carrier's ids; the
    caller hung up and the leg was cancelled here. Its "ringing" callback brings the ids, and
    the phone stops ringing then, not at its ring timeout."""
    leg, _request_id, ringing = _cancelled_leg_ringing_at_the_carrier(hotline)

    ringing.wait_for_state("canceled", timeout=8)
    _settled(hotline)  # the leg's own end callback answered before the test's database goes
    leg.refresh_from_db()
    assert leg.state == LegState.CANCELED  # unchanged: it was over here already
    assert leg.provider_call_id == ringing.sid
    assert CallEvent.objects.filter(leg=leg).count() == 0  # nothing moved backwards
    if hotline.provider == "plivo":  # known ringing: cancelled by its request id, no 404 first
        assert [r.path.split("/")[-3] for r in _leg_ends_requested(hotline)] == ["Request"]


def test_a_late_ringing_callback_for_a_leg_the_task_cancelled_asks_for_nothing(hotline, live_server):
    """A leg the ringing task wrote down is cancelled by that task; its "ringing" callback
    arriving after the cancel must not send a second one."""
    _leg, _request_id, ringing = _cancelled_leg_ringing_at_the_carrier(
        hotline, ring_timeout_seconds=40, requested_at=timezone.now()
    )
    ringing.wait_for_state("no-answer", timeout=8)  # 2 s at the emulator's time scale, not cancelled
    _settled(hotline)
    assert _leg_ends_requested(hotline) == []
