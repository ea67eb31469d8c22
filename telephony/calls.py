"""Call services: create, move between states, claim. Every change is a CallEvent row.

State changes are conditional UPDATEs (``WHERE state IN (allowed sources)``): with many web
processes and repeated or reordered provider callbacks, only a legal, first transition happens.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import NOT_PROVIDED, F, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.sql import InsertQuery, UpdateQuery
from django.db.models.sql.compiler import SQLInsertCompiler
from django.utils import timezone

from llamenos.audit import audit_event_build, audit_record
from llamenos.crypto import number_hash, number_last4
from volunteers.shifts import anyone_to_ring_query, shift_ids_active_at

from .bans import bans_active
from .call_models import (
    CALL_TRANSITIONS,
    LEG_TRANSITIONS,
    WAITING_STATES,
    Call,
    CallEvent,
    CallLeg,
    CallState,
    LegState,
)
from .events import ADMINS_GROUP, event_send, events_send, volunteer_group
from .models import ProviderAccount

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


def call_event_record(*, call: Call, name: str, leg: CallLeg | None = None, **details: Any) -> CallEvent:
    return CallEvent.objects.create(call=call, leg=leg, name=name, details=details)


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
    by ``event`` (banned, rate limited, queued, straight to voicemail). One statement writes the
    call and its events (``call.started``, any ``notes``, the move), so the caller's first answer
    waits on one round trip; a milestone's audit record joins them in one transaction. The insert
    comes first: a repeated webhook is rare, so it pays the extra read, not every call.
    """
    if state != CallState.IVR and CallState.IVR not in CALL_TRANSITIONS[state]:
        raise ValueError(f"a call cannot start in {state}")
    call = Call(
        provider_account=account,
        provider=account.provider,
        provider_call_id=provider_call_id,
        caller_hash=number_hash(caller_e164) if caller_e164 else "",
        caller_last4=number_last4(caller_e164),
        language=language,
        state=state,
        **(fields or {}),
    )
    events = [CallEvent(call_id=_NEW_CALL_ID, name="call.started", to_state=CallState.IVR)]
    events += [CallEvent(call_id=_NEW_CALL_ID, name=name) for name in notes]
    if state != CallState.IVR:
        events.append(CallEvent(call_id=_NEW_CALL_ID, name=event, from_state=CallState.IVR, to_state=state))
    audited = state in AUDITED_STATES
    # A transaction only for an audit record with it, or a savepoint inside a caller's: on its
    # own the statement is atomic, and a repeated webhook's unique violation aborts nothing else.
    try:
        with transaction.atomic() if audited or connection.in_atomic_block else nullcontext():
            _call_insert_with_events(call, events)
            if audited:
                audit_record(event=AUDITED_STATES[state], target=f"call {call.pk}")
    except IntegrityError:  # the provider repeated the webhook (a retry, or one still in flight)
        return Call.objects.get(provider=account.provider, provider_call_id=provider_call_id), False
    if state != CallState.IVR:
        logger.info("call %s: %s -> %s (%s)", call.pk, CallState.IVR, state, event)
    return call, True


# In the events written with a new call (_call_insert_with_events): the id it is being given.
_NEW_CALL_ID = RawSQL('(SELECT "id" FROM new_call)', ())


def _call_insert_with_events(call: Call, events: list[CallEvent]) -> None:
    """INSERT ``call`` and ``events`` (their call is _NEW_CALL_ID) in one statement: atomic on its
    own, and one round trip where a transaction costs four (BEGIN, two INSERTs, COMMIT)."""
    returning = Call._meta.db_returning_fields
    call_insert, call_sql, call_params = _insert_compiled([call], returning=returning)
    _, events_sql, events_params = _insert_compiled(events)
    with connection.cursor() as cursor:
        cursor.execute(
            # Django-compiled statements; every value is a parameter.
            f"WITH new_call AS ({call_sql}), new_events AS ({events_sql}) SELECT * FROM new_call",  # noqa: S608
            (*call_params, *events_params),
        )
        row = cursor.fetchone()
    converters = call_insert.get_converters([field.get_col(Call._meta.db_table) for field in returning])
    if converters:
        (row,) = call_insert.apply_converters([row], converters)
    for field, value in zip(returning, row, strict=True):
        setattr(call, field.attname, value)
    call._state.adding = False
    call._state.db = connection.alias


