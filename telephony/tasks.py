"""Celery tasks: take ids, load rows, call a service. All are safe to run twice.

The retry policy for provider REST calls lives here: retryable ProviderErrors (429, 5xx, network)
are retried with a short backoff, because a caller is waiting; permanent ones are recorded.
"""

from __future__ import annotations

import datetime as dt
import logging

from celery import current_app, shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from .call_flow import call_flow_settings_get
from .calls import call_event_record, call_move, call_winner_left, leg_set_state
from .flow import step_url
from .languages import language_menu
from .models import LEG_LIVE_STATES, WAITING_STATES, Call, CallLeg, CallState, LegState
from .providers import ProviderError, provider_for
from .ringing import leg_start, legs_cancel, ring_volunteers

logger = logging.getLogger(__name__)

# The wait URL's own check comes first; the backstop only acts if the provider stopped asking.
QUEUE_TIMEOUT_MARGIN_SECONDS = 15
PROVIDER_RETRY = {
    "autoretry_for": (ProviderError,),
    "retry_backoff": 1,
    "retry_backoff_max": 8,
    "retry_jitter": False,
    "max_retries": 4,
}


def queue_after_commit(task, *args, countdown: float | None = None) -> None:
    """Queue ``task`` once the transaction commits (at once outside one)."""
    # robust: a broker hiccup is logged, it must not turn the caller's XML answer into a 500.
    transaction.on_commit(lambda: task.apply_async(args, countdown=countdown), robust=True)


def _someone_left():
    return CallLeg.objects.filter(call=OuterRef("pk"), state__in=LEG_LIVE_STATES | {LegState.ACCEPTED})


def voicemail_if_nobody_left(call: Call) -> None:
    """Nobody is ringing and nobody new could be rung: the caller goes to voicemail now, not at
    the timeout. One query when someone is still ringing or the call has moved on."""
    if Call.objects.filter(pk=call.pk, state__in=WAITING_STATES).exclude(Exists(_someone_left())).exists():
        call_event_record(call=call, name="ringing.nobody_reached", leg_count=call.legs.count())
        queue_after_commit(call_to_voicemail_task, call.pk)


def next_round_if_nobody_left(call: Call) -> None:
    """A leg of a waiting call has just ended unanswered; if it was the last one ringing, ring
    whoever has not been rung yet (call_ring's next round: the volunteers who do not speak the
    caller's language, those who have come free, the fallback group), and when that is nobody,
    voicemail. Call it only after a leg really moved: a repeated callback decides nothing.

    Two legs ending at once queue one round: the round count is raised by one conditional
    UPDATE, which only one of them can make. One statement when someone is still ringing.
    """
    rounds = Call.objects.filter(pk=call.pk, state__in=WAITING_STATES, ring_rounds=call.ring_rounds)
    if rounds.exclude(Exists(_someone_left())).update(ring_rounds=F("ring_rounds") + 1):
        call.ring_rounds += 1
        queue_after_commit(call_ring, call.pk)


def call_reopen_if_winner_left(call: Call, leg: CallLeg) -> bool:
    """``leg`` has ended: if it had taken the call and was never bridged, the caller is still on
    hold, and the call waits again: the legs still ringing can take it, or a next round rings
    the others (those the claim interrupted too), or voicemail. True if the call re-opened."""
    if not call_winner_left(call=call, leg=leg):
        return False
    call.refresh_from_db(fields=["ring_rounds"])
    next_round_if_nobody_left(call)
    return True


def winner_left_check_queue(leg: CallLeg) -> None:
    """``leg`` has just ended; if its volunteer had taken the call and no bridge was reported,
    look again after a grace period: a carrier's bridge notification (Plivo's conference
    callback) may arrive after the leg's own hang-up callback."""
    unbridged = Call.objects.filter(
        pk=leg.call_id, state=CallState.ANSWERED, answered_by=leg.volunteer_id, bridged_at__isnull=True
    )
    if unbridged.exists():
        queue_after_commit(call_winner_left_check, leg.pk, countdown=settings.WINNER_LEFT_GRACE_SECONDS)


@shared_task(acks_late=True, ignore_result=True)
def call_winner_left_check(leg_id: int) -> None:
    leg = CallLeg.objects.select_related("call").filter(pk=leg_id).first()
    if leg is not None:
        call_reopen_if_winner_left(leg.call, leg)


