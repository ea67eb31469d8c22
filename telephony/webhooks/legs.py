"""Provider webhooks of the volunteers' legs: answered, pressed 1, rang, ended, told the call
was taken. First pickup wins (calls.call_claim); the caller's side is in views.py.
"""

from __future__ import annotations

from functools import wraps

from django.http import HttpResponse
from django.utils import timezone

from .. import flow
from ..call_flow import call_flow_settings_get as call_flow_settings
from ..calls import call_claim, leg_set_state
from ..instructions import Script
from ..models import WAITING_STATES, CallLeg, CallState, LegState
from ..providers import Provider
from ..tasks import (
    call_legs_cancel,
    leg_end_task,
    next_round_if_nobody_left,
    queue_after_commit,
    winner_left_check_queue,
)
from .parsing import webhook_event
from .verification import verified_webhook

LEG_END_STATES = {
    "completed": LegState.COMPLETED,
    "busy": LegState.BUSY,
    "no-answer": LegState.NO_ANSWER,
    "failed": LegState.FAILED,
    "canceled": LegState.CANCELED,
}


def _empty_ok() -> HttpResponse:
    # Status callbacks only need a 2xx; the provider ignores the body.
    return HttpResponse(status=204)


def leg_step(view):
    """A verified step URL of one volunteer leg; remembers the id the carrier uses for it."""

    @wraps(view)
    def inner(request, provider: Provider, leg_id: int):
        # Not the volunteer: status callbacks need only its id; the views that speak load it.
        leg = (
            CallLeg.objects.select_related("call")
            .filter(pk=leg_id, call__provider_account=provider.account)
            .first()
        )
        if leg is None:
            return provider.render(flow.unknown_call())
        event = webhook_event(request, provider)
        ids = {}
        if event.call_id and event.call_id != leg.provider_call_id:
            # Plivo's CallUUID differs from the request id start_leg got; hang-ups need it.
            ids["provider_call_id"] = event.call_id
        if event.request_id and not leg.provider_request_id:
            # The carrier was first: the ringing task has not written down what it placed (yet).
            ids["provider_request_id"] = event.request_id
        if ids:
            CallLeg.objects.filter(pk=leg.pk).update(**ids)
            for name, value in ids.items():
                setattr(leg, name, value)
        return view(request, provider, leg, event)

    return verified_webhook(inner)


def _claim(leg: CallLeg) -> Script:
    call = leg.call
    if call_claim(call=call, leg=leg):
        queue_after_commit(call_legs_cancel, call.pk, leg.pk)
        return flow.leg_bridge(leg=leg, call=call, flow=call_flow_settings())
    return flow.leg_taken(leg=leg)


def _leg_ended(leg: CallLeg, *, could_have_won: bool) -> None:
    """After a leg really ended: ring the next round if it was the last one ringing, and, if it
    had taken the call unbridged, look again shortly. Both are decided on the rows as they are
    now: the call loaded with this request may have been claimed since."""
    if could_have_won:
        winner_left_check_queue(leg)
    next_round_if_nobody_left(leg.call)


def _is_winner(leg: CallLeg) -> bool:
    leg.call.refresh_from_db(fields=["state", "answered_by"])
    return (
        leg.state == LegState.ACCEPTED
        and leg.call.answered_by_id == leg.volunteer_id
        and leg.call.state == CallState.ANSWERED
    )


@leg_step
def leg_answer(request, provider: Provider, leg: CallLeg, event):
    if _is_winner(leg):  # a repeated answer webhook for the leg already bridged
        return provider.render(flow.leg_bridge(leg=leg, call=leg.call, flow=call_flow_settings()))
    if event.answered_by == "machine":
        if leg_set_state(leg=leg, state=LegState.MACHINE, ended_at=timezone.now()):
            next_round_if_nobody_left(leg.call)
        return provider.render(flow.goodbye())
    leg_set_state(leg=leg, state=LegState.ANSWERED, answered_at=timezone.now())
    if leg.call.state not in WAITING_STATES:
        leg_set_state(leg=leg, state=LegState.TAKEN_ELSEWHERE)
        return provider.render(flow.leg_taken(leg=leg))
    if call_flow_settings().require_press_to_accept:
        return provider.render(flow.leg_offer(leg=leg))
    return provider.render(_claim(leg))


@leg_step
def leg_accept(request, provider: Provider, leg: CallLeg, event):
    if _is_winner(leg):  # the carrier retried the "1": keep the winner on the line
        return provider.render(flow.leg_bridge(leg=leg, call=leg.call, flow=call_flow_settings()))
    if event.digits.strip()[:1] == "1":
        return provider.render(_claim(leg))
    if leg_set_state(leg=leg, state=LegState.DECLINED, ended_at=timezone.now()):
        next_round_if_nobody_left(leg.call)
    return provider.render(flow.goodbye())


@leg_step
def leg_status(request, provider: Provider, leg: CallLeg, event):
    if event.answered_by == "machine":  # asynchronous machine detection, should it be on
        if leg_set_state(leg=leg, state=LegState.MACHINE, ended_at=timezone.now()):
            queue_after_commit(leg_end_task, leg.pk)
            next_round_if_nobody_left(leg.call)
    elif event.call_status == "ringing":
        moved = leg_set_state(leg=leg, state=LegState.RINGING)
        if not moved and leg.state == LegState.CANCELED and leg.requested_at is None:
            # Given up on before the ringing task wrote down what it placed (it stopped in
            # between, and the caller has gone): a phone rings for nobody. This callback brought
            # the ids, so it is hung up now rather than at its timeout. A leg the task did write
            # down was, or is being, cancelled by it.
            queue_after_commit(leg_end_task, leg.pk)
    else:
        # Only a leg that had picked up can have taken the call (a claim needs it answered).
        could_have_won = leg.state in (LegState.ANSWERED, LegState.ACCEPTED)
        if event.call_status in LEG_END_STATES and leg_set_state(
            leg=leg, state=LEG_END_STATES[event.call_status], ended_at=timezone.now()
        ):
            _leg_ended(leg, could_have_won=could_have_won)
    return _empty_ok()


@leg_step
def leg_taken(request, provider: Provider, leg: CallLeg, event):
    """Where a volunteer still deciding is moved once someone else took the call."""
    if _is_winner(leg):  # never the case (the winner is not moved), but never cut the winner off
        return provider.render(flow.leg_bridge(leg=leg, call=leg.call, flow=call_flow_settings()))
    leg_set_state(leg=leg, state=LegState.TAKEN_ELSEWHERE)
    return provider.render(flow.leg_taken(leg=leg))


@leg_step
def leg_bridge_ended(request, provider: Provider, leg: CallLeg, event):
    return provider.render(flow.goodbye())
