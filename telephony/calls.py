"""Call services: create, move between states, claim, finish. Every change is a CallEvent row.

Every move is checked against the state it leaves, in the database, when it happens: the row is
locked (``select_for_update``), its state read, the move looked up in the tables of
models.py (``CALL_MOVES``, ``LEG_TRANSITIONS``), and the UPDATE is conditional on
that state too, so with many web processes and repeated, late or reordered provider callbacks
only a legal, first move happens. Rows are locked leg first, then call, on every path, so two
callbacks for one call wait for each other instead of deadlocking.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from llamenos.audit import audit_record
from llamenos.crypto import number_hash, number_last4
from llamenos.events import ADMINS_GROUP, event_send, events_send, volunteer_group

from .models import (
    CALL_MOVES,
    CLAIMING_LEG_STATES,
    LEG_TRANSITIONS,
    Call,
    CallEvent,
    CallLeg,
    CallState,
    LegState,
    ProviderAccount,
)

logger = logging.getLogger(__name__)

# Milestones that also go to the audit log (the rest stay in the call's own history).
AUDITED_STATES = {
    CallState.ANSWERED: "call.answered",
    CallState.VOICEMAIL: "call.voicemail",
    CallState.COMPLETED: "call.completed",
    CallState.MISSED: "call.missed",
    CallState.REJECTED: "call.rejected",
    CallState.RATE_LIMITED: "call.rate_limited",
    CallState.FAILED: "call.failed",
}


class CallIdTaken(ValueError):
    """A provider call id already belongs to a call of another account (a forged or confused
    webhook): the signing account must not reach that call."""


def call_event_record(*, call: Call, name: str, leg: CallLeg | None = None, **details: Any) -> CallEvent:
    return CallEvent.objects.create(call=call, leg=leg, name=name, details=details)


def _audit_milestone(call: Call, state: str, details: dict) -> None:
    if state in AUDITED_STATES:
        audit_record(event=AUDITED_STATES[state], target=f"call {call.pk}", details=details)


def call_start(
    *,
    account: ProviderAccount,
    provider_call_id: str,
    caller_e164: str,
    language: str = "",
    state: str = CallState.IVR,
    event: str = "",
    fields: dict | None = None,
    notes: tuple[str, ...] = (),
) -> tuple[Call, bool]:
    """The Call for this provider call id, created on its first webhook (idempotent).

    The webhook decides where the call starts: in IVR, or already moved on from it to ``state``
    by ``event`` (banned, rate limited, queued, straight to voicemail). The call, its events
    (``call.started``, any ``notes``, the move) and a milestone's audit record are written in
    one transaction. A repeated webhook finds the call of the same account, or raises
    CallIdTaken when the id is another account's.
    """
    if state != CallState.IVR and CALL_MOVES[event].get(CallState.IVR) != state:
        raise ValueError(f"a call cannot start in {state} by {event!r}")
    try:
        with transaction.atomic():
            call = Call.objects.create(
                provider_account=account,
                provider=account.provider,
                provider_call_id=provider_call_id,
                caller_hash=number_hash(caller_e164) if caller_e164 else "",
                caller_last4=number_last4(caller_e164),
                language=language,
                state=state,
                **(fields or {}),
            )
            events = [CallEvent(call=call, name="call.started", to_state=CallState.IVR)]
            events += [CallEvent(call=call, name=name) for name in notes]
            if state != CallState.IVR:
                events.append(CallEvent(call=call, name=event, from_state=CallState.IVR, to_state=state))
            CallEvent.objects.bulk_create(events)
            _audit_milestone(call, state, {})
    except IntegrityError:  # the provider repeated the webhook (a retry, or one still in flight)
        existing = Call.objects.filter(
            provider_account=account, provider=account.provider, provider_call_id=provider_call_id
        ).first()
        if existing is None:
            raise CallIdTaken(provider_call_id) from None
        return existing, False
    if state != CallState.IVR:
        logger.info("call %s: %s -> %s (%s)", call.pk, CallState.IVR, state, event)
    return call, True


def _call_locked_state(call: Call) -> str | None:
    """The call's state as it is now, its row locked until the transaction ends."""
    return Call.objects.select_for_update().filter(pk=call.pk).values_list("state", flat=True).first()


