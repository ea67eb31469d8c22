"""What keeps webhook answers fast, and that it stays correct: the cached read-mostly rows, the
incoming webhook's query budget, live events in one trip, static files in both server modes, and the
queue-timeout backstop scheduled by the ringing task instead of the webhook."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from llamenos.events import events_send
from telephony import ringing, tasks
from telephony.calls import leg_set_state, legs_set_state
from telephony.models import Call, CallEvent, CallLeg, CallState, LegState, ProviderAccount

from .signing import twilio_signature
from .test_webhooks import incoming_fields, post

pytestmark = pytest.mark.django_db

# An upper bound, not a target: the signing account, shift times, is the caller banned, is anyone
# to ring, then the call and its events in one transaction (inside the test's own transaction, a
# savepoint and its release). The settings rows come from Django's cache.
INCOMING_QUERY_BUDGET = 8


@pytest.fixture
def someone_to_ring(make_user):
    """Someone to ring, so the incoming webhook goes all the way to queueing the call."""
    from volunteers.models import Volunteer

    return Volunteer.objects.create(user=make_user("ana"), phone="+14155550100", in_fallback_group=True)


def test_incoming_stays_within_its_query_budget(client, settings, twilio_account, someone_to_ring):
    post(client, settings, "/telephony/incoming", incoming_fields(call_sid="CA" + "1" * 32))  # caches
    with CaptureQueriesContext(connection) as queries:
        response = post(client, settings, "/telephony/incoming", incoming_fields(call_sid="CA" + "2" * 32))
    assert response.status_code == 200
    assert Call.objects.get(provider_call_id="CA" + "2" * 32).state == CallState.QUEUED
    assert len(queries) <= INCOMING_QUERY_BUDGET, "\n".join(q["sql"][:120] for q in queries)


def test_a_token_changed_in_another_process_is_honoured_at_once(client, settings, twilio_account):
    post(client, settings, "/telephony/incoming", incoming_fields(call_sid="CA" + "1" * 32))
    # A queryset update, as another process's save would look from here.
    new_token = "rotated-token-0123456789abcdef"
    ProviderAccount.objects.filter(pk=twilio_account.pk).update(auth_token=new_token)
    fields = incoming_fields(call_sid="CA" + "3" * 32)
    url = settings.PUBLIC_BASE_URL + "/telephony/incoming"
    signature = twilio_signature(new_token, url, fields)
    assert (
        client.post("/telephony/incoming", fields, headers={"X-Twilio-Signature": signature}).status_code
        == 200
    )
    # The old token is refused from now on.
    response = post(client, settings, "/telephony/incoming", incoming_fields(call_sid="CA" + "4" * 32))
    assert response.status_code == 403


def test_a_settings_change_saved_by_another_process_is_seen_at_once(settings):
    """django-solo keeps the row in Django's cache (Redis here, shared by every process) and
    renews it on save: no process acts on a queue timeout changed minutes ago."""
    from django.core.cache import cache

    from telephony.call_flow import call_flow_settings_get
    from telephony.models import CallFlowSettings

    assert call_flow_settings_get().queue_timeout_seconds == 90  # now in the shared cache
    row = CallFlowSettings.get_solo()
    row.queue_timeout_seconds = 300
    row.save()  # as the settings page in another process saves it
    cache.close()  # what this process holds of the cache goes; the Redis copy stays
    assert call_flow_settings_get().queue_timeout_seconds == 300


def test_an_account_disabled_here_is_refused_at_once(client, settings, twilio_account):
    assert (
        post(client, settings, "/telephony/incoming", incoming_fields(call_sid="CA" + "1" * 32)).status_code
        == 200
    )
    twilio_account.enabled = False
    twilio_account.save()
    response = post(client, settings, "/telephony/incoming", incoming_fields(call_sid="CA" + "5" * 32))
    assert response.status_code == 403


@pytest.mark.django_db(transaction=True)
async def test_one_event_reaches_every_group_it_is_sent_to():
    layer = get_channel_layer()
    channels = [await layer.new_channel() for _ in range(3)]
    groups = ["admins", "volunteer.1", "volunteer.2"]
    for group, channel in zip(groups, channels, strict=True):
        await layer.group_add(group, channel)
    from channels.db import database_sync_to_async

    await database_sync_to_async(events_send)(groups=[*groups, "admins"], event_type="call.ended", call=7)
    for channel in channels:
        message = await asyncio.wait_for(layer.receive(channel), timeout=5)
        assert message == {"type": "call.ended", "call": 7}
    for group, channel in zip(groups, channels, strict=True):
        await layer.group_discard(group, channel)


def test_unknown_event_types_are_refused():
    with pytest.raises(ValueError, match="unknown live event type"):
        events_send(groups=["admins"], event_type="call.leaked", call=1)


async def test_static_files_and_webhooks_both_work_under_asgi(async_client):
    try:
        response = await async_client.get("/static/css/app.css")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/css")
        assert (await async_client.get("/static/css/no-such-file.css")).status_code == 404
        assert (await async_client.post("/telephony/incoming", {"CallSid": "CA1"})).status_code == 403
    finally:
        # The view ran in asgiref's thread, on a connection of its own that the test client keeps
        # open (it ignores request_finished); left there, it outlived the test database.
        await sync_to_async(connections.close_all)()


def test_static_files_are_served_in_sync_mode_too(client):
    assert client.get("/static/css/app.css").status_code == 200
    assert client.get("/static/css/no-such-file.css").status_code == 404


class _Recorder:
    def __init__(self):
        self.calls = []

    def apply_async(self, args, **options):
        self.calls.append((args, options))


def test_ringing_schedules_the_queue_timeout_backstop_once(monkeypatch, twilio_account):
    recorder = _Recorder()
    monkeypatch.setattr(tasks, "call_queue_timeout", recorder)
    monkeypatch.setitem(tasks.current_app.conf, "task_always_eager", False)
    monkeypatch.setattr(tasks, "ring_volunteers", lambda **kwargs: ([], 0))
    queued_at = timezone.now() - dt.timedelta(seconds=3)
    call = Call.objects.create(
        provider_account=twilio_account,
        provider="twilio",
        provider_call_id="CA" + "6" * 32,
        state=CallState.QUEUED,
        queued_at=queued_at,
    )
    timeout = tasks.call_flow_settings_get().queue_timeout_seconds

    tasks.call_ring(call.pk)
    assert recorder.calls == [
        ((call.pk,), {"eta": queued_at + dt.timedelta(seconds=timeout + tasks.QUEUE_TIMEOUT_MARGIN_SECONDS)})
    ]
    Call.objects.filter(pk=call.pk).update(state=CallState.RINGING)
    tasks.call_ring(call.pk)  # a redelivered task finds it ringing: no second backstop
    assert len(recorder.calls) == 1


def test_the_demo_schedules_no_backstop_since_eager_mode_ignores_eta(monkeypatch, twilio_account):
    recorder = _Recorder()
    monkeypatch.setattr(tasks, "call_queue_timeout", recorder)
    monkeypatch.setitem(tasks.current_app.conf, "task_always_eager", True)
    call = Call(pk=1, queued_at=timezone.now())
    tasks.queue_timeout_schedule(call=call, after_seconds=90)
    assert recorder.calls == []


def _call_with_legs(account, count: int, make_user) -> tuple[Call, list[CallLeg]]:
    from volunteers.models import Volunteer

    call = Call.objects.create(
        provider_account=account,
        provider="twilio",
        provider_call_id=f"CA{count:032d}",
        state=CallState.RINGING,
        queued_at=timezone.now(),
    )
    volunteers = [
        Volunteer.objects.create(user=make_user(f"v{count}-{index}"), phone=f"+1415555{count:02d}{index:02d}")
        for index in range(count)
    ]
    CallLeg.objects.bulk_create([CallLeg(call=call, volunteer=volunteer) for volunteer in volunteers])
    return call, list(CallLeg.objects.filter(call=call).order_by("pk"))


def _placed_queries(call: Call, legs: list[CallLeg]) -> int:
    outcomes = {leg: f"request-{leg.pk}" for leg in legs}
    with CaptureQueriesContext(connection) as queries:
        assert ringing._legs_placed(call, outcomes) == []
    return len(queries)


def test_placing_fifty_legs_costs_what_placing_two_does(twilio_account, make_user):
    few = _placed_queries(*_call_with_legs(twilio_account, 2, make_user))
    many = _placed_queries(*_call_with_legs(twilio_account, 50, make_user))
    assert many == few, "storing the carrier's answers must not cost queries per leg"
    assert many <= 8


def test_placed_legs_keep_a_call_id_their_own_webhook_stored_first(twilio_account, make_user):
    call, legs = _call_with_legs(twilio_account, 3, make_user)
    # Plivo: the first leg's ring callback (with its CallUUID) beat the REST answer back.
    CallLeg.objects.filter(pk=legs[0].pk).update(provider_call_id="call-uuid-0", state=LegState.RINGING)
    legs[0].refresh_from_db()
    _placed_queries(call, legs)

    rows = {leg.pk: leg for leg in CallLeg.objects.filter(call=call)}
    assert rows[legs[0].pk].provider_call_id == "call-uuid-0"
    assert rows[legs[0].pk].state == LegState.RINGING  # never moved back to requested
    for leg in legs:
        assert rows[leg.pk].provider_request_id == f"request-{leg.pk}"
        assert rows[leg.pk].requested_at is not None
    for leg in legs[1:]:
        row = rows[leg.pk]
        assert (row.provider_call_id, row.state) == (f"request-{leg.pk}", LegState.REQUESTED)
    requested = CallEvent.objects.filter(call=call, name="leg.requested")
    assert sorted(requested.values_list("leg_id", flat=True)) == [leg.pk for leg in legs[1:]]


def test_many_legs_move_together_and_only_where_the_move_is_legal(twilio_account, make_user):
    call, legs = _call_with_legs(twilio_account, 4, make_user)
    CallLeg.objects.filter(pk=legs[0].pk).update(state=LegState.COMPLETED)  # already over

    moved = legs_set_state(legs=legs, state=LegState.CANCELED, ended_at=timezone.now())
    assert moved == legs[1:]
    assert all(leg.state == LegState.CANCELED and leg.ended_at for leg in moved)
    states = dict(CallLeg.objects.filter(call=call).values_list("pk", "state"))
    assert states == {legs[0].pk: LegState.COMPLETED, **{leg.pk: LegState.CANCELED for leg in legs[1:]}}
    assert CallEvent.objects.filter(call=call, name="leg.canceled").count() == 3
    assert legs_set_state(legs=legs, state=LegState.CANCELED) == []  # repeated: nothing more
    assert CallEvent.objects.filter(call=call, name="leg.canceled").count() == 3


@pytest.mark.django_db(transaction=True)
def test_placing_legs_waits_for_a_cancellation_holding_them_instead_of_deadlocking(twilio_account, make_user):
    """A hang-up's task locks the call's legs in pk order while the ringing task stores the
    carrier's answers for the same legs: the ringing task must take its locks in the same order."""
    import threading
    import time

    from django.db import connections, transaction

    call, legs = _call_with_legs(twilio_account, 8, make_user)
    # Early webhooks rewrote the first legs: on disk they now come after the others, so a
    # statement that locks rows as it finds them no longer locks them in pk order.
    CallLeg.objects.filter(pk__in=[leg.pk for leg in legs[:4]]).update(error="")
    failures, first_locked, placed = [], threading.Event(), threading.Event()

    def cancellation():
        try:
            with transaction.atomic():
                CallLeg.objects.select_for_update(no_key=True).filter(pk=legs[0].pk).first()
                first_locked.set()
                time.sleep(0.5)  # the ringing task is now waiting, holding whatever it locked
                CallLeg.objects.select_for_update(no_key=True).filter(pk=legs[-1].pk).first()
        except Exception as error:  # a deadlock here is the test's finding
            failures.append(error)
        finally:
            connections.close_all()

    def placing():
        try:
            first_locked.wait()
            ringing._legs_placed(call, {leg: f"request-{leg.pk}" for leg in legs})
            placed.set()
        except Exception as error:
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=cancellation), threading.Thread(target=placing)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert failures == []
    assert placed.is_set()
    assert all(row.provider_request_id for row in CallLeg.objects.filter(call=call))


