"""Callbacks that race: delivered at the same instant, reversed, repeated, over real HTTP to the
live server, signed as the carrier signs them, with a real Celery worker doing the REST work.

Every race runs many times for each provider. Whatever order the database sees them in, a call
the caller left ends, no volunteer is left busy, no leg moves backwards, and at most one leg
takes the call.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
from django.db import connections
from django.utils import timezone

from telephony.models import (
    LEG_FINAL_STATES,
    WAITING_STATES,
    Call,
    CallEvent,
    CallLeg,
    CallState,
    LegState,
)
from telephony.ringing import volunteer_busy_ids
from tests.waiting import wait_until

from .callbacks import Webhooks

pytestmark = pytest.mark.django_db(transaction=True)
ROUNDS = 25
FINAL_CALL_STATES = {CallState.COMPLETED, CallState.MISSED, CallState.VOICEMAIL}
# The order a leg's states may be reached in; an event sequence that goes down this list is a
# leg moving backwards.
LEG_ORDER = [
    LegState.PENDING,
    LegState.REQUESTED,
    LegState.RINGING,
    LegState.ANSWERED,
    LegState.ACCEPTED,
    *sorted(LEG_FINAL_STATES),
]


def _call_with_an_offered_leg(hotline, round_: int) -> tuple[Call, CallLeg]:
    """A caller on hold and a volunteer who picked up and is hearing "press 1"."""
    now = timezone.now()
    call = Call.objects.create(
        provider_account_id=hotline_account_id(hotline),
        provider=hotline.provider,
        provider_call_id=f"{'CA' if hotline.provider == 'twilio' else 'caller-'}{round_:032d}",
        caller_hash="race",
        state=CallState.RINGING,
        queued_at=now,
    )
    leg = CallLeg.objects.create(
        call=call,
        volunteer=hotline.volunteers[0],
        provider_call_id=f"{'CA' if hotline.provider == 'twilio' else 'leg-'}{round_ + 10_000:032d}",
        provider_request_id=f"request-{round_}",
        state=LegState.ANSWERED,
        requested_at=now,
        answered_at=now,
    )
    return call, leg


def hotline_account_id(hotline) -> int:
    from telephony.models import ProviderAccount

    return ProviderAccount.objects.get(provider=hotline.provider).pk


def together(*actions) -> None:
    """Run ``actions`` in threads released at the same instant."""
    barrier = threading.Barrier(len(actions))
    failures = []

    def run(action):
        try:
            barrier.wait(timeout=10)
            action()
        except Exception as error:  # reported below, with the test's own assertion
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert failures == []


def assert_legs_only_moved_forward(call: Call) -> None:
    for leg in call.legs.all():
        names = CallEvent.objects.filter(leg=leg, name__startswith="leg.").order_by("pk")
        reached = [name.removeprefix("leg.") for name in names.values_list("name", flat=True)]
        reached = [state for state in reached if state in LEG_ORDER]
        positions = [LEG_ORDER.index(state) for state in reached]
        assert positions == sorted(positions), (leg.pk, reached)
        assert sum(state in LEG_FINAL_STATES for state in reached) <= 1, (leg.pk, reached)


def assert_call_settled(call: Call) -> Call:
    call.refresh_from_db()
    assert call.state in FINAL_CALL_STATES, call.state
    assert call.ended_at is not None
    assert not CallEvent.objects.filter(call=call, name="call.claimed").count() > 1
    assert call.legs.filter(state=LegState.ACCEPTED).count() <= 1
    assert_legs_only_moved_forward(call)
    return call


def test_a_caller_hanging_up_as_a_volunteer_presses_one_always_ends_the_call(hotline):
    hotline.volunteer("ana")
    hooks = Webhooks(hotline)
    outcomes = Counter()
    for round_ in range(ROUNDS):
        call, leg = _call_with_an_offered_leg(hotline, round_)
        together(lambda call=call: hooks.caller_hung_up(call), lambda leg=leg: hooks.press(leg))
        call = assert_call_settled(call)
        outcomes[call.state] += 1
        if call.state == CallState.COMPLETED:  # the press won, then the hang-up ended it
            assert call.answered_by_id == leg.volunteer_id
            assert call.talk_seconds is not None
        else:  # the hang-up won: the press found nobody waiting
            assert call.state == CallState.MISSED
            assert CallLeg.objects.get(pk=leg.pk).state != LegState.ACCEPTED
        # The volunteer is free again, whichever won.
        assert not volunteer_busy_ids().filter(answered_by_id=leg.volunteer_id).exists()
    assert sum(outcomes.values()) == ROUNDS


def test_a_press_that_arrives_after_the_leg_ended_never_takes_the_call(hotline):
    hotline.volunteer("ana")
    hooks = Webhooks(hotline)
    for round_ in range(ROUNDS):
        call, leg = _call_with_an_offered_leg(hotline, round_)
        hooks.leg_ended(leg)  # the volunteer pressed 1 and hung up: the two arrive reversed
        answer = hooks.press(leg).body
        assert "<Queue" not in answer and "<Conference" not in answer, answer
        leg.refresh_from_db()
        assert leg.state == LegState.COMPLETED
        assert not CallEvent.objects.filter(call=call, name="call.claimed").exists()
        call.refresh_from_db()
        assert call.answered_by_id is None
        assert call.state in (*WAITING_STATES, CallState.VOICEMAIL)
        assert_legs_only_moved_forward(call)
    # With nobody left to ring, each caller is taken to voicemail rather than left on hold.
    wait_until(
        lambda: not Call.objects.filter(state__in=WAITING_STATES).exists(), what="callers sent to voicemail"
    )
    assert set(Call.objects.values_list("state", flat=True)) == {CallState.VOICEMAIL}


def test_a_press_and_the_legs_end_at_the_same_instant_leave_no_volunteer_busy(hotline):
    hotline.volunteer("ana")
    hooks = Webhooks(hotline)
    for round_ in range(ROUNDS):
        call, leg = _call_with_an_offered_leg(hotline, round_)
        together(lambda leg=leg: hooks.leg_ended(leg), lambda leg=leg: hooks.press(leg))
        leg.refresh_from_db()
        assert leg.state == LegState.COMPLETED  # pressed or not, the leg is over
        assert_legs_only_moved_forward(call)
        # Won or not, nobody was bridged: the call waits again (or is in voicemail).
        wait_until(
            lambda call=call: Call.objects.get(pk=call.pk).state in (*WAITING_STATES, CallState.VOICEMAIL),
            what="call waiting again",
        )
        assert not volunteer_busy_ids().filter(answered_by_id=leg.volunteer_id).exists()


def test_repeated_and_reversed_leg_callbacks_change_nothing_after_the_end(hotline):
    hotline.volunteer("ana")
    hooks = Webhooks(hotline)
    call, leg = _call_with_an_offered_leg(hotline, 0)
    hooks.caller_hung_up(call)
    for _ in range(3):
        together(lambda: hooks.press(leg), lambda: hooks.leg_ended(leg), lambda: hooks.caller_hung_up(call))
    call = assert_call_settled(call)
    assert call.state == CallState.MISSED
    assert CallEvent.objects.filter(call=call, to_state=CallState.MISSED).count() == 1


def test_a_winner_who_hangs_up_before_the_bridge_does_not_strand_the_caller(hotline):
    """The volunteer pressed 1 and hung up before the carrier bridged them (the press reached
    the app, its bridge never ran): the caller, still on hold, is taken to voicemail (nobody
    else is left to ring) instead of hearing music for ever."""
    volunteer = hotline.volunteer("ana")
    hooks = Webhooks(hotline)
    caller = hotline.dial()
    caller.wait_for_state("queued")
    offer = hotline.phone(volunteer).answer()
    offer.wait_for_gather()
    leg = CallLeg.objects.get()
    assert "<Queue" in hooks.press(leg).body or hotline.provider == "plivo"
    call = hotline.call_row()
    assert call.state == CallState.ANSWERED and call.bridged_at is None
    offer.hangup()  # the carrier reports the leg's end; the bridge never ran

    caller.wait_for_record(timeout=10)  # the voicemail prompt, not the hold music
    call.refresh_from_db()
    assert call.state == CallState.VOICEMAIL
    assert call.answered_by_id is None
    assert call.ring_rounds == 1  # one next round, not one per callback
    names = list(CallEvent.objects.filter(call=call).exclude(to_state="").values_list("name", flat=True))
    assert names[-2:] == ["call.winner_left", "call.to_voicemail"]
    assert CallEvent.objects.filter(call=call, name="ringing.nobody_reached").count() == 1
    assert not volunteer_busy_ids().exists()
    caller.hangup()
    wait_until(lambda: Call.objects.get(pk=call.pk).ended_at, what="call ended")


def test_when_the_winner_leaves_before_the_bridge_the_others_are_rung_again(hotline):
    """The claim cut the other volunteer's phone off; the winner then left unbridged: the other
    volunteer is rung again and takes the caller."""
    ana, ben = hotline.volunteer("ana"), hotline.volunteer("ben")
    hooks = Webhooks(hotline)
    caller = hotline.dial()
    caller.wait_for_state("queued")
    first_ring = hotline.phone(ben).wait_ringing(timeout=10)
    offer = hotline.phone(ana).answer()
    offer.wait_for_gather()
    leg = CallLeg.objects.get(volunteer=ana)
    hooks.press(leg)
    first_ring.wait_for_state("canceled", timeout=10)  # the claim stopped ben's phone
    wait_until(lambda: CallLeg.objects.get(volunteer=ben).state == LegState.CANCELED, what="ben's leg ended")
    offer.hangup()

    again = hotline.phone(ben).answer(timeout=10)  # rung again, in the next round
    again.press("1")
    caller.wait_for_state("bridged", timeout=10)
    call = hotline.call_row()
    assert (call.state, call.answered_by_id, call.ring_rounds) == (CallState.ANSWERED, ben.pk, 1)
    assert list(CallLeg.objects.filter(volunteer=ben).values_list("ring_round", "state").order_by("pk")) == [
        (0, LegState.CANCELED),
        (1, LegState.ACCEPTED),
    ]
    again.hangup()
    wait_until(lambda: Call.objects.get(pk=call.pk).state == CallState.COMPLETED, what="call completed")


def test_a_claims_late_cancellation_leaves_the_phones_of_a_call_waiting_again_alone(hotline):
    from telephony.tasks import call_legs_cancel

    ana, ben = hotline.volunteer("ana"), hotline.volunteer("ben")
    call, winner = _call_with_an_offered_leg(hotline, 0)
    ringing = CallLeg.objects.create(
        call=call, volunteer=ben, provider_call_id="CA" + "b" * 32, state="ringing"
    )
    CallLeg.objects.filter(pk=winner.pk).update(state=LegState.COMPLETED)  # the winner left; re-opened
    call_legs_cancel.apply(args=(call.pk, winner.pk))
    assert CallLeg.objects.get(pk=ringing.pk).state == LegState.RINGING
    assert ana.pk == winner.volunteer_id


def test_a_bridged_call_is_marked_so_and_ends_completed_when_the_volunteer_hangs_up(hotline):
    volunteer = hotline.volunteer("ana")
    caller = hotline.dial()
    caller.wait_for_state("queued")
    offer = hotline.phone(volunteer).answer()
    offer.press("1")
    caller.wait_for_state("bridged", timeout=10)
    wait_until(lambda: hotline.call_row().bridged_at, what="bridge reported")
    time.sleep(0.2)
    offer.hangup()
    call = wait_until(
        lambda: (c := hotline.call_row()).state == CallState.COMPLETED and c, what="call completed"
    )
    assert not CallEvent.objects.filter(call=call, name="call.winner_left").exists()
    assert not volunteer_busy_ids().exists()


def test_a_caller_whose_hang_up_overtakes_their_first_webhook_is_not_left_waiting(hotline):
    """The status callback (completed) and the incoming webhook of one call, at the same instant
    and reversed: the call ends missed either way, and nobody is rung for a caller who is gone."""
    hotline.volunteer("ana")
    hooks = Webhooks(hotline)
    prefix = "CA" if hotline.provider == "twilio" else "caller-"
    for round_ in range(ROUNDS):
        call_id = f"{prefix}{round_ + 50_000:032d}"
        caller = f"{'+' if hotline.provider == 'twilio' else ''}141555{round_ + 1000:05d}"  # no rate limit
        fields = hooks.ids(call_id, From=caller, To=hotline.account.hotline_number, Direction="inbound")
        ended = {**fields, "CallStatus": "completed"}
        if round_ % 2:
            together(
                lambda ended=ended: hooks.post("/telephony/status", ended),
                lambda fields=fields: hooks.post("/telephony/incoming", {**fields, "CallStatus": "ringing"}),
            )
        else:
            hooks.post("/telephony/status", ended)
            answer = hooks.post("/telephony/incoming", {**fields, "CallStatus": "ringing"}).body
            assert "Enqueue" not in answer and "Conference" not in answer
        call = Call.objects.get(provider_call_id=call_id)
        wait_until(
            lambda call=call: Call.objects.get(pk=call.pk).state == CallState.MISSED, what="call missed"
        )
        assert Call.objects.get(pk=call.pk).ended_at is not None
    wait_until(lambda: not CallLeg.objects.exclude(state__in=LEG_FINAL_STATES).exists(), what="no leg live")