def _insert_compiled(objs: list, *, fields=None, returning=None) -> tuple[SQLInsertCompiler, str, tuple]:
    """The INSERT that saving ``objs`` (of one model) would run, as SQL to build a statement of."""
    opts = objs[0]._meta
    query = InsertQuery(type(objs[0]))
    if fields is None:  # as Model.save() inserts: every column but an automatic primary key
        fields = [field for field in opts.local_concrete_fields if field is not opts.auto_field]
    query.insert_values(fields, objs)
    compiler = query.get_compiler(connection=connection)
    compiler.returning_fields = returning
    ((sql, params),) = compiler.as_sql()
    return compiler, sql, params


@dataclass(frozen=True)
class CallerScreen:
    banned: bool
    anyone_to_ring: bool


def caller_screen(*, caller_hash: str, at: dt.datetime) -> CallerScreen:
    """Whether the caller is banned and whether anybody could be rung, in one round trip: the
    incoming webhook asks both before the call row exists."""
    sql, params, hash_slots, at_slots = _screen_statement(shift_ids_active_at(at=at))
    values = list(params)
    for slot in hash_slots:
        values[slot] = caller_hash
    for slot in at_slots:
        values[slot] = connection.ops.adapt_datetimefield_value(at)  # as the compiler did
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        is_banned, anyone = cursor.fetchone()
    return CallerScreen(banned=bool(is_banned), anyone_to_ring=bool(anyone))


# Stand-ins for the caller and the moment, found among a compiled statement's parameters.
_SCREEN_HASH = "\x00caller-hash"
_SCREEN_AT = dt.datetime(1901, 2, 3, 4, 5, 6, 789, tzinfo=dt.UTC)


@functools.lru_cache(maxsize=64)
def _screen_statement(shift_ids: tuple[int, ...]) -> tuple[str, tuple, tuple[int, ...], tuple[int, ...]]:
    """caller_screen's SQL for a set of active shifts, compiled once: building the two querysets
    cost more CPU than the rest of the incoming webhook's database work (1.4 of 2.4 ms). Returns
    the SQL, its parameters, and where the caller's hash and the moment go among them. (One
    database, as everywhere here: the statement is compiled for ``connection``.)"""
    banned = bans_active(at=_SCREEN_AT).filter(number_hash=_SCREEN_HASH).values("pk").order_by()
    ringable = anyone_to_ring_query(shift_ids=shift_ids).values("pk").order_by()
    banned_sql, banned_params = banned.query.sql_with_params()
    ringable_sql, ringable_params = ringable.query.sql_with_params()
    params = (*banned_params, *ringable_params)
    hash_slots = tuple(slot for slot, value in enumerate(params) if value == _SCREEN_HASH)
    at = connection.ops.adapt_datetimefield_value(_SCREEN_AT)  # SQLite's is a string
    at_slots = tuple(slot for slot, value in enumerate(params) if value == at)
    if len(hash_slots) != 1 or len(at_slots) != 1:
        raise RuntimeError(f"caller_screen: the compiled statement's parameters changed shape: {params!r}")
    return f"SELECT EXISTS ({banned_sql}), EXISTS ({ringable_sql})", params, hash_slots, at_slots