@pytest.mark.django_db(transaction=True)
def test_a_call_starts_with_its_events_in_one_transaction_and_once_when_repeated(twilio_account):
    """As served (autocommit, no transaction around the request): one transaction writes the call
    and its events, and a repeated webhook finds that call instead of a second one."""
    from telephony.calls import call_start

    def start():
        return call_start(
            account=twilio_account,
            provider_call_id="CA" + "7" * 32,
            caller_e164="+14155550123",
            state=CallState.QUEUED,
            event="call.queued",
            fields={"queued_at": timezone.now()},
            notes=("ratelimit.unavailable",),
        )

    with CaptureQueriesContext(connection) as queries:
        call, created = start()
    assert created
    assert len(queries) <= 4, [q["sql"][:80] for q in queries]  # BEGIN, the call, its events, COMMIT
    row = Call.objects.get()
    # What the database gave the new row is on the object the webhook goes on with.
    assert (call.pk, call.started_at) == (row.pk, row.started_at)
    assert call.started_at is not None and not call._state.adding
    assert (row.state, row.caller_last4) == (CallState.QUEUED, "0123")
    events = list(row.events.values_list("name", "from_state", "to_state"))
    assert events == [
        ("call.started", "", CallState.IVR),
        ("ratelimit.unavailable", "", ""),
        ("call.queued", CallState.IVR, CallState.QUEUED),
    ]

    again, created = start()  # the unique violation rolls back that transaction, and nothing else
    assert (again.pk, created) == (call.pk, False)
    assert Call.objects.count() == 1 and CallEvent.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_call_id_of_another_account_is_not_handed_to_the_account_that_repeats_it(twilio_account, make_user):
    from telephony.calls import CallIdTaken, call_start

    other = ProviderAccount.objects.create(
        provider="twilio", label="Other", account_id="AC" + "f" * 32, auth_token="other-token"
    )
    call_start(account=twilio_account, provider_call_id="CA" + "6" * 32, caller_e164="+14155550123")
    with pytest.raises(CallIdTaken):
        call_start(account=other, provider_call_id="CA" + "6" * 32, caller_e164="+14155550199")
    assert Call.objects.get().provider_account == twilio_account