def _call_move(
    call: Call,
    current: str,
    to_state: str,
    event: str,
    leg: CallLeg | None,
    updates: dict,
    details: dict,
    only_if: dict | None = None,
) -> bool:
    """Move ``call`` from ``current`` (as read under the lock) with its event and audit record."""
    if not Call.objects.filter(pk=call.pk, state=current, **(only_if or {})).update(**updates):
        return False
    CallEvent.objects.create(
        call_id=call.pk, leg=leg, name=event, from_state=current, to_state=to_state, details=details
    )
    _audit_milestone(call, to_state, details)
    return True


def call_move(
    *,
    call: Call,
    event: str,
    leg: CallLeg | None = None,
    fields: dict | None = None,
    only_if: dict | None = None,
    **details,
) -> bool:
    """Move ``call`` as ``event`` moves it from the state it is in now (CALL_MOVES), with the
    event's row. True if it moved; a late, repeated or reordered callback finds a state the
    event does not move from, and changes nothing. ``only_if``: more conditions on the row.
    """
    moves = CALL_MOVES[event]
    with transaction.atomic():
        # Where this copy says the call is, if the event moves from there: the conditional
        # UPDATE checks it, and only a call that moved on in between is read again, locked.
        current = call.state if call.state in moves else None
        to_state = moves.get(current)
        updates = {"state": to_state, **(fields or {})}
        if current is None or not _call_move(call, current, to_state, event, leg, updates, details, only_if):
            current = _call_locked_state(call)
            to_state = moves.get(current)
            if to_state is None:
                call.state = current or call.state
                return False
            updates["state"] = to_state
            if not _call_move(call, current, to_state, event, leg, updates, details, only_if):
                return False
    for name, value in updates.items():
        setattr(call, name, value)
    logger.info("call %s: %s -> %s (%s)", call.pk, current, to_state, event)
    return True


def _leg_locked_state(leg: CallLeg) -> str | None:
    return CallLeg.objects.select_for_update().filter(pk=leg.pk).values_list("state", flat=True).first()


def call_claim(*, call: Call, leg: CallLeg) -> bool:
    """First pickup wins; exactly one leg can ever see True.

    The leg must still be offered (answered and deciding: not ended, cancelled or told the call
    was taken), so an end-of-leg callback that arrived first wins over a late press. The call's
    one conditional UPDATE (still waiting, nobody has it) decides between legs.
    """
    now = timezone.now()
    with transaction.atomic():
        leg_state = _leg_locked_state(leg)
        if leg_state not in CLAIMING_LEG_STATES:
            leg.state = leg_state or leg.state
            return False
        current = _call_locked_state(call)
        claimable = Call.objects.filter(
            pk=call.pk, answered_by__isnull=True, state__in=CALL_MOVES["call.claimed"]
        )
        won = claimable.update(
            answered_by=leg.volunteer_id, answered_at=now, bridged_at=None, state=CallState.ANSWERED
        )
        if not won:
            _leg_move(leg, leg_state, LegState.TAKEN_ELSEWHERE, {})
            return False
        _leg_move(leg, leg_state, LegState.ACCEPTED, {"answered_at": leg.answered_at or now})
        details = {"volunteer_id": leg.volunteer_id}
        CallEvent.objects.create(
            call=call,
            leg=leg,
            name="call.claimed",
            from_state=current,
            to_state=CallState.ANSWERED,
            details=details,
        )
        _audit_milestone(call, CallState.ANSWERED, details)
        call.state, call.answered_by_id, call.answered_at = CallState.ANSWERED, leg.volunteer_id, now
        call.bridged_at = None
        # Everyone who was rung stops ringing in the browser; admins see who took it.
        call_announce(call=call, event_type="call.answered", volunteer=leg.volunteer_id)
    logger.info("call %s: %s -> %s (leg %s)", call.pk, current, CallState.ANSWERED, leg.pk)
    return True


