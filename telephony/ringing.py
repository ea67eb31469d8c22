"""Who to ring, starting their legs concurrently, and cancelling the legs that lost.

Runs in Celery tasks (tasks.py), never inside a webhook answer: every function here may talk to
the provider's REST API. Retryable provider errors are raised for the tasks to retry; the retry
policy lives there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

from django.db import close_old_connections, connection
from django.utils import timezone

from volunteers.models import CallPreference, Volunteer
from volunteers.shifts import volunteers_to_ring

from .call_models import LEG_LIVE_STATES, WAITING_STATES, Call, CallLeg, CallState, LegState
from .calls import call_event_record, call_transition, leg_set_state
from .events import event_send, volunteer_group
from .flow import step_url
from .providers import ProviderError, provider_for

logger = logging.getLogger(__name__)

MAX_PARALLEL_LEGS = 64


def phone_volunteers(volunteers: Iterable[Volunteer]) -> list[Volunteer]:
    return [
        volunteer
        for volunteer in volunteers
        if volunteer.phone and volunteer.call_preference in (CallPreference.PHONE, CallPreference.BOTH)
    ]


def browser_volunteers(volunteers: Iterable[Volunteer]) -> list[Volunteer]:
    return [
        volunteer
        for volunteer in volunteers
        if volunteer.call_preference in (CallPreference.BROWSER, CallPreference.BOTH)
    ]


def anyone_to_ring() -> bool:
    """A cheap check for the webhook: is there at least one volunteer we could ring now?"""
    return bool(volunteers_to_ring(at=timezone.now()))


def _in_thread(function: Callable, item) -> ProviderError | None:
    """Run ``function(item)`` in a pool thread with its own database connection, closed after.

    A retryable ProviderError is returned, not raised, so one slow leg never stops the others.
    """
    try:
        function(item)
        return None
    except ProviderError as error:
        if error.permanent:
            raise
        return error
    finally:
        connection.close()


def fan_out(function: Callable, items: list) -> dict:
    """Call ``function`` for every item at once; {item: retryable error} for those that failed."""
    if not items:
        return {}
    close_old_connections()
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_LEGS, len(items))) as pool:
        results = list(pool.map(lambda item: _in_thread(function, item), items))
    return {item: error for item, error in zip(items, results, strict=True) if error is not None}


def _still_waiting(call: Call) -> bool:
    return Call.objects.filter(pk=call.pk, state__in=WAITING_STATES).exists()


def leg_start(*, leg_id: int, ring_timeout_seconds: int) -> None:
    """Place one leg (idempotent). Raises ProviderError when a retry may help."""
    leg = CallLeg.objects.select_related("call__provider_account", "volunteer").get(pk=leg_id)
    if leg.state != LegState.PENDING or leg.provider_request_id:
        return
    call = leg.call
    if not _still_waiting(call):
        leg_set_state(leg=leg, state=LegState.CANCELED, ended_at=timezone.now())
        return
    try:
        request_id = provider_for(call.provider_account).start_leg(
            to=str(leg.volunteer.phone),
            from_=str(call.provider_account.hotline_number),
            answer_url=step_url("leg_answer", leg_id=leg.pk),
            status_url=step_url("leg_status", leg_id=leg.pk),
            ring_timeout_seconds=ring_timeout_seconds,
            machine_detection=True,
        )
    except ProviderError as error:
        if not error.permanent:
            raise
        leg_set_state(leg=leg, state=LegState.FAILED, error=error.message[:200], ended_at=timezone.now())
        return
    CallLeg.objects.filter(pk=leg.pk).update(provider_request_id=request_id, requested_at=timezone.now())
    # The leg's first webhook may already have stored its own call id (Plivo's CallUUID).
    CallLeg.objects.filter(pk=leg.pk, provider_call_id="").update(provider_call_id=request_id)
    leg.refresh_from_db(fields=["provider_call_id", "provider_request_id", "requested_at"])
    leg_set_state(leg=leg, state=LegState.REQUESTED)
    # The call may have been answered or abandoned while this leg was being placed.
    if not _still_waiting(call):
        legs_cancel(call=call, legs=[leg])


def ring_volunteers(*, call: Call, ring_timeout_seconds: int) -> tuple[list[CallLeg], list[int]]:
    """One leg per phone volunteer to ring, all started at once; browsers hear it by websocket.

    Returns the call's legs and the ids of legs whose start failed in a retryable way.
    """
    volunteers = volunteers_to_ring(at=timezone.now())
    legs = [
        CallLeg.objects.get_or_create(call=call, volunteer=volunteer)[0]
        for volunteer in phone_volunteers(volunteers)
    ]
    call_transition(
        call=call, to_state=CallState.RINGING, event="call.ringing", volunteer_count=len(volunteers)
    )
    for volunteer in browser_volunteers(volunteers):
        event_send(group=volunteer_group(volunteer.user_id), event_type="call.ringing", call=call.pk)
    pending = [leg.pk for leg in legs if leg.state == LegState.PENDING and not leg.provider_request_id]
    failed = fan_out(
        lambda leg_id: leg_start(leg_id=leg_id, ring_timeout_seconds=ring_timeout_seconds), pending
    )
    for leg_id, error in failed.items():
        logger.warning("leg %s: retryable provider error: %s", leg_id, error.message)
    return legs, list(failed)


def _end_leg(leg_id: int) -> None:
    leg = CallLeg.objects.select_related("call__provider_account").get(pk=leg_id)
    try:
        provider_for(leg.call.provider_account).end_leg(
            leg.provider_call_id, request_id=leg.provider_request_id
        )
    except ProviderError as error:
        call_event_record(call=leg.call, leg=leg, name="leg.cancel_failed", error=error.message[:200])
        if not error.permanent:
            raise
        return  # wrong credentials or a refused request: retrying cannot help, the row says why
    leg_set_state(leg=leg, state=LegState.CANCELED, ended_at=timezone.now())


def legs_cancel(*, call: Call, legs: Iterable[CallLeg] | None = None, keep_leg_id: int | None = None) -> int:
    """End every live leg of ``call`` (except the winner), concurrently. Returns how many.

    Raises the first retryable ProviderError after trying them all, so the task can retry.
    """
    if legs is None:
        legs = CallLeg.objects.filter(call=call, state__in=LEG_LIVE_STATES).exclude(pk=keep_leg_id)
    legs = list(legs)
    for leg in legs:
        if not leg.provider_call_id:
            # Not placed yet: leg_start sees the call is no longer waiting and gives up.
            leg_set_state(leg=leg, state=LegState.CANCELED, ended_at=timezone.now())
    failed = fan_out(_end_leg, [leg.pk for leg in legs if leg.provider_call_id])
    if failed:
        raise next(iter(failed.values()))
    return len(legs)