def test_a_call_started_in_an_audited_state_writes_its_audit_record_with_it(twilio_account):
    from llamenos.models import AuditEvent
    from telephony.calls import call_start

    call, created = call_start(
        account=twilio_account,
        provider_call_id="CA" + "8" * 32,
        caller_e164="+14155550123",
        state=CallState.REJECTED,
        event="call.banned",
    )
    assert created
    assert AuditEvent.objects.filter(event="call.rejected", target=f"call {call.pk}").count() == 1
    assert list(call.events.values_list("name", flat=True)) == ["call.started", "call.banned"]


def test_a_call_cannot_start_where_its_event_does_not_lead(twilio_account):
    from telephony.calls import call_start

    with pytest.raises(ValueError, match="cannot start"):
        call_start(
            account=twilio_account,
            provider_call_id="CA" + "8" * 32,
            caller_e164="+14155550123",
            state=CallState.ANSWERED,
            event="call.queued",
        )
    assert not Call.objects.exists()


def test_a_call_moves_with_its_event_and_audit_record(twilio_account, make_user):
    from llamenos.models import AuditEvent
    from telephony.calls import call_move

    call, _ = _call_with_legs(twilio_account, 1, make_user)
    assert call_move(call=call, event="call.caller_hung_up", fields={"duration_seconds": 3})
    assert call.state == CallState.MISSED
    row = Call.objects.get(pk=call.pk)
    assert (row.state, row.duration_seconds) == (CallState.MISSED, 3)
    event = CallEvent.objects.get(call=call, name="call.caller_hung_up")
    assert (event.from_state, event.to_state) == (CallState.RINGING, CallState.MISSED)
    assert AuditEvent.objects.filter(event="call.missed", target=f"call {call.pk}").count() == 1

    # Repeated: nothing moves and nothing more is written.
    assert not call_move(call=call, event="call.caller_hung_up")
    assert CallEvent.objects.filter(call=call, name="call.caller_hung_up").count() == 1
    assert AuditEvent.objects.filter(event="call.missed", target=f"call {call.pk}").count() == 1