def call_bridged(*, call: Call) -> bool:
    """The carrier connected the caller to the volunteer who took the call (once)."""
    return bool(
        Call.objects.filter(pk=call.pk, state=CallState.ANSWERED, bridged_at__isnull=True).update(
            bridged_at=timezone.now()
        )
    )


def call_winner_left(*, call: Call, leg: CallLeg) -> bool:
    """The volunteer who took the call left before the carrier bridged them to the caller, who
    is still on hold: the call waits again (the ringing task rings whoever has not been rung
    yet, or takes the caller to voicemail). True if the call was re-opened."""
    moved = call_move(
        call=call,
        event="call.winner_left",
        leg=leg,
        fields={"answered_by": None, "answered_at": None},
        # Only while it is still this volunteer's call and nobody has bridged it.
        only_if={"answered_by": leg.volunteer_id, "bridged_at__isnull": True},
        volunteer_id=leg.volunteer_id,
    )
    if moved:
        call.answered_by_id = call.answered_at = None
    return moved


def call_rung_groups(call: Call) -> list[str]:
    """Live-event groups of everyone a call concerns: admins and each volunteer it rang."""
    user_ids = call.legs.exclude(volunteer=None).values_list("volunteer__user_id", flat=True)
    return [ADMINS_GROUP, *(volunteer_group(user_id) for user_id in user_ids)]


def call_announce(*, call: Call, event_type: str, **payload) -> None:
    events_send(groups=call_rung_groups(call), event_type=event_type, call=call.pk, **payload)


def call_finish(*, call: Call, duration_seconds: int | None, event: str = "") -> str:
    """The caller's side ended: the call ends from whatever state it reached, at the moment the
    row is locked: answered -> completed (with the talk time), waiting or in the menu -> missed,
    voicemail with no message -> missed (a late recording moves it back). A voicemail with its
    message, or a call already over, only gets its end time. The volunteer who had it is free
    from that moment (busy means: an answered call). Returns the state the call ended in.

    ``event``: why, when it is not the caller's own hang-up callback (the sweep).
    """
    now = timezone.now()
    with transaction.atomic():
        row = (
            Call.objects.select_for_update()
            .filter(pk=call.pk)
            .values("state", "answered_at", "bridged_at", "voicemail_url", "ended_at", "duration_seconds")
            .first()
        )
        if row is None:
            return call.state
        current = row["state"]
        ended = {} if row["ended_at"] else {"ended_at": now}
        if row["duration_seconds"] is None and duration_seconds is not None:
            ended["duration_seconds"] = duration_seconds
        name = event or ("call.completed" if current == CallState.ANSWERED else "call.caller_hung_up")
        target = CALL_MOVES[name].get(current)
        if target is None or (current == CallState.VOICEMAIL and row["voicemail_url"]):
            if ended:
                Call.objects.filter(pk=call.pk).update(**ended)
            target = current
        else:
            fields = {"ended_at": now, **ended}
            if target == CallState.COMPLETED:
                talk_from = row["bridged_at"] or row["answered_at"]
                fields["talk_seconds"] = int((now - talk_from).total_seconds()) if talk_from else None
            _call_move(call, current, target, name, None, {"state": target, **fields}, {})
            ended = fields
            logger.info("call %s: %s -> %s (%s)", call.pk, current, target, name)
    call.state = target
    for field, value in ended.items():
        setattr(call, field, value)
    call_announce(call=call, event_type="call.ended", state=target)
    return target


def _leg_event(leg: CallLeg, state: str) -> CallEvent:
    return CallEvent(
        call_id=leg.call_id, leg=leg, name=f"leg.{state}", details={"volunteer_id": leg.volunteer_id}
    )


def _leg_moved(leg: CallLeg, state: str, fields: dict[str, Any]) -> None:
    leg.state = state
    for name, value in fields.items():
        setattr(leg, name, value)


