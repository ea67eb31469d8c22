"""Who to ring, starting their legs concurrently, and cancelling the legs that lost.

Runs in Celery tasks (tasks.py), never inside a webhook answer: every function here may talk to
the provider's REST API.
"""

from __future__ import annotations

import logging
import time
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
# A leg that failed for a retryable reason (429, 5xx, network) is tried again quickly: the caller
# is waiting, so backoff is short and bounded.
LEG_START_RETRY_DELAYS = (0.25, 1.0)


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


def _in_thread(function: Callable, *args):
    """Run ``function`` in a pool thread with its own database connection, closed afterwards."""
    try:
        return function(*args)
    finally:
        connection.close()


def _start_leg(leg_id: int, ring_timeout_seconds: int) -> None:
    leg = CallLeg.objects.select_related("call__provider_account", "volunteer").get(pk=leg_id)
    call = leg.call
    provider = provider_for(call.provider_account)
    for attempt, delay in enumerate((0.0, *LEG_START_RETRY_DELAYS)):
        if delay:
            time.sleep(delay)
        if Call.objects.filter(pk=call.pk, state__in=WAITING_STATES).exists() is False:
            leg_set_state(leg=leg, state=LegState.CANCELED, ended_at=timezone.now())
            return
        try:
            provider_call_id = provider.start_leg(
                to=str(leg.volunteer.phone),
                from_=str(call.provider_account.hotline_number),
                answer_url=step_url("leg_answer", leg_id=leg.pk),
                status_url=step_url("leg_status", leg_id=leg.pk),
                ring_timeout_seconds=ring_timeout_seconds,
                machine_detection=True,
            )
        except ProviderError as error:
            if error.permanent or attempt == len(LEG_START_RETRY_DELAYS):
                leg_set_state(
                    leg=leg, state=LegState.FAILED, error=error.message[:200], ended_at=timezone.now()
                )
                return
            logger.warning("leg %s: retryable provider error, retrying: %s", leg.pk, error.message)
            continue
        CallLeg.objects.filter(pk=leg.pk).update(
            provider_call_id=provider_call_id, requested_at=timezone.now()
        )
        leg_set_state(leg=leg, state=LegState.REQUESTED)
        # The call may have been answered by another leg while this one was being placed.
        if not Call.objects.filter(pk=call.pk, state__in=WAITING_STATES).exists():
            legs_cancel(call=call, legs=[leg])
        return


def ring_volunteers(*, call: Call, ring_timeout_seconds: int) -> list[CallLeg]:
    """Create one leg per phone volunteer to ring and start them all at once.

    Returns the legs that were created. Browser volunteers are told over their websocket.
    """
    volunteers = volunteers_to_ring(at=timezone.now())
    phones = phone_volunteers(volunteers)
    legs = [CallLeg.objects.get_or_create(call=call, volunteer=volunteer)[0] for volunteer in phones]
    new_legs = [leg for leg in legs if leg.state == LegState.PENDING and not leg.provider_call_id]
    call_transition(
        call=call, to_state=CallState.RINGING, event="call.ringing", volunteer_count=len(volunteers)
    )
    for volunteer in browser_volunteers(volunteers):
        event_send(group=volunteer_group(volunteer.user_id), event_type="call.ringing", call=call.pk)
    if new_legs:
        close_old_connections()
        with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_LEGS, len(new_legs))) as pool:
            futures = [pool.submit(_in_thread, _start_leg, leg.pk, ring_timeout_seconds) for leg in new_legs]
            for future in futures:
                future.result()
    return legs


def _end_leg(leg_id: int) -> None:
    leg = CallLeg.objects.select_related("call__provider_account").get(pk=leg_id)
    try:
        provider_for(leg.call.provider_account).end_leg(leg.provider_call_id)
    except ProviderError as error:
        # The leg may already be over at the carrier (it hung up as we cancelled): nothing to undo.
        call_event_record(call=leg.call, leg=leg, name="leg.cancel_failed", error=error.message[:200])
        return
    leg_set_state(leg=leg, state=LegState.CANCELED, ended_at=timezone.now())


def legs_cancel(*, call: Call, legs: Iterable[CallLeg] | None = None, keep_leg_id: int | None = None) -> int:
    """End every live leg of ``call`` (except the winner), concurrently. Returns how many."""
    if legs is None:
        legs = CallLeg.objects.filter(call=call, state__in=LEG_LIVE_STATES).exclude(pk=keep_leg_id)
    legs = list(legs)
    placed = [leg for leg in legs if leg.provider_call_id]
    for leg in legs:
        if not leg.provider_call_id:
            # Not placed yet: _start_leg sees the call is no longer waiting and gives up.
            leg_set_state(leg=leg, state=LegState.CANCELED, ended_at=timezone.now())
    if placed:
        close_old_connections()
        with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_LEGS, len(placed))) as pool:
            for future in [pool.submit(_in_thread, _end_leg, leg.pk) for leg in placed]:
                future.result()
    return len(legs)