def test_a_call_moves_from_the_state_it_is_in_now_not_the_one_a_stale_copy_says(twilio_account, make_user):
    from telephony.calls import call_move

    call, _ = _call_with_legs(twilio_account, 1, make_user)  # this copy says ringing
    Call.objects.filter(pk=call.pk).update(state=CallState.VOICEMAIL)  # another process moved it
    assert call_move(call=call, event="call.caller_hung_up")
    event = CallEvent.objects.get(call=call, name="call.caller_hung_up")
    assert (event.from_state, event.to_state) == (CallState.VOICEMAIL, CallState.MISSED)

    other, _ = _call_with_legs(twilio_account, 2, make_user)
    Call.objects.filter(pk=other.pk).update(state=CallState.ANSWERED)  # taken in between
    assert not call_move(call=other, event="call.caller_hung_up")
    assert other.state == CallState.ANSWERED  # the copy learnt where the call really is
    assert Call.objects.get(pk=other.pk).state == CallState.ANSWERED
    assert not CallEvent.objects.filter(call=other, name="call.caller_hung_up").exists()


def test_every_move_of_the_table_is_forward_and_every_call_state_can_end(twilio_account):
    from telephony.models import CALL_MOVES

    final = {CallState.COMPLETED, CallState.REJECTED, CallState.RATE_LIMITED, CallState.FAILED}
    for event, moves in CALL_MOVES.items():
        for source, target in moves.items():
            assert source not in final, (event, source)
            assert source != target, event
    hang_up = {**CALL_MOVES["call.caller_hung_up"], **CALL_MOVES["call.completed"]}
    assert set(hang_up) == set(CallState) - final - {CallState.MISSED}


