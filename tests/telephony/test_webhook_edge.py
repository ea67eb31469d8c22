"""The webhook edge: a validly signed body with values no carrier sends is refused with a 400 and
a short reason, writes nothing, and never reaches another account's calls.

Bodies are the captured-shape fixtures in tests/fixtures/<provider>/<event>.txt, spoiled one field
at a time and signed with the SDKs' own signing code (tests/telephony/signing.py).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import pytest

from llamenos.models import AuditEvent
from telephony.models import Call, CallEvent, CallLeg, CallState, LegState, ProviderAccount
from telephony.providers import provider_for
from telephony.webhooks.parsing import webhook_event
from volunteers.models import Volunteer

from .signing import plivo_signature, twilio_signature

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
EVENTS = ("incoming", "status", "leg_status", "leg_accept", "voicemail_saved", "recording")
# Where each fixture's event arrives: the public paths, and the step URLs of one leg or one call.
PATHS = {
    "incoming": "/telephony/incoming",
    "status": "/telephony/status",
    "leg_status": "/telephony/legs/{leg}/status",
    "leg_accept": "/telephony/legs/{leg}/accept",
    "voicemail_saved": "/telephony/calls/{call}/voicemail-saved",
    "recording": "/telephony/calls/{call}/recording",
}


def fixture(provider: str, event: str) -> dict[str, str]:
    text = (FIXTURES / provider / f"{event}.txt").read_text().strip()
    return dict(parse_qsl(text, keep_blank_values=True, strict_parsing=True))


@dataclass(frozen=True)
class Fields:
    """The same meaning under each provider's field name."""

    call_id: str
    duration: str
    recording_url: str


FIELDS = {
    "twilio": Fields(call_id="CallSid", duration="CallDuration", recording_url="RecordingUrl"),
    "plivo": Fields(call_id="CallUUID", duration="Duration", recording_url="RecordUrl"),
}
RECORDING_URL_OVER_500 = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE" + "7" * 480 + ".mp3"

# One malformed value per field the signed fuzzer found answering 500.
MALFORMED = {
    "call_id_of_65_characters": lambda f: {f.call_id: "CA" + "f" * 63},
    "negative_duration": lambda f: {f.duration: "-1"},
    "duration_beyond_32_bits": lambda f: {f.duration: str(2**31)},
    "negative_recording_duration": lambda f: {"RecordingDuration": "-14"},
    "recording_duration_beyond_32_bits": lambda f: {"RecordingDuration": str(2**32 + 14)},
    "recording_url_over_500_characters": lambda f: {f.recording_url: RECORDING_URL_OVER_500},
}


@pytest.fixture(params=["twilio", "plivo"])
def account(request) -> ProviderAccount:
    return request.getfixturevalue(f"{request.param}_account")


@dataclass
class Scene:
    account: ProviderAccount
    call: Call
    leg: CallLeg

    @property
    def provider(self) -> str:
        return self.account.provider

    def path(self, event: str) -> str:
        return PATHS[event].format(call=self.call.pk, leg=self.leg.pk)


@pytest.fixture
def scene(account, volunteer_user) -> Scene:
    """The caller of the status/voicemail/recording fixtures, rung; the leg of the leg fixtures,
    answered and hearing the offer."""
    provider = account.provider
    call = Call.objects.create(
        provider_account=account,
        provider=provider,
        provider_call_id=fixture(provider, "status")[FIELDS[provider].call_id],
        caller_hash="h",
        state=CallState.RINGING,
    )
    leg_fields = fixture(provider, "leg_accept")
    leg = CallLeg.objects.create(
        call=call,
        volunteer=Volunteer.objects.create(user=volunteer_user, phone="+14155550188"),
        provider_call_id=leg_fields[FIELDS[provider].call_id],
        provider_request_id=leg_fields.get("RequestUUID", ""),
        state=LegState.ANSWERED,
    )
    return Scene(account=account, call=call, leg=leg)