def call_transition(
    *,
    call: Call,
    to_state: str,
    event: str,
    leg: CallLeg | None = None,
    fields: dict | None = None,
    **details,
) -> bool:
    """Move ``call`` to ``to_state`` if that is legal from where it is now. True if it moved.

    One statement moves the call and writes its event (and a milestone's audit record) when
    the call is where ``call`` says, or where the only legal source says; a call that moved on
    in between is read again under a lock, which orders concurrent callbacks for one call.
    """
    updates = {"state": to_state, **(fields or {})}
    sources = CALL_TRANSITIONS[to_state]
    if len(sources) == 1:
        (current,) = sources
    else:
        current = call.state if call.state in sources else None
    moved = current is not None and _call_move(call, current, to_state, event, leg, updates, details)
    if not moved and len(sources) > 1:
        with transaction.atomic():
            # Late or repeated callbacks find a state they cannot move from, and change nothing.
            current = (
                Call.objects.select_for_update().filter(pk=call.pk).values_list("state", flat=True).first()
            )
            moved = current in sources and _call_move(call, current, to_state, event, leg, updates, details)
    if not moved:
        return False
    for name, value in updates.items():
        setattr(call, name, value)
    logger.info("call %s: %s -> %s (%s)", call.pk, current, to_state, event)
    return True


def _call_move(
    call: Call, current: str, to_state: str, event: str, leg, updates: dict, details: dict
) -> bool:
    """``call`` from ``current`` to ``to_state`` with its records, in one statement, if it is there."""
    records = [
        CallEvent(
            call_id=call.pk, leg=leg, name=event, from_state=current, to_state=to_state, details=details
        )
    ]
    if to_state in AUDITED_STATES:
        records.append(
            audit_event_build(event=AUDITED_STATES[to_state], target=f"call {call.pk}", details=details)
        )
    return _update_with_event(Call.objects.filter(pk=call.pk, state=current), updates, *records)


def call_claim(*, call: Call, leg: CallLeg) -> bool:
    """First pickup wins: one conditional UPDATE; exactly one leg can ever see True."""
    now = timezone.now()
    with transaction.atomic():
        won = (
            Call.objects.filter(pk=call.pk, answered_by__isnull=True, state__in=WAITING_STATES).update(
                answered_by=leg.volunteer_id, answered_at=now, state=CallState.ANSWERED
            )
            == 1
        )
        if not won:
            leg_set_state(leg=leg, state=LegState.TAKEN_ELSEWHERE)
            return False
        from_state = call.state
        call.refresh_from_db()
        CallLeg.objects.filter(pk=leg.pk).update(state=LegState.ACCEPTED, answered_at=now)
        leg.state = LegState.ACCEPTED
        CallEvent.objects.create(
            call=call,
            leg=leg,
            name="call.claimed",
            from_state=from_state,
            to_state=CallState.ANSWERED,
            details={"volunteer_id": leg.volunteer_id},
        )
        audit_record(
            event="call.answered", target=f"call {call.pk}", details={"volunteer_id": leg.volunteer_id}
        )
        # Everyone who was rung stops ringing in the browser; admins see who took it.
        call_announce(call=call, event_type="call.answered", volunteer=leg.volunteer_id)
    return True


def call_rung_groups(call: Call) -> list[str]:
    """Live-event groups of everyone a call concerns: admins and each volunteer it rang."""
    user_ids = call.legs.exclude(volunteer=None).values_list("volunteer__user_id", flat=True)
    return [ADMINS_GROUP, *(volunteer_group(user_id) for user_id in user_ids)]


def call_announce(*, call: Call, event_type: str, **payload) -> None:
    events_send(groups=call_rung_groups(call), event_type=event_type, call=call.pk, **payload)


def call_finish(*, call: Call, duration_seconds: int | None) -> None:
    """The caller's side ended: completed if answered, missed if still waiting or no message left.

    ``call`` as just read (the status callback loads it); the transitions are conditional, so a
    change in between only means the state is read again.
    """
    now = timezone.now()
    fields = {"ended_at": now, "duration_seconds": duration_seconds}
    moved = True
    if call.state == CallState.ANSWERED:
        talk = int((now - call.answered_at).total_seconds()) if call.answered_at else None
        moved = call_transition(
            call=call,
            to_state=CallState.COMPLETED,
            event="call.completed",
            fields={**fields, "talk_seconds": talk},
        )
    elif call.state == CallState.VOICEMAIL and call.voicemail_url:
        Call.objects.filter(pk=call.pk, ended_at__isnull=True).update(**fields)
    else:
        # Still waiting, or in voicemail with no message (yet: a late one moves it back).
        moved = call_transition(
            call=call, to_state=CallState.MISSED, event="call.caller_hung_up", fields=fields
        )
    if not moved:  # already over, or moved on in between: announce where it really is
        call.refresh_from_db(fields=["state"])
    call_announce(call=call, event_type="call.ended", state=call.state)


