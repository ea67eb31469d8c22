"""Admin pages of the call flow: bans, history, call detail, call-flow settings, prompt uploads."""

from __future__ import annotations

import datetime as dt
import io
import wave

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from llamenos.crypto import number_hash
from llamenos.models import AuditEvent
from llamenos.selectors import hotline_settings_get
from telephony.bans import ban_add
from telephony.instructions import Play, Say
from telephony.models import Ban, Call, CallEvent, CallFlowSettings, CallState, PromptRecording
from telephony.prompts import prompt
from telephony.ringing import caller_screen

pytestmark = pytest.mark.django_db


def _banned(number: str) -> bool:
    """What the incoming webhook sees for this caller."""
    return caller_screen(caller_hash=number_hash(number), at=timezone.now()).banned


def _hotline_now() -> dt.datetime:
    return timezone.localtime(timezone=hotline_settings_get().zone)


def wav_bytes(seconds: float = 0.2) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\0\0" * int(8000 * seconds))
    return buffer.getvalue()


# --- bans -------------------------------------------------------------------------------------


def test_admin_bans_a_number_stored_as_hash_and_last4(admin_client):
    response = admin_client.post(reverse("ban_list"), {"number": "(415) 555-2671", "reason": "threats"})
    assert response.status_code == 302

    ban = Ban.objects.get()
    assert ban.number_hash == number_hash("+14155552671")
    assert ban.number_last4 == "2671"
    assert _banned("+14155552671")
    page = admin_client.get(reverse("ban_list")).content.decode()
    assert "…2671" in page
    assert "4155552671" not in page
    event = AuditEvent.objects.get(event="ban.added")
    assert event.details == {"number_last4": "2671", "expires": False, "renewed": False}


def test_invalid_or_duplicate_ban_is_a_form_error_and_saves_nothing_new(admin_client):
    response = admin_client.post(reverse("ban_list"), {"number": "not a phone", "reason": "x"})
    assert response.status_code == 200
    assert "This is not a phone number." in response.content.decode()
    assert not Ban.objects.exists()

    admin_client.post(reverse("ban_list"), {"number": "+14155552671", "reason": "x"})
    response = admin_client.post(reverse("ban_list"), {"number": "+1 415 555 2671", "reason": "again"})
    assert "already banned" in response.content.decode()
    assert Ban.objects.count() == 1


def _expired_ban(actor, number: str) -> Ban:
    return ban_add(
        actor=actor, number=number, reason="old", expires_at=timezone.now() - dt.timedelta(minutes=1)
    )


def test_expired_ban_no_longer_matches(admin_user):
    _expired_ban(admin_user, "+14155552671")
    assert not _banned("+14155552671")


def test_bulk_import_validates_every_line_and_summarises(admin_client, admin_user):
    ban_add(actor=admin_user, number="+14155550001", reason="old")
    text = "+14155550001\n+34 612 345 678\n\nhello\n+34612345678\n(415) 555-0002\n123\n"
    response = admin_client.post(reverse("ban_import"), {"numbers": text, "reason": "list from partner org"})
    page = response.content.decode()

    assert response.status_code == 200
    assert "Added 2; 2 already banned or repeated; 2 invalid." in page
    assert "Line 4: This is not a phone number." in page
    assert "Line 7:" in page
    assert Ban.objects.count() == 3
    assert AuditEvent.objects.get(event="ban.imported").details == {
        "added_count": 2,
        "renewed_count": 0,
        "duplicate_count": 2,
        "invalid_count": 2,
        "expires": False,
    }