def signed_post(client, settings, account: ProviderAccount, path: str, fields: dict[str, str]):
    """POST the form the way the carriers do (urlencoded), signed for the public URL."""
    url = settings.PUBLIC_BASE_URL + path
    if account.provider == "twilio":
        headers = {"X-Twilio-Signature": twilio_signature(account.auth_token, url, fields)}
    else:
        nonce = secrets.token_hex(10)
        headers = {
            "X-Plivo-Signature-V3": plivo_signature(account.auth_token, url, fields, nonce),
            "X-Plivo-Signature-V3-Nonce": nonce,
        }
    return client.post(
        path, urlencode(fields), content_type="application/x-www-form-urlencoded", headers=headers
    )


def database_rows() -> tuple:
    return (
        list(Call.objects.order_by("pk").values()),
        list(CallLeg.objects.order_by("pk").values()),
        list(CallEvent.objects.order_by("pk").values_list("pk", flat=True)),
        list(AuditEvent.objects.order_by("pk").values_list("pk", flat=True)),
    )


def assert_refused(response) -> None:
    assert response.status_code == 400, response.content[:200]
    assert response["Content-Type"].startswith("text/plain")
    assert 0 < len(response.content) < 200


# --- malformed fields: 400, nothing written -----------------------------------------------------


@pytest.mark.parametrize("event", EVENTS)
@pytest.mark.parametrize("malformation", MALFORMED)
def test_malformed_field_is_refused_and_writes_nothing(client, settings, scene, event, malformation):
    fields = {**fixture(scene.provider, event), **MALFORMED[malformation](FIELDS[scene.provider])}
    before = database_rows()

    response = signed_post(client, settings, scene.account, scene.path(event), fields)

    assert_refused(response)
    assert database_rows() == before


@pytest.mark.parametrize("event", EVENTS)
def test_nul_byte_in_any_field_is_refused_and_writes_nothing(client, settings, scene, event):
    body = fixture(scene.provider, event)
    before = database_rows()
    for name, value in body.items():
        for spoiled in (value + "\x00", "\x00" + value):
            response = signed_post(
                client, settings, scene.account, scene.path(event), {**body, name: spoiled}
            )
            assert response.status_code == 400, name
    assert_refused(response)
    assert database_rows() == before


@pytest.mark.parametrize("character", ["\x01", "\x1b", "\x7f"])
def test_other_control_characters_are_refused(client, settings, scene, character):
    fields = {**fixture(scene.provider, "incoming"), "From": f"+1415{character}5550123"}
    assert_refused(signed_post(client, settings, scene.account, "/telephony/incoming", fields))
    assert Call.objects.count() == 1


def test_a_refusal_is_logged_without_caller_data(client, settings, scene, caplog):
    fields = {**fixture(scene.provider, "incoming"), "From": "+14155550123\x00"}
    with caplog.at_level(logging.WARNING, logger="telephony.webhooks.verification"):
        response = signed_post(client, settings, scene.account, "/telephony/incoming", fields)
    assert_refused(response)
    assert "webhook refused" in caplog.text and "From" in caplog.text
    assert "5550123" not in caplog.text
    assert "5550123" not in response.content.decode()


def test_fields_read_before_verification_never_fail_the_request(client, settings, scene):
    """The account is picked by To, From and AccountSid before the signature is checked; odd
    values there, unsigned, are a 403 like any forgery."""
    odd = {"To": "\x00" * 3 + "+" * 5000, "From": "+", "AccountSid": "AC" + "é" * 40}
    header = "X-Twilio-Signature" if scene.provider == "twilio" else "X-Plivo-Signature-V3"
    response = client.post(
        "/telephony/status",
        urlencode({**fixture(scene.provider, "status"), **odd}) + "&To=%FF%FE&To=",
        content_type="application/x-www-form-urlencoded",
        headers={header: "forged", "X-Plivo-Signature-V3-Nonce": "1"},
    )
    assert response.status_code == 403


# --- the status URL is bound to the account that signed it -------------------------------------


