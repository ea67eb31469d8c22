"""Who to ring, starting their legs concurrently, and cancelling the legs that lost.

The selectors (who could be rung now, is the caller banned or is anybody there) are cheap
queries the incoming webhook asks too. Everything that places or ends legs runs in Celery tasks
(tasks.py), never inside a webhook answer: it talks to the provider's REST API. Retryable
provider errors are raised for the tasks to retry; the retry policy lives there.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from llamenos.events import events_send, volunteer_group
from volunteers.models import CallPreference, Volunteer
from volunteers.shifts import volunteer_ids_on_shift

from .bans import bans_active
from .calls import call_event_record, call_move, leg_set_state, legs_set_state
from .flow import step_url
from .models import (
    LEG_INTERRUPTED_STATES,
    LEG_LIVE_STATES,
    WAITING_STATES,
    Call,
    CallLeg,
    CallState,
    LegState,
)
from .providers import ProviderError, provider_for
from .providers.base import REST_CONNECTIONS

logger = logging.getLogger(__name__)

MAX_PARALLEL_LEGS = REST_CONNECTIONS  # one pooled connection to the provider per thread


# --- who to ring (selectors) ------------------------------------------------------------------


def volunteer_busy_ids() -> QuerySet:
    """Ids of volunteers who are on a call right now (they took it and it has not ended), as a
    subquery, so the selectors below stay one query each."""
    return Call.objects.filter(state=CallState.ANSWERED, answered_by__isnull=False).values("answered_by_id")


def _ringable() -> QuerySet[Volunteer]:
    return (
        Volunteer.objects.filter(user__is_active=True, on_break=False)
        .exclude(id__in=volunteer_busy_ids())
        .select_related("user")
        .order_by("user_id")
    )


def volunteers_to_ring(*, at: dt.datetime, exclude_ids: Iterable[int] = ()) -> list[Volunteer]:
    """Who to ring for a call arriving at ``at``.

    Active, not on break, not on a call, on a shift active at ``at``; when that is nobody, the
    active, not-on-break, not-busy members of the fallback group. ``exclude_ids``: volunteers
    already rung for this call, so a next round reaches the fallback group once everyone on
    shift was tried. Ordered by user id. Whether a volunteer has a phone or a browser to ring
    is decided when the legs are placed (phone_volunteers, browser_volunteers).
    """
    ringable = _ringable().exclude(id__in=list(exclude_ids))
    on_shift = list(ringable.filter(id__in=volunteer_ids_on_shift(at=at)))
    return on_shift or list(ringable.filter(in_fallback_group=True))


def anyone_to_ring_query(
    *, at: dt.datetime | None = None, shift_ids: tuple[int, ...] | None = None
) -> QuerySet[Volunteer]:
    """Non-empty exactly when ``volunteers_to_ring(at=at)`` would find anybody (for EXISTS).
    ``shift_ids`` instead of ``at``: the shifts active then (volunteers.shifts.shift_ids_active_at)."""
    on_shift = volunteer_ids_on_shift(at=at, shift_ids=shift_ids)
    return _ringable().filter(Q(id__in=on_shift) | Q(in_fallback_group=True))


def anyone_to_ring(*, at: dt.datetime) -> bool:
    """Whether ``volunteers_to_ring(at=at)`` would find anybody, in one query."""
    return anyone_to_ring_query(at=at).exists()


@dataclass(frozen=True)
class CallerScreen:
    banned: bool
    anyone_to_ring: bool


def caller_screen(*, caller_hash: str, at: dt.datetime) -> CallerScreen:
    """Whether the caller is banned and, if not, whether anybody could be rung: the incoming
    webhook asks both before the call row exists."""
    if caller_hash and bans_active(at=at).filter(number_hash=caller_hash).exists():
        return CallerScreen(banned=True, anyone_to_ring=False)
    return CallerScreen(banned=False, anyone_to_ring=anyone_to_ring_query(at=at).exists())


# --- placing and ending legs (tasks only) -----------------------------------------------------


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


def fan_out(function: Callable, items: list) -> dict:
    """Call ``function(item)`` for every item at once, in threads that touch no database.

    Returns {item: result or ProviderError}; a retryable error on one item never stops the others.
    """
    if not items:
        return {}

    def attempt(item):
        try:
            return function(item)
        except ProviderError as error:
            return error

    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_LEGS, len(items))) as pool:
        return dict(zip(items, pool.map(attempt, items), strict=True))


def _still_waiting(call: Call) -> bool:
    return Call.objects.filter(pk=call.pk, state__in=WAITING_STATES).exists()


def _leg_request(provider, leg: CallLeg, ring_timeout_seconds: int) -> Callable[[], str]:
    """The REST call that places ``leg``, prepared here so the thread that runs it needs no ORM."""
    arguments = {
        "to": str(leg.volunteer.phone),
        "from_": str(leg.call.provider_account.hotline_number),
        "answer_url": step_url("leg_answer", leg_id=leg.pk),
        "status_url": step_url("leg_status", leg_id=leg.pk),
        "ring_timeout_seconds": ring_timeout_seconds,
        "machine_detection": True,
    }
    return lambda: provider.start_leg(**arguments)


def _legs_placed(call: Call, outcomes: dict[CallLeg, str | ProviderError]) -> list[int]:
    """Store what the carrier answered for each leg; returns the legs to retry."""
    now, retry, placed = timezone.now(), [], {}
    for leg, outcome in outcomes.items():
        if not isinstance(outcome, ProviderError):
            placed[leg.pk] = outcome
        elif outcome.permanent:
            leg_set_state(leg=leg, state=LegState.FAILED, error=outcome.message[:200], ended_at=now)
        else:
            logger.warning("leg %s: retryable provider error: %s", leg.pk, outcome.message)
            retry.append(leg.pk)
    if not placed:
        return retry
    legs = [leg for leg in outcomes if leg.pk in placed]
    with transaction.atomic():
        # Rows are locked in pk order before any is written, as legs_set_state does: a
        # cancellation moving the same legs at the same moment waits instead of deadlocking.
        call_ids = dict(
            CallLeg.objects.select_for_update(no_key=True)
            .filter(pk__in=placed)
            .order_by("pk")
            .values_list("pk", "provider_call_id")
        )
        for leg in legs:
            leg.provider_request_id, leg.requested_at = placed[leg.pk], now
            # The leg's first webhook may already have stored its own call id (Plivo's CallUUID).
            leg.provider_call_id = call_ids[leg.pk] or placed[leg.pk]
        CallLeg.objects.bulk_update(legs, ["provider_request_id", "requested_at", "provider_call_id"])
        legs_set_state(legs=legs, state=LegState.REQUESTED)
    # The call may have been answered or abandoned while the legs were being placed.
    if not _still_waiting(call):
        legs_cancel(call=call, legs=legs)
    return retry


def legs_start(*, call: Call, legs: list[CallLeg], ring_timeout_seconds: int) -> list[int]:
    """Place ``legs`` all at once; returns the ids of legs whose start may be retried."""
    legs = [leg for leg in legs if leg.state == LegState.PENDING and not leg.provider_request_id]
    if not legs:
        return []
    if not _still_waiting(call):
        legs_set_state(legs=legs, state=LegState.CANCELED, ended_at=timezone.now())
        return []
    provider = provider_for(call.provider_account)
    requests = {leg: _leg_request(provider, leg, ring_timeout_seconds) for leg in legs}
    return _legs_placed(call, fan_out(lambda leg: requests[leg](), legs))


def leg_start(*, leg_id: int, ring_timeout_seconds: int) -> None:
    """Place one leg (idempotent). Raises ProviderError when a retry may help."""
    leg = CallLeg.objects.select_related("call__provider_account", "volunteer").get(pk=leg_id)
    if legs_start(call=leg.call, legs=[leg], ring_timeout_seconds=ring_timeout_seconds):
        raise ProviderError("the provider could not place the leg yet", permanent=False)


def speakers_first(volunteers: list[Volunteer], language: str) -> list[Volunteer]:
    """Those who speak ``language``, or everyone when nobody does (or the language is not known)."""
    speakers = [volunteer for volunteer in volunteers if language and language in volunteer.spoken_languages]
    return speakers or volunteers


def ring_volunteers(*, call: Call, ring_timeout_seconds: int, language: str = "") -> tuple[list[int], int]:
    """One round of ringing: a leg for each phone volunteer who can be rung now and has not
    been rung for this call yet (or whose leg a claim interrupted, when that winner left before
    the bridge and the call waits again), those who speak ``language`` (the caller's, on a hotline that
    offers several) first: the others are the next round (tasks.next_round_if_nobody_left).
    All legs start at once; browsers hear it by websocket.

    Returns the ids of legs whose start failed in a retryable way, and how many volunteers
    this round added.
    """
    rung = set(
        CallLeg.objects.filter(call=call)
        .exclude(state__in=LEG_INTERRUPTED_STATES)
        .values_list("volunteer_id", flat=True)
    )
    volunteers = volunteers_to_ring(at=timezone.now(), exclude_ids=rung)
    chosen = speakers_first(phone_volunteers(volunteers), language)
    CallLeg.objects.bulk_create(
        [CallLeg(call=call, volunteer=volunteer, ring_round=call.ring_rounds) for volunteer in chosen],
        ignore_conflicts=True,  # a redelivered task keeps the legs it already made
    )
    legs = list(CallLeg.objects.filter(call=call).select_related("volunteer", "call__provider_account"))
    first = call_move(call=call, event="call.ringing", volunteer_count=len(chosen))
    if not first and rung:
        call_event_record(call=call, name="ringing.next_round", volunteer_count=len(chosen))
    events_send(
        groups=[volunteer_group(volunteer.user_id) for volunteer in browser_volunteers(volunteers)],
        event_type="call.ringing",
        call=call.pk,
    )
    return legs_start(call=call, legs=legs, ring_timeout_seconds=ring_timeout_seconds), len(chosen)


def legs_cancel(
    *,
    call: Call,
    legs: Iterable[CallLeg] | None = None,
    keep_leg_id: int | None = None,
    ended_state: str = LegState.CANCELED,
) -> int:
    """End every live leg of ``call`` (except the winner), concurrently. Returns how many.
    ``ended_state``: what an ended leg becomes (the sweep ends a leg nobody answered in time).

    After a claim (``keep_leg_id``), a volunteer who already picked up and is hearing the offer
    is not cut off: the leg is moved to a message saying the call was taken, then hangs up.
    Ringing legs are cancelled. Raises the first retryable ProviderError after trying them all,
    so the task can retry.
    """
    if legs is None:
        legs = CallLeg.objects.filter(call=call, state__in=LEG_LIVE_STATES).exclude(pk=keep_leg_id)
    legs = list(legs)
    now = timezone.now()
    # Not placed yet: legs_start sees the call is no longer waiting and gives up.
    unplaced = [leg for leg in legs if not leg.provider_call_id]
    legs_set_state(legs=unplaced, state=LegState.CANCELED, ended_at=now)
    placed = [leg for leg in legs if leg.provider_call_id]
    if not placed:
        return len(legs)
    provider = provider_for(call.provider_account)
    told = {leg for leg in placed if keep_leg_id is not None and leg.state == LegState.ANSWERED}

    def end(leg: CallLeg) -> None:
        if leg in told:
            provider.transfer(leg.provider_call_id, step_url("leg_taken", leg_id=leg.pk))
        else:
            provider.end_leg(
                leg.provider_call_id,
                request_id=leg.provider_request_id,
                # A cancelled leg ended here is one the carrier placed after we gave up on it.
                ringing=leg.state in (LegState.REQUESTED, LegState.RINGING, LegState.CANCELED),
            )

    retryable, taken, ended = None, [], []
    for leg, outcome in fan_out(end, placed).items():
        if isinstance(outcome, ProviderError):
            # A permanent refusal (credentials) cannot be retried; the row says why.
            call_event_record(call=call, leg=leg, name="leg.cancel_failed", error=outcome.message[:200])
            retryable = retryable or (None if outcome.permanent else outcome)
        else:
            (taken if leg in told else ended).append(leg)
    legs_set_state(legs=taken, state=LegState.TAKEN_ELSEWHERE)  # their own XML hangs up
    legs_set_state(legs=ended, state=ended_state, ended_at=now)
    if retryable:
        raise retryable
    return len(legs)
