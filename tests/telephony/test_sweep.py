"""The sweep: calls and legs whose final callbacks were lost are finished from what the carrier
says, through the emulator, for Twilio and for Plivo (tests/telephony/flow/conftest.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db.models import F
from django.utils import timezone

from llamenos.celery import app as celery_app
from telephony import sweep
from telephony.models import Call, CallEvent, CallLeg, CallState, LegState
from telephony.ringing import volunteers_to_ring
from tests.waiting import wait_until

from .flow import conftest as harness
from .flow.callbacks import Webhooks

# The end-to-end harness: the app on a live server, the emulator, a real Celery worker.
celery_worker_thread = harness.celery_worker_thread
hotline = harness.hotline

pytestmark = pytest.mark.django_db(transaction=True)
LATER = dt.timedelta(hours=1)  # when the sweep looks, every state above has lasted too long


def ringing_leg(hotline, volunteer) -> tuple:
    """The caller on hold, ``volunteer``'s phone ringing, and the leg's row saying so with its
    carrier id (Plivo's CallUUID comes with the ring callback)."""
    caller = hotline.dial()
    caller.wait_for_state("queued", timeout=10)
    emulated = hotline.phone(volunteer).wait_ringing(timeout=10)
    leg = wait_until(
        lambda: CallLeg.objects.filter(
            volunteer=volunteer, provider_call_id=emulated.sid, state=LegState.RINGING
        ).first(),
        what="the leg ringing, with its carrier id",
    )
    return caller, emulated, leg


def events(call: Call, prefix: str = "sweep.") -> list[CallEvent]:
    return list(CallEvent.objects.filter(call=call, name__startswith=prefix))


def test_a_caller_who_hung_up_on_hold_unheard_is_finished_and_the_phone_stops(hotline):
    hotline.carrier.time_scale = 1000  # the volunteer's phone rings until someone stops it
    ana = hotline.volunteer("ana")
    caller, emulated_leg, leg = ringing_leg(hotline, ana)
    hotline.carrier.lose_webhooks()  # nothing the carrier sends from now on reaches the app
    caller.hangup()
    caller.wait_for_state("completed", timeout=10)
    call = hotline.call_row()
    assert call.state == CallState.RINGING  # as the lost callbacks left it

    report = sweep.sweep_run(now=timezone.now() + LATER)

    call.refresh_from_db()
    assert (call.state, call.ended_at is not None) == (CallState.MISSED, True)
    (gone,) = events(call)
    assert (gone.name, gone.from_state, gone.to_state) == ("sweep.caller_gone", "ringing", "missed")
    emulated_leg.wait_for_state("canceled", timeout=10)
    leg.refresh_from_db()
    assert leg.state == LegState.CANCELED
    assert report.outcomes == {"caller_gone": 1} and report.failed == 0


def test_an_answered_call_whose_end_was_never_heard_is_finished_and_frees_the_volunteer(hotline):
    ana = hotline.volunteer("ana")
    caller = hotline.dial()
    caller.wait_for_state("queued", timeout=10)
    hotline.phone(ana).wait_ringing(timeout=10)
    emulated_leg = hotline.phone(ana).answer()
    emulated_leg.press("1")
    caller.wait_for_state("bridged", timeout=10)
    hotline.carrier.lose_webhooks()
    caller.hangup()
    caller.wait_for_state("completed", timeout=10)
    emulated_leg.wait_for_state("completed", timeout=10)
    call = hotline.call_row()
    assert call.state == CallState.ANSWERED
    assert ana not in volunteers_to_ring(at=timezone.now())  # busy for ever, without the sweep

    # Talking sends no callbacks: the call is asked about once it has been quiet for long.
    quiet = dt.timedelta(seconds=sweep.ANSWERED_QUIET_SECONDS + 60)
    sweep.sweep_run(now=timezone.now() + quiet)

    call.refresh_from_db()
    assert (call.state, call.ended_at is not None) == (CallState.COMPLETED, True)
    assert [(e.name, e.from_state, e.to_state) for e in events(call)][:1] == [
        ("sweep.caller_gone", "answered", "completed")
    ]
    assert ana in volunteers_to_ring(at=timezone.now())
    leg = CallLeg.objects.get(call=call)
    assert leg.state == LegState.COMPLETED  # the winner's leg, its own end lost too
    assert [e.name for e in events(call)] == ["sweep.caller_gone", "sweep.leg_ended"]


def test_a_winner_whose_leg_ended_unheard_before_the_bridge_leaves_the_caller_waiting_again(hotline):
    """The press reached the app but the bridge never ran, and the leg's end was lost: the
    caller, still there, is not left on hold for ever."""
    ana = hotline.volunteer("ana")
    caller = hotline.dial()
    caller.wait_for_state("queued", timeout=10)
    offer = hotline.phone(ana).answer()
    offer.wait_for_gather()
    leg = CallLeg.objects.get()
    Webhooks(hotline).press(leg)  # the claim, without the carrier running its bridge
    hotline.carrier.lose_webhooks("status", call=offer)
    offer.hangup()
    offer.wait_for_state("completed", timeout=10)
    assert CallLeg.objects.get(pk=leg.pk).state == LegState.ACCEPTED  # as the lost callback left it

    report = sweep.sweep_run(now=timezone.now() + dt.timedelta(seconds=sweep.ANSWERED_QUIET_SECONDS + 60))

    assert report.outcomes == {"winner_left": 1}
    assert CallLeg.objects.get(pk=leg.pk).state == LegState.COMPLETED
    caller.wait_for_record(timeout=10)  # nobody else to ring: voicemail
    call = hotline.call_row()
    assert (call.state, call.answered_by_id) == (CallState.VOICEMAIL, None)
    assert ana in volunteers_to_ring(at=timezone.now())


def test_a_call_whose_provider_account_was_deleted_is_finished_without_asking(hotline):
    from telephony.models import ProviderAccount

    ana = hotline.volunteer("ana")
    call = Call.objects.create(provider="twilio", provider_call_id="CA" + "d" * 32, caller_hash="h")
    Call.objects.filter(pk=call.pk).update(state=CallState.ANSWERED, answered_by=ana)
    CallLeg.objects.create(call=call, volunteer=ana, provider_call_id="CA" + "e" * 32, state="accepted")
    assert ProviderAccount.objects.filter(calls=call).count() == 0
    assert ana not in volunteers_to_ring(at=timezone.now())

    report = sweep.sweep_run(now=timezone.now() + LATER)

    call.refresh_from_db()
    assert (call.state, call.ended_at is not None) == (CallState.COMPLETED, True)
    assert "sweep.account_gone" in [e.name for e in events(call)]
    assert ana in volunteers_to_ring(at=timezone.now())
    assert report.failed == 0


def test_a_leg_whose_carrier_call_ended_unheard_is_ended_and_the_caller_moves_on(hotline):
    hotline.flow(queue_timeout_seconds=300)
    ana = hotline.volunteer("ana")
    caller, emulated_leg, leg = ringing_leg(hotline, ana)
    hotline.carrier.lose_webhooks("status", call=emulated_leg)
    hotline.phone(ana).reject()
    emulated_leg.wait_for_state("busy", timeout=10)

    # Past the leg's ring and accept timeouts, well inside the caller's queue timeout.
    report = sweep.sweep_run(now=timezone.now() + dt.timedelta(seconds=30 + 10 + 60 + 10))

    leg.refresh_from_db()
    assert leg.state == LegState.BUSY
    (ended,) = events(leg.call)
    assert (ended.name, ended.leg_id, ended.details["carrier_status"]) == ("sweep.leg_ended", leg.pk, "busy")
    assert report.outcomes == {"leg_ended": 1}
    # Nobody else to ring: the caller is not left on hold.
    caller.wait_for_record(timeout=10)
    assert hotline.call_row().state == CallState.VOICEMAIL


def test_a_leg_still_ringing_at_the_carrier_past_its_timeout_is_hung_up(hotline):
    hotline.flow(queue_timeout_seconds=300)
    hotline.carrier.time_scale = 1000  # the carrier never times the ringing out
    ana = hotline.volunteer("ana")
    caller, emulated_leg, leg = ringing_leg(hotline, ana)

    report = sweep.sweep_run(now=timezone.now() + dt.timedelta(seconds=30 + 10 + 60 + 10))

    emulated_leg.wait_for_state("canceled", timeout=10)
    leg.refresh_from_db()
    assert leg.state == LegState.NO_ANSWER  # so the next round does not ring it again
    (hung_up,) = events(leg.call)
    assert (hung_up.name, hung_up.leg_id) == ("sweep.leg_hung_up", leg.pk)
    assert report.outcomes == {"leg_hung_up": 1}
    caller.wait_for_record(timeout=10)  # nobody left to ring: voicemail


def test_a_caller_still_holding_long_past_the_queue_timeout_is_moved_to_voicemail(hotline):
    hotline.carrier.time_scale = 1000  # the phone rings on, and nothing moves the caller on
    ana = hotline.volunteer("ana")
    caller, emulated_leg, _ = ringing_leg(hotline, ana)

    report = sweep.sweep_run(now=timezone.now() + LATER)

    assert report.outcomes["caller_to_voicemail"] == 1
    caller.wait_for_record(timeout=10)
    call = hotline.call_row()
    assert call.state == CallState.VOICEMAIL
    still = CallEvent.objects.get(call=call, name="sweep.caller_still_there")
    assert still.details == {"state": "ringing", "carrier_status": "in-progress"}
    emulated_leg.wait_for_state("canceled", timeout=10)  # and the phone stops ringing


def test_calls_and_legs_inside_their_bounds_are_left_alone(hotline):
    ana, ben = hotline.volunteer("ana"), hotline.volunteer("ben")
    first = hotline.dial(from_="+14155550111")
    first.wait_for_state("queued", timeout=10)
    hotline.phone(ana).wait_ringing(timeout=10)
    hotline.phone(ana).answer().press("1")
    first.wait_for_state("bridged", timeout=10)
    ringing_leg(hotline, ben)
    before = (
        sorted(Call.objects.values_list("pk", "state")),
        sorted(CallLeg.objects.values_list("pk", "state")),
    )
    lookups = len([r for r in hotline.carrier.requests if r.method == "GET"])

    report = sweep.sweep_run()

    assert (report.outcomes, report.failed) == ({}, 0)
    assert len([r for r in hotline.carrier.requests if r.method == "GET"]) == lookups
    after = (
        sorted(Call.objects.values_list("pk", "state")),
        sorted(CallLeg.objects.values_list("pk", "state")),
    )
    assert after == before
    assert not CallEvent.objects.filter(name__startswith="sweep.").exists()


def test_a_provider_error_on_one_call_leaves_it_for_the_next_run_and_the_others_are_finished(hotline):
    # Nobody on shift: both callers go straight to voicemail, and hang up during the message.
    callers = [hotline.dial(from_=number) for number in ("+14155550111", "+14155550112")]
    for caller in callers:
        caller.wait_for_record(timeout=10)
    hotline.carrier.lose_webhooks()
    for caller in callers:
        caller.hangup()
        caller.wait_for_state("completed", timeout=10)
    rows = {c.provider_call_id: c for c in Call.objects.all()}
    unlucky, lucky = rows[callers[0].sid], rows[callers[1].sid]
    assert {unlucky.state, lucky.state} == {CallState.VOICEMAIL}
    hotline.carrier.fail_next("GET", callers[0].sid, 503)

    report = sweep.sweep_run(now=timezone.now() + LATER)

    assert (report.outcomes, report.failed) == ({"caller_gone": 1}, 1)
    unlucky.refresh_from_db()
    lucky.refresh_from_db()
    assert (unlucky.state, unlucky.ended_at) == (CallState.VOICEMAIL, None)
    assert (lucky.state, [e.name for e in events(lucky)]) == (CallState.MISSED, ["sweep.caller_gone"])

    # The next run is the beat's task, with the clock as it is: the unlucky call's history is
    # an hour old by then. One run at a time: while another holds the lock, it does nothing.
    CallEvent.objects.filter(call=unlucky).update(created_at=F("created_at") - LATER)
    cache.add(sweep.SWEEP_LOCK, 1, timeout=60)
    try:
        sweep.calls_sweep()
        unlucky.refresh_from_db()
        assert unlucky.ended_at is None
    finally:
        cache.delete(sweep.SWEEP_LOCK)
    sweep.calls_sweep()
    unlucky.refresh_from_db()
    assert (unlucky.state, [e.name for e in events(unlucky)]) == (CallState.MISSED, ["sweep.caller_gone"])


def test_beat_runs_the_sweep_every_minute():
    entry = settings.CELERY_BEAT_SCHEDULE["calls-sweep"]
    assert entry["schedule"] == 60.0
    assert entry["task"] == sweep.calls_sweep.name
    assert entry["task"] in celery_app.tasks