def test_the_caller_screen_asks_about_this_caller_now(twilio_account):
    from llamenos.crypto import number_hash
    from telephony.bans import Ban
    from telephony.ringing import caller_screen

    now = timezone.now()
    caller = number_hash("+14155550123")
    Ban.objects.create(
        number_hash=caller, number_last4="0123", reason="test", expires_at=now + dt.timedelta(hours=1)
    )
    assert caller_screen(caller_hash=caller, at=now).banned
    assert not caller_screen(caller_hash=number_hash("+14155550124"), at=now).banned  # someone else
    assert not caller_screen(caller_hash=caller, at=now + dt.timedelta(hours=2)).banned  # expired by then


def test_a_recording_reported_twice_is_saved_and_recorded_once(twilio_account):
    from telephony.calls import call_recording_save, call_start

    call, _ = call_start(account=twilio_account, provider_call_id="CA" + "9" * 32, caller_e164="+14155550123")
    call_recording_save(call=call, recording_url="https://media.example/rec/1")
    call_recording_save(call=call, recording_url="https://media.example/rec/1")
    call_recording_save(call=call, recording_url="")  # an empty report changes nothing
    assert Call.objects.get(pk=call.pk).recording_url == "https://media.example/rec/1"
    assert call.events.filter(name="recording.saved").count() == 1


def test_a_leg_moves_forward_only_and_records_its_event(twilio_account, make_user):
    call, (leg, other) = _call_with_legs(twilio_account, 2, make_user)
    CallLeg.objects.filter(pk=leg.pk).update(state=LegState.REQUESTED)
    assert leg_set_state(leg=leg, state=LegState.RINGING)
    assert leg.state == LegState.RINGING
    assert CallLeg.objects.get(pk=leg.pk).state == LegState.RINGING

    ended = timezone.now()
    assert leg_set_state(leg=leg, state=LegState.NO_ANSWER, ended_at=ended)
    assert not leg_set_state(leg=leg, state=LegState.RINGING)  # late: nothing moves, nothing written
    assert not leg_set_state(leg=leg, state=LegState.ACCEPTED)  # an ended leg never takes the call
    row = CallLeg.objects.get(pk=leg.pk)
    assert (row.state, row.ended_at) == (LegState.NO_ANSWER, ended)
    events = CallEvent.objects.filter(call=call).order_by("pk")
    assert [(e.leg_id, e.name) for e in events] == [(leg.pk, "leg.ringing"), (leg.pk, "leg.no_answer")]
    assert events[0].details == {"volunteer_id": leg.volunteer_id}
    assert CallLeg.objects.get(pk=other.pk).state == LegState.PENDING