def test_status_signed_by_another_account_does_not_end_the_call(client, settings, scene):
    other = ProviderAccount.objects.create(
        provider=scene.provider,
        label="Another organisation",
        hotline_number="+15005550099",
        account_id="AC" + "2" * 32 if scene.provider == "twilio" else "MAOTHERACCOUNT000002",
        auth_token="another-account-token-0123456789ab",
    )
    fields = fixture(scene.provider, "status")  # CallStatus completed, the scene call's id
    before = database_rows()

    response = signed_post(client, settings, other, "/telephony/status", fields)

    assert response.status_code == 204
    assert database_rows() == before
    # The same body signed by the call's own account does end it.
    signed_post(client, settings, scene.account, "/telephony/status", fields)
    scene.call.refresh_from_db()
    assert scene.call.ended_at is not None
    assert scene.call.state == CallState.MISSED


# --- ordinary bodies still pass --------------------------------------------------------------------


@pytest.mark.parametrize("event", EVENTS)
def test_fixture_bodies_are_answered(client, settings, scene, event):
    response = signed_post(client, settings, scene.account, scene.path(event), fixture(scene.provider, event))
    assert 200 <= response.status_code < 300, response.content[:200]


@pytest.mark.parametrize("provider", ["twilio", "plivo"])
@pytest.mark.parametrize("event", EVENTS)
def test_fixture_bodies_parse(rf, provider, event):
    body, names = fixture(provider, event), FIELDS[provider]
    parsed = webhook_event(rf.post("/x", body), provider_for(ProviderAccount(provider=provider)))
    assert parsed.call_id == body[names.call_id]
    assert parsed.recording_url == body.get(names.recording_url, "")
    assert parsed.recording_duration_seconds == (
        int(body["RecordingDuration"]) if "RecordingDuration" in body else None
    )
    assert parsed.duration_seconds == (int(body[names.duration]) if names.duration in body else None)
    # Twilio's <Record> action says Digits=hangup when the caller hung up: no key was pressed.
    assert parsed.digits == ("1" if event == "leg_accept" else "")
    if event in ("status", "leg_status"):
        assert parsed.call_status == "completed"


@pytest.mark.parametrize(
    ("provider", "fields", "attribute", "value"),
    [
        ("twilio", {"CallStatus": "exploded"}, "call_status", ""),
        ("plivo", {"CallStatus": "exploded"}, "call_status", ""),
        ("twilio", {"Digits": "hangup"}, "digits", ""),
        ("plivo", {"Digits": "1" * 33}, "digits", ""),
        ("twilio", {"Direction": "sideways"}, "direction", ""),
        ("twilio", {"QueueResult": "vanished"}, "hold_result", ""),
        ("plivo", {"Status": "teleported"}, "message_status", ""),
        ("twilio", {"CallDuration": "soon"}, "duration_seconds", None),
        ("plivo", {"Duration": str(2**31 - 1)}, "duration_seconds", 2**31 - 1),
        ("plivo", {"Duration": "0" * 5000 + "7"}, "duration_seconds", 7),
        ("twilio", {"CallSid": "CA" + "a" * 62}, "call_id", "CA" + "a" * 62),
    ],
)
def test_unknown_words_are_read_as_nothing(rf, provider, fields, attribute, value):
    parsed = webhook_event(rf.post("/x", fields), provider_for(ProviderAccount(provider=provider)))
    assert getattr(parsed, attribute) == value


@pytest.mark.parametrize(
    "fields",
    [
        {"CallSid": "CA../../etc"},
        {"CallSid": "CA 1"},
        {"RequestUUID": "x" * 65},
        {"MessageUUID": "m;1"},
        {"QueueTime": "-3"},
        {"BillDuration": "9" * 5000},
        {"RecordingDuration": "-" + "0" * 5000 + "1"},
        {"To": "+1" * 65},
        {"RecordingUrl": "javascript:alert(1)"},
        {"RecordUrl": "https://"},
    ],
    ids=lambda fields: next(iter(fields)),
)
def test_other_malformed_ids_durations_numbers_and_urls_are_refused(client, settings, scene, fields):
    assert_refused(signed_post(client, settings, scene.account, "/telephony/status", fields))