def _leg_move(leg: CallLeg, current: str, state: str, fields: dict[str, Any]) -> bool:
    """Move a leg (locked and read as ``current``) with its event."""
    if not CallLeg.objects.filter(pk=leg.pk, state=current).update(state=state, **fields):
        return False
    _leg_event(leg, state).save()
    _leg_moved(leg, state, fields)
    return True


def leg_set_state(*, leg: CallLeg, state: str, **fields) -> bool:
    """Move a leg forward to ``state`` if that is legal from where it is now (LEG_TRANSITIONS);
    a late, repeated or reordered callback changes nothing. True if it moved."""
    with transaction.atomic():
        moved = CallLeg.objects.filter(pk=leg.pk, state__in=LEG_TRANSITIONS[state]).update(
            state=state, **fields
        )
        if moved:
            _leg_event(leg, state).save()
    if moved:
        _leg_moved(leg, state, fields)
    return bool(moved)


def legs_set_state(*, legs: list[CallLeg], state: str, **fields) -> list[CallLeg]:
    """leg_set_state for many legs of a call at once (a fan-out's 50 legs placed or cancelled):
    the same few queries whatever their number. Returns the legs that moved."""
    if len(legs) < 2:
        return [leg for leg in legs if leg_set_state(leg=leg, state=state, **fields)]
    with transaction.atomic(savepoint=False):
        # Locked, so a leg's own webhook waits and then sees the new state, never the reverse.
        # no_key: the lock an UPDATE takes anyway; a webhook writing this leg's events (a row
        # that refers to it) does not wait on it.
        movable = set(
            CallLeg.objects.select_for_update(no_key=True)
            .filter(pk__in=[leg.pk for leg in legs], state__in=LEG_TRANSITIONS[state])
            .order_by("pk")  # one locking order, so two cancellations cannot deadlock
            .values_list("pk", flat=True)
        )
        moved = [leg for leg in legs if leg.pk in movable]
        if moved:
            CallLeg.objects.filter(pk__in=movable).update(state=state, **fields)
            for leg in moved:
                _leg_moved(leg, state, fields)
            CallEvent.objects.bulk_create([_leg_event(leg, state) for leg in moved])
    return moved


def call_voicemail_save(*, call: Call, recording_url: str, duration_seconds: int | None) -> bool:
    """Keep a voicemail recording on the call; an empty recording is discarded."""
    if not recording_url or not duration_seconds:
        call_event_record(call=call, name="voicemail.empty")
        return False
    with transaction.atomic():
        updated = Call.objects.filter(pk=call.pk, voicemail_url="").update(
            voicemail_url=recording_url, voicemail_duration_seconds=duration_seconds
        )
        if not updated:
            return True  # the same recording reported twice
        # The hang-up may have been reported before the recording: a message left is voicemail.
        call_move(call=call, event="voicemail.arrived_late")
        call_event_record(call=call, name="voicemail.saved", duration_seconds=duration_seconds)
        audit_record(
            event="call.voicemail_left",
            target=f"call {call.pk}",
            details={"duration_seconds": duration_seconds},
        )
    event_send(
        group=ADMINS_GROUP, event_type="call.voicemail", call=call.pk, duration_seconds=duration_seconds
    )
    return True


def call_recording_save(*, call: Call, recording_url: str) -> None:
    """The bridged call's recording and its event, together: a repeated callback for the same
    recording changes nothing and records nothing."""
    if not recording_url:
        return
    with transaction.atomic():
        if (
            Call.objects.filter(pk=call.pk)
            .exclude(recording_url=recording_url)
            .update(recording_url=recording_url)
        ):
            call_event_record(call=call, name="recording.saved")


def captcha_failure_count(*, call: Call) -> int:
    Call.objects.filter(pk=call.pk).update(captcha_failures=F("captcha_failures") + 1)
    call.refresh_from_db(fields=["captcha_failures"])
    return call.captcha_failures
