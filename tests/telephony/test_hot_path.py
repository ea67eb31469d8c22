"""What keeps webhook answers fast, and that it stays correct: the cached read-mostly rows, the
incoming webhook's query budget, live events in one trip, static files in both server modes, and the
queue-timeout backstop scheduled by the ringing task instead of the webhook."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from channels.layers import get_channel_layer
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from telephony import tasks
from telephony.call_models import Call, CallState, PromptRecording
from telephony.events import events_send
from telephony.models import ProviderAccount
from telephony.prompts import prompt

from .signing import twilio_signature
from .test_webhooks import incoming_fields, post

pytestmark = pytest.mark.django_db

# Banned and anyone to ring in one read, then the call and its events in one transaction
# (accounts, prompt recordings and shift times come from the per-process cache).
INCOMING_QUERY_BUDGET = 5  # 3 queries and 1 transaction; 10 when the call was written twice, 18 before


@pytest.fixture
def someone_to_ring(make_user):
    """Someone to ring, so the incoming webhook goes all the way to queueing the call."""
    from volunteers.models import Volunteer

    return Volunteer.objects.create(user=make_user("ana"), phone="+14155550100", in_fallback_group=True)


def _account_queries(queries) -> list[str]:
    return [q["sql"] for q in queries if 'FROM "telephony_provideraccount"' in q["sql"]]


def test_incoming_stays_within_its_query_budget_and_reads_accounts_from_the_cache(
    client, settings, twilio_account, someone_to_ring
):
    post(
        client, settings, "/telephony/incoming", incoming_fields(call_sid="CA" + "1" * 32)
    )  # warms the cache
    with CaptureQueriesContext(connection) as queries:
        response = post(client, settings, "/telephony/incoming", incoming_fields(call_sid="CA" + "2" * 32))
    assert response.status_code == 200
    assert Call.objects.get(provider_call_id="CA" + "2" * 32).state == CallState.QUEUED
    assert len(queries) <= INCOMING_QUERY_BUDGET, "\n".join(q["sql"][:120] for q in queries)
    assert _account_queries(queries) == []


def test_a_token_changed_in_another_process_is_honoured_at_once(client, settings, twilio_account):
    post(client, settings, "/telephony/incoming", incoming_fields(call_sid="CA" + "1" * 32))
    # A queryset update sends no signal: this process's cache still holds the old token.
    new_token = "rotated-token-0123456789abcdef"
    ProviderAccount.objects.filter(pk=twilio_account.pk).update(auth_token=new_token)
    fields = incoming_fields(call_sid="CA" + "3" * 32)
    url = settings.PUBLIC_BASE_URL + "/telephony/incoming"
    signature = twilio_signature(new_token, url, fields)
    assert (
        client.post("/telephony/incoming", fields, headers={"X-Twilio-Signature": signature}).status_code
        == 200
    )
    # The fresh read replaced the cache: the old token is refused from now on.
    response = post(client, settings, "/telephony/incoming", incoming_fields(call_sid="CA" + "4" * 32))
    assert response.status_code == 403


def test_an_account_disabled_here_is_refused_at_once(client, settings, twilio_account):
    assert (
        post(client, settings, "/telephony/incoming", incoming_fields(call_sid="CA" + "1" * 32)).status_code
        == 200
    )
    twilio_account.enabled = False
    twilio_account.save()
    response = post(client, settings, "/telephony/incoming", incoming_fields(call_sid="CA" + "5" * 32))
    assert response.status_code == 403


def test_an_uploaded_prompt_recording_is_played_at_once_and_its_removal_too(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    assert prompt("please_hold", "en").__class__.__name__ == "Say"
    recording = PromptRecording.objects.create(
        prompt="please_hold",
        language="en",
        audio=ContentFile(b"RIFF0000WAVE", name="hold.wav"),
        content_type="audio/wav",
    )
    played = prompt("please_hold", "en")
    assert played.__class__.__name__ == "Play"
    assert str(recording.public_id) in played.url
    assert prompt("please_hold", "es").__class__.__name__ == "Say"
    recording.delete()
    assert prompt("please_hold", "en").__class__.__name__ == "Say"


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
    response = await async_client.get("/static/css/app.css")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    assert (await async_client.get("/static/css/no-such-file.css")).status_code == 404
    assert (await async_client.post("/telephony/incoming", {"CallSid": "CA1"})).status_code == 403


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
    monkeypatch.setattr(tasks, "ring_volunteers", lambda **kwargs: ([], []))
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
