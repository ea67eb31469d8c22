"""Celery tasks: take ids, load rows, call a service. All are safe to run twice."""

from __future__ import annotations

import logging

from celery import current_app, shared_task
from django.db import transaction

from .call_models import WAITING_STATES, Call, CallState
from .calls import call_event_record, call_transition
from .flow import step_url
from .flow_settings import call_flow_settings_get as _flow
from .providers import ProviderError, provider_for
from .ringing import legs_cancel, ring_volunteers

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, ignore_result=True)
def call_ring(call_id: int) -> None:
    """Ring everyone available for a waiting call; nobody at all sends the caller to voicemail."""
    call = Call.objects.select_related("provider_account").filter(pk=call_id).first()
    if call is None or call.state != CallState.QUEUED:
        return  # already ringing (a redelivered task), answered, or over
    legs = ring_volunteers(call=call, ring_timeout_seconds=_flow().ring_timeout_seconds)
    call.refresh_from_db()
    if call.state in WAITING_STATES and not any(leg.provider_call_id for leg in call.legs.all()):
        call_event_record(call=call, name="ringing.nobody_reached", leg_count=len(legs))
        call_to_voicemail_task.delay(call.pk)


@shared_task(acks_late=True, ignore_result=True)
def call_legs_cancel(call_id: int, keep_leg_id: int | None = None) -> None:
    call = Call.objects.filter(pk=call_id).first()
    if call is not None:
        legs_cancel(call=call, keep_leg_id=keep_leg_id)


@shared_task(
    bind=True,
    acks_late=True,
    ignore_result=True,
    autoretry_for=(ProviderError,),
    dont_autoretry_for=(),
    retry_backoff=1,
    retry_backoff_max=10,
    max_retries=4,
)
def call_to_voicemail_task(self, call_id: int) -> None:
    call_to_voicemail(call_id)


def call_to_voicemail(call_id: int) -> None:
    """Stop ringing and move the waiting caller to voicemail through the provider's REST API."""
    call = Call.objects.select_related("provider_account").filter(pk=call_id).first()
    if call is None:
        return
    moved = call_transition(call=call, to_state=CallState.VOICEMAIL, event="call.to_voicemail")
    if not moved and call.state != CallState.VOICEMAIL:
        return  # answered or over in the meantime
    legs_cancel(call=call)
    try:
        provider_for(call.provider_account).transfer(
            call.provider_call_id, step_url("voicemail", call_id=call.pk)
        )
    except ProviderError as error:
        call_event_record(call=call, name="voicemail.transfer_failed", error=error.message[:200])
        if not error.permanent:
            raise
        logger.warning("call %s: could not move the caller to voicemail: %s", call.pk, error.message)


@shared_task(acks_late=True, ignore_result=True)
def call_queue_timeout(call_id: int) -> None:
    """Backstop for the wait URL's own timeout check, should the provider stop fetching it."""
    if Call.objects.filter(pk=call_id, state__in=WAITING_STATES).exists():
        call_to_voicemail_task.delay(call_id)


def queue_after_commit(task, *args) -> None:
    transaction.on_commit(lambda: task.delay(*args))


def queue_timeout_schedule(*, call_id: int, after_seconds: int) -> None:
    # Eager mode (the local demo) ignores countdowns and would fire at once; there the wait
    # URL's own check is the only timer.
    if current_app.conf.task_always_eager:
        return
    transaction.on_commit(lambda: call_queue_timeout.apply_async((call_id,), countdown=after_seconds + 15))