@shared_task(acks_late=True, ignore_result=True)
def call_ring(call_id: int) -> None:
    """Ring everyone available for a waiting call (one round); nobody reachable sends the caller
    to voicemail."""
    call = Call.objects.select_related("provider_account").filter(pk=call_id).first()
    if call is None or call.state not in WAITING_STATES:
        return  # answered or over; a redelivered task for a ringing call starts only missing legs
    settings_row = call_flow_settings_get()
    if call.state == CallState.QUEUED:  # the first delivery; a redelivery finds it ringing
        queue_timeout_schedule(call=call, after_seconds=settings_row.queue_timeout_seconds)
    ring_timeout = settings_row.ring_timeout_seconds
    # On a hotline of one language everyone speaks it, whatever their profile says.
    language = call.language if len(language_menu(settings_row.language_menu)) > 1 else ""
    retry_ids, added = ring_volunteers(call=call, ring_timeout_seconds=ring_timeout, language=language)
    for leg_id in retry_ids:
        leg_start_task.apply_async((leg_id, ring_timeout), countdown=1)
    if added:  # every new leg may have failed at once: then the next round, or voicemail
        next_round_if_nobody_left(call)
    else:
        voicemail_if_nobody_left(call)


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=3)
def leg_start_task(self, leg_id: int, ring_timeout_seconds: int) -> None:
    try:
        leg_start(leg_id=leg_id, ring_timeout_seconds=ring_timeout_seconds)
    except ProviderError as error:
        if self.request.retries < self.max_retries:
            raise self.retry(exc=error, countdown=2**self.request.retries) from error
        # Out of retries: the leg failed, and the caller may have nobody left to ring.
        leg = CallLeg.objects.select_related("call").get(pk=leg_id)
        if leg_set_state(leg=leg, state=LegState.FAILED, error=error.message[:200], ended_at=timezone.now()):
            next_round_if_nobody_left(leg.call)


@shared_task(acks_late=True, ignore_result=True, **PROVIDER_RETRY)
def call_legs_cancel(call_id: int, keep_leg_id: int | None = None) -> None:
    call = Call.objects.filter(pk=call_id).first()
    if call is None:
        return
    if keep_leg_id is not None and call.state in WAITING_STATES:
        # A claim's cancellation, late: the winner has left since and the call waits again, so
        # the legs still ringing are the caller's best chance now.
        return
    legs_cancel(call=call, keep_leg_id=keep_leg_id)


@shared_task(acks_late=True, ignore_result=True, **PROVIDER_RETRY)
def leg_end_task(leg_id: int) -> None:
    """Hang up one leg (an answering machine that async detection found)."""
    leg = CallLeg.objects.select_related("call").filter(pk=leg_id).first()
    if leg is not None and leg.provider_call_id:
        legs_cancel(call=leg.call, legs=[leg])


@shared_task(acks_late=True, ignore_result=True, **PROVIDER_RETRY)
def call_to_voicemail_task(call_id: int) -> None:
    call_to_voicemail(call_id)


def call_to_voicemail(call_id: int) -> None:
    """Move a waiting caller to voicemail by REST, once, then stop the ringing."""
    call = Call.objects.select_related("provider_account").filter(pk=call_id).first()
    if call is None:
        return
    call_move(call=call, event="call.to_voicemail")
    call.refresh_from_db()
    if call.state != CallState.VOICEMAIL or call.voicemail_url or call.ended_at:
        return  # answered, over, or the message is already in
    if not Call.objects.filter(pk=call.pk, voicemail_transfer_at__isnull=True).update(
        voicemail_transfer_at=timezone.now()
    ):
        return  # another task moved (or is moving) this caller
    try:
        provider_for(call.provider_account).transfer(
            call.provider_call_id, step_url("voicemail", call_id=call.pk)
        )
    except ProviderError as error:
        call_event_record(call=call, name="voicemail.transfer_failed", error=error.message[:200])
        # Let a retry (or, after a permanent refusal, the sweep's next look) claim it again.
        Call.objects.filter(pk=call.pk).update(voicemail_transfer_at=None)
        if not error.permanent:
            raise
        logger.warning("call %s: could not move the caller to voicemail: %s", call.pk, error.message)
    queue_after_commit(call_legs_cancel, call.pk)


@shared_task(acks_late=True, ignore_result=True)
def call_queue_timeout(call_id: int) -> None:
    """Backstop for the wait URL's own timeout check, should the provider stop fetching it."""
    if Call.objects.filter(pk=call_id, state__in=WAITING_STATES).exists():
        call_to_voicemail_task.delay(call_id)


def queue_timeout_schedule(*, call: Call, after_seconds: int) -> None:
    """The backstop fires ``after_seconds`` (plus a margin) after the caller was queued.

    Scheduled by call_ring, not by the webhook, so the caller's answer waits on one broker
    publish only.
    """
    # Eager mode (the local demo) ignores countdowns and would fire at once; there the wait
    # URL's own check is the only timer.
    if current_app.conf.task_always_eager:
        return
    queued_at = call.queued_at or timezone.now()
    due = queued_at + dt.timedelta(seconds=after_seconds + QUEUE_TIMEOUT_MARGIN_SECONDS)
    call_queue_timeout.apply_async((call.pk,), eta=due)