def _leg_event(leg: CallLeg, state: str) -> CallEvent:
    return CallEvent(
        call_id=leg.call_id, leg=leg, name=f"leg.{state}", details={"volunteer_id": leg.volunteer_id}
    )


def _leg_moved(leg: CallLeg, state: str, fields: dict[str, Any]) -> None:
    leg.state = state
    for name, value in fields.items():
        setattr(leg, name, value)


def leg_set_state(*, leg: CallLeg, state: str, **fields) -> bool:
    """Move a leg forward to ``state``; a late or repeated callback changes nothing."""
    movable = CallLeg.objects.filter(pk=leg.pk, state__in=LEG_TRANSITIONS[state])
    moved = _update_with_event(movable, {"state": state, **fields}, _leg_event(leg, state))
    if moved:
        _leg_moved(leg, state, fields)
    return moved


def _update_with_event(rows: QuerySet, updates: dict[str, Any], *records) -> bool:
    """``rows.update(**updates)`` and, if a row changed, ``records`` (its CallEvent, an AuditEvent)
    written with it: one statement, so the move and its history are one atomic write and one
    round trip. ``rows`` is one row of one table (a filter on its own columns)."""
    update = rows.query.chain(UpdateQuery)
    update.add_update_values(updates)
    update_sql, params = update.get_compiler(connection=connection).as_sql()
    inserts = []
    for record in records:
        fields = [
            field
            for field in record._meta.local_concrete_fields
            if not field.primary_key and field.db_default is NOT_PROVIDED  # created_at: the database's
        ]
        _, insert_sql, insert_params = _insert_compiled([record], fields=fields)
        # INSERT INTO ... (columns) VALUES (...): the same values, selected once per row moved.
        head, values = insert_sql.split(" VALUES ", 1)
        inserts.append(f"{head} SELECT {values[1:-1]} FROM moved")  # noqa: S608
        params = (*params, *insert_params)
    written = "".join(f", written_{index} AS ({sql})" for index, sql in enumerate(inserts))
    with connection.cursor() as cursor:
        # Django-compiled statements; every value is a parameter.
        cursor.execute(f"WITH moved AS ({update_sql} RETURNING 1){written} SELECT 1 FROM moved", params)  # noqa: S608
        return cursor.fetchone() is not None


def legs_set_state(*, legs: list[CallLeg], state: str, **fields) -> list[CallLeg]:
    """leg_set_state for many legs of a call at once (a fan-out's 50 legs placed or cancelled):
    the same three queries whatever their number. Returns the legs that moved."""
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
        if Call.objects.filter(pk=call.pk, state=CallState.MISSED).update(state=CallState.VOICEMAIL):
            CallEvent.objects.create(
                call=call,
                name="voicemail.arrived_late",
                from_state=CallState.MISSED,
                to_state=CallState.VOICEMAIL,
            )
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
    """The bridged call's recording and its event, in one statement: both or neither, and a
    repeated callback for the same recording changes nothing and records nothing."""
    if recording_url:
        _update_with_event(
            Call.objects.filter(pk=call.pk).exclude(recording_url=recording_url),
            {"recording_url": recording_url},
            CallEvent(call_id=call.pk, name="recording.saved"),
        )


def captcha_failure_count(*, call: Call) -> int:
    Call.objects.filter(pk=call.pk).update(captcha_failures=F("captcha_failures") + 1)
    call.refresh_from_db(fields=["captcha_failures"])
    return call.captcha_failures
