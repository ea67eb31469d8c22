"""The inbound call end to end, through the carrier emulator, for Twilio and for Plivo."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.db.models import F

from telephony.models import CallEvent, CallLeg, CallState, LegState
from tests.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)
LEG_PATHS = ("Calls.json", "/Call")


def leg_requests(hotline):
    return [
        r for r in hotline.carrier.requests if r.method == "POST" and r.path.rstrip("/").endswith(LEG_PATHS)
    ]


def said(call) -> str:
    return " ".join(entry[1] for entry in call.transcript if entry[0] == "say")


def test_caller_picks_language_passes_captcha_and_second_volunteer_answers(hotline):
    hotline.flow(
        language_menu=[{"language": "en", "digit": "1"}, {"language": "es", "digit": "2"}],
        captcha_enabled=True,
    )
    volunteers = [hotline.volunteer(name) for name in ("ana", "ben", "chloe")]

    caller = hotline.dial()
    caller.wait_for_gather()
    assert "Para español, marque el 2." in said(caller)
    caller.press("2")
    caller.wait_for_gather()
    call = hotline.call_row()
    assert call.language == "es"
    caller.press(call.captcha_expected)
    caller.wait_for_state("queued")

    phones = [hotline.phone(volunteer) for volunteer in volunteers]
    for phone in phones:
        phone.wait_ringing(timeout=10)
    leg_requests = [
        r
        for r in hotline.carrier.requests
        if r.method == "POST" and r.path.rstrip("/").endswith(("Calls.json", "/Call"))
    ]
    assert len(leg_requests) == 3

    winner = phones[1].answer()
    winner.press("1")
    caller.wait_for_state("bridged", timeout=10)
    for loser in (phones[0], phones[2]):
        wait_until(
            lambda loser=loser: loser.current_call is None or loser.current_call.is_final,
            what="losers cancelled",
        )

    call.refresh_from_db()
    assert call.state == CallState.ANSWERED
    assert call.answered_by == volunteers[1]
    time.sleep(1.2)  # a conversation of a second or more, so the talk time cannot be 0
    winner.hangup()
    caller.wait_for_state("completed", timeout=10)

    call = wait_until(
        lambda: (c := hotline.call_row()).state == CallState.COMPLETED and c, what="call completed"
    )
    # The carrier's own count of the whole call; the talk time is ours, from the claim to the end.
    assert call.duration_seconds == caller.duration_seconds
    assert 1 <= call.talk_seconds <= call.duration_seconds
    legs = {leg.volunteer_id: leg.state for leg in CallLeg.objects.filter(call=call)}
    assert legs[volunteers[1].pk] in (LegState.ACCEPTED, LegState.COMPLETED)
    wait_until(
        lambda: all(
            CallLeg.objects.get(call=call, volunteer=v).state == LegState.CANCELED
            for v in (volunteers[0], volunteers[2])
        ),
        what="other legs cancelled",
    )
    states = list(CallEvent.objects.filter(call=call).exclude(to_state="").values_list("to_state", flat=True))
    assert states == ["ivr", "queued", "ringing", "answered", "completed"]


def test_volunteers_who_speak_the_callers_language_are_rung_first(hotline):
    """A Spanish-speaking caller rings the Spanish speakers; when none of them takes the call,
    the next round rings the others, who hear which language the caller speaks."""
    hotline.flow(language_menu=[{"language": "en", "digit": "1"}, {"language": "es", "digit": "2"}])
    ana = hotline.volunteer("ana", spoken_languages=["en"])
    ben = hotline.volunteer("ben", spoken_languages=["es", "en"])
    caller = hotline.dial()
    caller.press("2")
    caller.wait_for_state("queued")

    offer = hotline.phone(ben).answer()
    offer.wait_for_gather()
    assert said(offer).startswith("Hay una persona esperando")  # his first language, no note needed
    assert hotline.phone(ana).ringing == []
    offer.press("2")  # he cannot take it now

    late = hotline.phone(ana).answer(timeout=10)
    late.wait_for_gather()
    assert said(late).startswith("This caller speaks Spanish. A caller is waiting")
    late.press("1")
    caller.wait_for_state("bridged", timeout=10)

    call = hotline.call_row()
    assert call.answered_by == ana
    assert call.ring_rounds == 1
    assert [(leg.volunteer_id, leg.state) for leg in CallLeg.objects.order_by("id")] == [
        (ben.pk, LegState.DECLINED),
        (ana.pk, LegState.ACCEPTED),
    ]
    rounds = CallEvent.objects.filter(call=call, name__in=["call.ringing", "ringing.next_round"])
    assert [(event.name, event.details) for event in rounds.order_by("id")] == [
        ("call.ringing", {"volunteer_count": 1}),
        ("ringing.next_round", {"volunteer_count": 1}),
    ]


def test_a_hotline_of_one_language_rings_everyone_at_once(hotline):
    ana = hotline.volunteer("ana", spoken_languages=["es"])
    ben = hotline.volunteer("ben", spoken_languages=[])
    caller = hotline.dial()  # no menu: the caller speaks the hotline's language
    caller.wait_for_state("queued")
    for volunteer in (ana, ben):
        hotline.phone(volunteer).wait_ringing(timeout=10)
    offer = hotline.phone(ana).answer()
    offer.wait_for_gather()
    assert said(offer).startswith("Esta persona habla inglés. Hay una persona esperando")


def test_banned_caller_is_rejected_before_anything_is_spoken(hotline, admin_user):
    from telephony.bans import ban_add

    ban_add(actor=admin_user, number="+14155550199", reason="harassment")
    hotline.volunteer("ana")

    caller = hotline.dial(from_="+14155550199")
    caller.wait_for_state("busy", "completed", "failed", "canceled", timeout=10)

    assert said(caller) == ""
    assert hotline.call_row().state == CallState.REJECTED
    assert leg_requests(hotline) == []


def test_fourth_call_inside_the_window_is_rate_limited(hotline):
    hotline.flow(rate_limit_calls=3, rate_limit_window_seconds=60, rate_limit_block_seconds=0)
    for _ in range(3):
        caller = hotline.dial(from_="+14155550177")
        caller.wait_for_state("queued", "in-progress", timeout=10)
        caller.hangup()
        caller.wait_for_state("completed", timeout=10)

    fourth = hotline.dial(from_="+14155550177")
    fourth.wait_for_state("completed", timeout=10)

    assert "many calls from this number" in said(fourth)
    assert hotline.carrier.call(fourth.sid) is not None
    from telephony.models import Call

    assert Call.objects.order_by("id").last().state == CallState.RATE_LIMITED


def test_captcha_failure_ends_the_call(hotline):
    hotline.flow(captcha_enabled=True, captcha_attempts=2)
    hotline.volunteer("ana")

    caller = hotline.dial()
    caller.wait_for_gather()
    caller.press("0000" if hotline.call_row().captcha_expected != "0000" else "1111")
    caller.wait_for_say("try again")
    expected = hotline.call_row().captcha_expected
    caller.press("9" * 4 if expected != "9999" else "8888")
    caller.wait_for_state("completed", timeout=10)

    assert "could not confirm your input" in said(caller)
    assert hotline.call_row().state == CallState.REJECTED
    assert leg_requests(hotline) == []


def test_nobody_on_shift_rings_the_fallback_group(hotline):
    hotline.volunteer("ana", on_shift=False)
    backup = hotline.volunteer("ben", on_shift=False, fallback=True)

    caller = hotline.dial()
    caller.wait_for_state("queued", timeout=10)
    hotline.phone(backup).wait_ringing(timeout=10)

    assert [r.params.get("To") or r.params.get("to") for r in leg_requests(hotline)] == [
        str(backup.phone) if hotline.provider == "twilio" else str(backup.phone).lstrip("+")
    ]


def test_nobody_at_all_goes_straight_to_voicemail(hotline):
    caller = hotline.dial()
    caller.wait_for_record()
    assert "leave a message" in said(caller)
    caller.record(7)
    caller.wait_for_state("completed", timeout=10)

    call = wait_until(lambda: (c := hotline.call_row()).voicemail_url and c, what="voicemail saved")
    assert call.state == CallState.VOICEMAIL
    assert call.voicemail_duration_seconds == 7
    assert "message has been saved" in said(caller)
    assert leg_requests(hotline) == []


def test_a_voicemail_stops_at_its_maximum_length(hotline):
    hotline.flow(voicemail_max_seconds=20)
    caller = hotline.dial()
    assert caller.wait_for_record()["attrs"]["maxLength"] == "20"
    caller.record(45)  # the caller goes on; the carrier stops recording at 20 s

    call = wait_until(lambda: (c := hotline.call_row()).voicemail_url and c, what="voicemail saved")
    assert call.voicemail_duration_seconds == 20


def test_admin_listens_to_a_voicemail_through_the_app(hotline, admin_client):
    caller = hotline.dial()
    caller.wait_for_record()
    caller.record(5)
    call = wait_until(lambda: (c := hotline.call_row()).voicemail_url and c, what="voicemail saved")

    response = admin_client.get(f"/calls/{call.pk}/recording/voicemail")

    assert response.status_code == 200
    assert response["Content-Type"] == "audio/wav"
    assert b"".join(response.streaming_content)[:4] == b"RIFF"
    fetch = next(r for r in hotline.carrier.requests if r.method == "GET" and "Recording" in r.path)
    assert fetch.auth_ok  # fetched with the account's credentials, not left public
    from llamenos.models import AuditEvent

    assert AuditEvent.objects.filter(event="call.recording_played", actor_label="ada").exists()


def test_empty_voicemail_is_discarded(hotline):
    caller = hotline.dial()
    caller.wait_for_record()
    caller.record(0)
    caller.wait_for_state("completed", timeout=10)

    call = wait_until(lambda: (c := hotline.call_row()).ended_at and c, what="call ended")
    assert call.voicemail_url == ""
    assert call.state == CallState.MISSED


def test_queue_timeout_sends_the_caller_to_voicemail(hotline):
    # The volunteer's phone rings longer than the caller may wait, so the timeout is what acts.
    hotline.flow(queue_timeout_seconds=30, ring_timeout_seconds=120)
    ana = hotline.volunteer("ana")
    caller = hotline.dial()
    caller.wait_for_state("queued", timeout=10)
    hotline.phone(ana).wait_ringing(timeout=10)

    # Time passes for both sides: the server's clock (Plivo sends no queue time) and the carrier's.
    from telephony.models import Call

    Call.objects.update(queued_at=F("queued_at") - dt.timedelta(seconds=31))
    caller.advance_hold(31)
    caller.wait_for_record(timeout=10)
    caller.record(4)
    caller.wait_for_state("completed", timeout=10)

    call = wait_until(lambda: (c := hotline.call_row()).voicemail_url and c, what="voicemail saved")
    assert call.state == CallState.VOICEMAIL
    wait_until(lambda: CallLeg.objects.get(call=call).state == LegState.CANCELED, what="leg cancelled")


def test_caller_hanging_up_while_phones_ring_is_missed_and_cancels_legs(hotline):
    volunteers = [hotline.volunteer(name) for name in ("ana", "ben", "cris")]
    caller = hotline.dial()
    caller.wait_for_state("queued", timeout=10)
    for volunteer in volunteers:
        hotline.phone(volunteer).wait_ringing(timeout=10)

    caller.hangup()

    call = wait_until(lambda: (c := hotline.call_row()).state == CallState.MISSED and c, what="missed")
    wait_until(
        lambda: set(CallLeg.objects.filter(call=call).values_list("state", flat=True)) == {LegState.CANCELED},
        what="legs cancelled",
    )
    # Placed and cancelled together, each leg still has its carrier id and says so once.
    legs = CallLeg.objects.filter(call=call)
    assert all(leg.provider_request_id and leg.requested_at for leg in legs)
    cancelled = CallEvent.objects.filter(call=call, name="leg.canceled").values_list("leg_id", flat=True)
    assert sorted(cancelled) == sorted(leg.pk for leg in legs)
    for volunteer in volunteers:
        wait_until(
            lambda v=volunteer: (
                hotline.phone(v).current_call is None or hotline.phone(v).current_call.is_final
            )
        )


@pytest.mark.parametrize("press_to_accept", [True, False])
def test_answering_machine_never_takes_the_call(hotline, press_to_accept):
    # Without "press 1", machine detection alone must keep a voicemail box from winning.
    hotline.flow(require_press_to_accept=press_to_accept)
    machine_owner, human = hotline.volunteer("ana"), hotline.volunteer("ben")
    caller = hotline.dial()
    caller.wait_for_state("queued", timeout=10)
    machine_phone, human_phone = hotline.phone(machine_owner), hotline.phone(human)
    machine_phone.wait_ringing(timeout=10)
    human_phone.wait_ringing(timeout=10)

    machine_phone.answer(as_machine=True)
    wait_until(
        lambda: CallLeg.objects.get(volunteer=machine_owner).state == LegState.MACHINE,
        what="machine detected",
    )
    assert hotline.call_row().state == CallState.RINGING

    human_leg = human_phone.answer()
    if press_to_accept:
        human_leg.press("1")
    caller.wait_for_state("bridged", timeout=10)
    assert hotline.call_row().answered_by == human


def test_a_volunteer_still_deciding_hears_that_someone_else_took_the_call(hotline):
    volunteers = [hotline.volunteer(name) for name in ("ana", "ben")]
    caller = hotline.dial()
    caller.wait_for_state("queued", timeout=10)
    deciding, taking = [hotline.phone(volunteer) for volunteer in volunteers]
    for phone in (deciding, taking):
        phone.wait_ringing(timeout=10)
    deciding_leg = deciding.answer()
    deciding_leg.wait_for_gather()
    taking_leg = taking.answer()
    taking_leg.wait_for_gather()
    taking_leg.press("1")

    caller.wait_for_state("bridged", timeout=10)
    wait_until(lambda: "already taken this call" in said(deciding_leg), what="the other volunteer told")
    assert "No key was pressed" not in said(deciding_leg)
    deciding_leg.wait_for_state("completed", timeout=10)
    assert sorted(CallLeg.objects.values_list("state", flat=True)) == sorted(
        [LegState.ACCEPTED, LegState.TAKEN_ELSEWHERE]
    )


def test_two_volunteers_pressing_one_at_the_same_moment_exactly_one_wins(hotline):
    import threading

    volunteers = [hotline.volunteer(name) for name in ("ana", "ben")]
    caller = hotline.dial()
    caller.wait_for_state("queued", timeout=10)
    legs = []
    for volunteer in volunteers:
        phone = hotline.phone(volunteer)
        phone.wait_ringing(timeout=10)
        legs.append(phone.answer())
    for leg in legs:
        leg.wait_for_gather()

    barrier = threading.Barrier(len(legs))

    def press(leg):
        barrier.wait()
        leg.press("1")

    threads = [threading.Thread(target=press, args=(leg,)) for leg in legs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=15)

    caller.wait_for_state("bridged", timeout=10)
    states = wait_until(
        lambda: (
            sorted(CallLeg.objects.values_list("state", flat=True))
            if CallLeg.objects.filter(state=LegState.TAKEN_ELSEWHERE).exists()
            else None
        ),
        what="one winner, one told",
    )
    assert states == sorted([LegState.ACCEPTED, LegState.TAKEN_ELSEWHERE])
    # The state is stored before the loser's answer goes back to the carrier: wait to hear it.
    loser = wait_until(
        lambda: next((leg for leg in legs if "already taken this call" in said(leg)), None),
        what="the loser told the call was taken",
    )
    (winner,) = [leg for leg in legs if leg is not loser]
    assert "already taken this call" not in said(winner)
    assert CallEvent.objects.filter(name="call.claimed").count() == 1


def test_a_volunteer_on_a_call_is_not_rung_for_the_next_one(hotline):
    busy, free = hotline.volunteer("ana"), hotline.volunteer("ben")
    first = hotline.dial(from_="+14155550111")
    first.wait_for_state("queued", timeout=10)
    hotline.phone(busy).wait_ringing(timeout=10)
    hotline.phone(busy).answer().press("1")
    first.wait_for_state("bridged", timeout=10)
    wait_until(
        lambda: CallLeg.objects.filter(volunteer=free, state=LegState.CANCELED).exists(), what="cancel"
    )

    second = hotline.dial(from_="+14155550112")
    second.wait_for_state("queued", timeout=10)
    hotline.phone(free).wait_ringing(timeout=10)

    from telephony.models import Call

    latest = Call.objects.order_by("id").last()
    wait_until(lambda: CallLeg.objects.filter(call=latest).exists(), what="second call's legs")
    assert list(CallLeg.objects.filter(call=latest).values_list("volunteer_id", flat=True)) == [free.pk]

    # Once her call is over she is rung again.
    hotline.phone(busy).current_call.hangup()
    first.wait_for_state("completed", timeout=10)
    wait_until(
        lambda: Call.objects.filter(state=CallState.COMPLETED).exists(), what="the first call over here"
    )
    third = hotline.dial(from_="+14155550113")
    third.wait_for_state("queued", timeout=10)
    hotline.phone(busy).wait_ringing(timeout=10)
    newest = Call.objects.order_by("id").last()
    wait_until(
        lambda: (
            set(CallLeg.objects.filter(call=newest).values_list("volunteer_id", flat=True))
            == {busy.pk, free.pk}
        ),
        what="both rung for the third call",
    )


def test_answered_call_is_recorded_when_recording_is_on(hotline):
    hotline.flow(record_calls=True)
    ana = hotline.volunteer("ana")
    caller = hotline.dial()
    caller.wait_for_state("queued", timeout=10)
    hotline.phone(ana).wait_ringing(timeout=10)
    leg = hotline.phone(ana).answer()
    leg.press("1")
    caller.wait_for_state("bridged", timeout=10)
    leg.hangup()
    caller.wait_for_state("completed", timeout=10)

    call = wait_until(lambda: (c := hotline.call_row()).recording_url and c, what="recording saved")
    assert call.recording_url.startswith("http")
    assert CallEvent.objects.filter(call=call, name="recording.saved").exists()


def test_a_failed_leg_start_is_retried_by_the_worker(hotline):
    hotline.carrier.fail_next("POST", r"/(Calls\.json|Call/)$", 503, times=1)
    ana = hotline.volunteer("ana")
    caller = hotline.dial()
    caller.wait_for_state("queued", timeout=10)

    hotline.phone(ana).wait_ringing(timeout=15)
    statuses = wait_until(
        lambda: (found := [r.status for r in leg_requests(hotline)]) and found[-1] == 201 and found,
        what="the retried leg accepted",
    )
    assert statuses == [503, 201]
    wait_until(
        lambda: CallLeg.objects.get().state in (LegState.REQUESTED, LegState.RINGING), what="leg placed"
    )


def test_a_volunteer_picking_up_after_the_claim_hears_the_call_was_taken(hotline):
    """The REST cancel of the losing leg failed (it is retried later), so that phone still
    rings after the claim; its volunteer picks up, is told, and is hung up."""
    ana, ben = hotline.volunteer("ana"), hotline.volunteer("ben")
    caller = hotline.dial()
    caller.wait_for_state("queued", timeout=10)
    late = hotline.phone(ben).wait_ringing(timeout=10)
    hotline.phone(ana).wait_ringing(timeout=10)
    # Twilio cancels by updating the call; Plivo deletes the call or its request.
    hotline.carrier.fail_next("*", r"/Calls/CA[0-9a-f]+\.json$|/(Call|Request)/[0-9a-f-]+/$", 503)
    hotline.phone(ana).answer().press("1")
    caller.wait_for_state("bridged", timeout=10)
    wait_until(lambda: any(r.status == 503 for r in hotline.carrier.requests), what="the cancel refused")

    assert not late.is_final
    hotline.phone(ben).answer()
    late.wait_for_state("completed", "canceled", "failed", timeout=10)

    assert "Another volunteer has already taken this call." in said(late)
    leg = CallLeg.objects.get(volunteer=ben)
    assert leg.state == LegState.TAKEN_ELSEWHERE
    assert hotline.call_row().answered_by == ana


def test_a_failed_move_to_voicemail_is_retried(hotline):
    hotline.flow(queue_timeout_seconds=30, ring_timeout_seconds=120)
    hotline.volunteer("ana")
    caller = hotline.dial()
    caller.wait_for_state("queued", timeout=10)
    wait_until(lambda: CallLeg.objects.filter(state=LegState.RINGING).exists(), what="ringing")
    hotline.carrier.fail_next("POST", r"/Calls/CA[0-9a-f]+\.json$|/Call/[0-9a-f-]+/$", 503, times=1)

    from telephony.models import Call

    Call.objects.update(queued_at=F("queued_at") - dt.timedelta(seconds=31))
    caller.advance_hold(31)
    caller.wait_for_record(timeout=15)

    call = hotline.call_row()
    assert call.state == CallState.VOICEMAIL
    assert CallEvent.objects.filter(call=call, name="voicemail.transfer_failed").count() == 1


def test_hangup_reported_before_the_recording_still_keeps_the_voicemail(hotline, live_server, settings):
    from .test_status_callbacks import post_status, status_fields

    caller = hotline.dial()
    caller.wait_for_record()
    call = hotline.call_row()
    # The emulated caller may already have gone silent and hung up; either way no message yet.
    assert call.state in (CallState.VOICEMAIL, CallState.MISSED)
    # The carrier's hang-up arrives first (posted by hand: the order is the point)...
    post_status(hotline, live_server, settings, status_fields(hotline, caller.sid, "completed", 20))
    assert hotline.call_row().state == CallState.MISSED
    # ...then the recording of what the caller said before hanging up.
    recording = {"twilio": ("RecordingUrl", "RecordingDuration"), "plivo": ("RecordUrl", "RecordingDuration")}
    url_field, duration_field = recording[hotline.provider]
    fields = status_fields(hotline, caller.sid, "completed", 20)
    fields.update({url_field: "https://api.twilio.com/2010-04-01/Recordings/RE1", duration_field: "9"})
    response = post_status(
        hotline, live_server, settings, fields, path=f"/telephony/calls/{call.pk}/voicemail-saved"
    )

    assert response.status_code == 200
    call = hotline.call_row()
    assert call.state == CallState.VOICEMAIL
    assert call.voicemail_duration_seconds == 9
    assert CallEvent.objects.filter(call=call, name="voicemail.arrived_late").exists()