def test_an_expired_ban_is_shown_as_such_and_can_be_renewed(admin_client, admin_user):

    _expired_ban(admin_user, "+14155552671")
    assert "expired" in admin_client.get(reverse("ban_list")).content.decode()

    response = admin_client.post(reverse("ban_list"), {"number": "+1 415 555 2671", "reason": "again"})

    assert response.status_code == 302
    ban = Ban.objects.get()
    assert (ban.reason, ban.expires_at, ban.created_by) == ("again", None, admin_user)
    assert _banned("+14155552671")
    assert "expired" not in admin_client.get(reverse("ban_list")).content.decode()
    renewal = AuditEvent.objects.filter(event="ban.added").order_by("-id").first()
    assert renewal.details == {"number_last4": "2671", "expires": False, "renewed": True}


def test_a_ban_cannot_expire_before_it_starts(admin_client):
    # The form reads the time in the hotline's zone, as the admin's browser shows it.
    past = (_hotline_now() - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    for url, data in (
        ("ban_list", {"number": "+14155552671", "reason": "x", "expires_at": past}),
        ("ban_import", {"numbers": "+14155552671", "reason": "x", "expires_at": past}),
    ):
        response = admin_client.post(reverse(url), data)
        assert response.status_code == 200
        assert "The expiry must be in the future." in response.content.decode()
    assert not Ban.objects.exists()


def test_bulk_import_renews_expired_bans_and_sets_the_expiry(admin_client, admin_user):
    _expired_ban(admin_user, "+14155550001")
    ban_add(actor=admin_user, number="+14155550002", reason="kept")
    until = _hotline_now() + dt.timedelta(days=30)
    response = admin_client.post(
        reverse("ban_import"),
        {
            "numbers": "+14155550001\n+14155550002\n+14155550003",
            "reason": "partner list",
            "expires_at": until.strftime("%Y-%m-%dT%H:%M"),
        },
    )

    assert (
        "Added 2 (1 whose ban had expired); 1 already banned or repeated; 0 invalid."
        in response.content.decode()
    )
    bans = {ban.number_last4: ban for ban in Ban.objects.all()}
    assert len(bans) == 3
    assert (bans["0002"].reason, bans["0002"].expires_at) == ("kept", None)
    for last4 in ("0001", "0003"):
        assert bans[last4].reason == "partner list"
        assert bans[last4].expires_at == until.replace(second=0, microsecond=0)
        assert _banned(f"+1415555{last4}")
    assert AuditEvent.objects.get(event="ban.imported").details["renewed_count"] == 1


def test_removing_a_ban_is_audited_and_unknown_ids_are_404(admin_client, admin_user):
    ban = ban_add(actor=admin_user, number="+14155552671", reason="x")
    assert admin_client.post(reverse("ban_delete", args=[ban.pk])).status_code == 302
    assert not Ban.objects.exists()
    assert AuditEvent.objects.filter(event="ban.removed").exists()
    assert admin_client.post(reverse("ban_delete", args=[ban.pk])).status_code == 404


# --- call history and detail ---------------------------------------------------------------------


def make_call(index: int, *, state=CallState.COMPLETED, started=None, answered_by=None) -> Call:
    call = Call.objects.create(
        provider="twilio",
        provider_call_id=f"CA{index:032d}",
        caller_hash=number_hash(f"+1415555{index:04d}"),
        caller_last4=f"{index:04d}",
        state=state,
        answered_by=answered_by,
    )
    if started:
        Call.objects.filter(pk=call.pk).update(started_at=started)
    return call


def test_history_shows_last4_only_and_filters_by_state_date_and_volunteer(admin_client, volunteer_user):
    from volunteers.models import Volunteer

    volunteer = Volunteer.objects.create(user=volunteer_user, phone="+14155559999")
    now = timezone.now()
    make_call(1, state=CallState.COMPLETED, answered_by=volunteer, started=now)
    make_call(2, state=CallState.MISSED, started=now)
    make_call(3, state=CallState.VOICEMAIL, started=now - dt.timedelta(days=10))

    page = admin_client.get(reverse("call_history")).content.decode()
    assert all(f"…000{i}" in page for i in (1, 2, 3))
    assert "+14155550001" not in page

    missed = admin_client.get(reverse("call_history"), {"state": "missed"}).content.decode()
    assert "…0002" in missed and "…0001" not in missed

    recent = admin_client.get(
        reverse("call_history"), {"start": (now - dt.timedelta(days=2)).date().isoformat()}
    ).content.decode()
    assert "…0003" not in recent and "…0001" in recent

    by_volunteer = admin_client.get(reverse("call_history"), {"volunteer": volunteer.pk}).content.decode()
    assert "…0001" in by_volunteer and "…0002" not in by_volunteer


def test_history_refuses_a_backwards_date_range(admin_client):
    response = admin_client.get(reverse("call_history"), {"start": "2026-05-02", "end": "2026-05-01"})
    assert response.status_code == 200
    assert "The start date is after the end date." in response.content.decode()


def test_call_detail_shows_timeline_and_voicemail_player(admin_client):
    call = make_call(4, state=CallState.VOICEMAIL)
    Call.objects.filter(pk=call.pk).update(
        voicemail_url="https://api.twilio.com/recordings/RE1", voicemail_duration_seconds=12
    )
    CallEvent.objects.create(call=call, name="call.to_voicemail", from_state="ringing", to_state="voicemail")

    page = admin_client.get(reverse("call_detail", args=[call.pk])).content.decode()
    assert "call.to_voicemail" in page
    assert f'<audio controls preload="none" src="/calls/{call.pk}/recording/voicemail">' in page
    assert "api.twilio.com" not in page  # the provider's media URL stays server-side
    assert admin_client.get(reverse("call_detail", args=[999999])).status_code == 404


# --- call-flow settings ------------------------------------------------------------------------


def flow_post(**overrides) -> dict:
    data = {
        "captcha_digits": 4,
        "captcha_attempts": 2,
        "queue_timeout_seconds": 90,
        "ring_timeout_seconds": 30,
        "require_press_to_accept": "on",
        "voicemail_max_seconds": 120,
        "rate_limit_enabled": "on",
        "rate_limit_calls": 3,
        "rate_limit_window_seconds": 60,
        "rate_limit_block_seconds": 1800,
        "lang_en_digit": "2",
        "lang_en_order": 2,
        "lang_es_digit": "1",
        "lang_es_order": 1,
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_call_flow_settings_save_the_menu_in_order_and_audit(admin_client):
    response = admin_client.post(reverse("settings_calls"), flow_post(captcha_enabled="on"))
    assert response.status_code == 302
    row = CallFlowSettings.objects.get()
    assert row.language_menu == [{"language": "es", "digit": "1"}, {"language": "en", "digit": "2"}]
    assert row.captcha_enabled
    assert AuditEvent.objects.get(event="settings.call_flow_updated").actor_label == "ada"


# Every bounded knob and its range, as the settings page promises them.
RANGES = {
    "captcha_digits": (3, 8),
    "captcha_attempts": (1, 5),
    "queue_timeout_seconds": (30, 300),
    "ring_timeout_seconds": (10, 120),
    "voicemail_max_seconds": (10, 600),
    "rate_limit_calls": (1, 100),
    "rate_limit_window_seconds": (10, 86400),
    "rate_limit_block_seconds": (0, 604800),
}


@pytest.mark.parametrize(
    ("field", "value"),
    [(field, low - 1) for field, (low, _high) in RANGES.items()]
    + [(field, high + 1) for field, (_low, high) in RANGES.items()],
)
def test_out_of_range_values_are_refused_on_the_server(admin_client, field, value):
    response = admin_client.post(reverse("settings_calls"), flow_post(**{field: value}))
    assert response.status_code == 200
    assert "Ensure this value is" in response.content.decode()
    assert not CallFlowSettings.objects.filter(**{field: value}).exists()


@pytest.mark.parametrize("edge", [0, 1])
def test_the_ends_of_every_range_are_accepted(admin_client, edge):
    values = {field: bounds[edge] for field, bounds in RANGES.items()}
    response = admin_client.post(reverse("settings_calls"), flow_post(**values))
    assert response.status_code == 302
    row = CallFlowSettings.objects.get()
    assert {field: getattr(row, field) for field in RANGES} == values


def test_defaults_are_the_documented_ones(admin_client):
    row = CallFlowSettings()
    assert (row.queue_timeout_seconds, row.require_press_to_accept, row.rate_limit_enabled) == (
        90,
        True,
        True,
    )
    page = admin_client.get(reverse("settings_calls")).content.decode()
    assert 'name="queue_timeout_seconds" value="90"' in page


def test_two_languages_on_one_digit_is_refused(admin_client):
    response = admin_client.post(reverse("settings_calls"), flow_post(lang_en_digit="1", lang_es_digit="1"))
    assert "Two languages cannot share a menu digit." in response.content.decode()


# --- prompt recordings -------------------------------------------------------------------------


def test_uploaded_recording_replaces_text_to_speech(
    admin_client, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    assert isinstance(prompt("greeting", "es", hotline="X"), Say)  # and now in the cache

    upload = SimpleUploadedFile("saludo.wav", wav_bytes(), content_type="audio/wav")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("settings_prompts"), {"prompt": "greeting", "language": "es", "audio": upload}
        )
    assert response.status_code == 302

    recording = PromptRecording.objects.get()
    played = prompt("greeting", "es", hotline="X")
    assert played == Play(f"{settings.PUBLIC_BASE_URL}/telephony/prompts/{recording.public_id}")
    assert isinstance(prompt("greeting", "en", hotline="X"), Say)

    served = admin_client.get(f"/telephony/prompts/{recording.public_id}")
    assert served.status_code == 200
    assert served["Content-Type"] == "audio/wav"
    assert b"".join(served.streaming_content).startswith(b"RIFF")
    assert AuditEvent.objects.filter(event="prompt.uploaded").exists()

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("prompt_delete", args=[recording.pk]))
    assert isinstance(prompt("greeting", "es", hotline="X"), Say)  # removed: spoken again


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("voice.wav", b"not audio at all", "Upload a WAV or MP3 audio file."),
        ("voice.mp3", wav_bytes(), "Upload a WAV or MP3 audio file."),
        ("voice.ogg", b"OggS" + b"\0" * 100, "Upload a WAV or MP3 audio file."),
        ("big.mp3", b"ID3" + b"\0" * (5 * 1024 * 1024 + 1), "larger than 5 MB"),
    ],
)
def test_bad_or_oversized_uploads_are_rejected(admin_client, settings, tmp_path, name, content, error):
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile(name, content)
    response = admin_client.post(
        reverse("settings_prompts"), {"prompt": "greeting", "language": "en", "audio": upload}
    )
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not PromptRecording.objects.exists()


def test_unknown_prompt_audio_is_404(client):
    assert client.get("/telephony/prompts/00000000-0000-0000-0000-000000000000").status_code == 404


def test_hold_music_is_served_as_wav(client):
    response = client.get("/telephony/hold-music.wav")
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/wav"
    assert response.content[:4] == b"RIFF" and response.content[8:12] == b"WAVE"


def test_recording_proxy_refuses_foreign_hosts_and_unknown_kinds(admin_client, twilio_account):
    call = make_call(5, state=CallState.VOICEMAIL)
    Call.objects.filter(pk=call.pk).update(
        provider_account=twilio_account,
        voicemail_url="https://attacker.example/steal",
        voicemail_duration_seconds=3,
    )
    response = admin_client.get(reverse("call_recording", args=[call.pk, "voicemail"]))
    assert response.status_code == 502
    assert "not a recording URL of this provider" in response.content.decode()
    assert admin_client.get(reverse("call_recording", args=[call.pk, "call"])).status_code == 404
    assert admin_client.get(reverse("call_recording", args=[call.pk, "secrets"])).status_code == 404
