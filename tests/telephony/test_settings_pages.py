"""The Telephony settings section: accounts, write-only secrets, console URLs, audit."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.urls import reverse

from llamenos.models import AuditEvent
from telephony.models import ProviderAccount

from .conftest import PLIVO_ID, TWILIO_SID

pytestmark = pytest.mark.django_db

TOKEN = "tw-secret-token-value-abcdef123456"
KEY_SECRET = "tw-api-key-secret-value-zyxw98765432"


def twilio_form(**overrides):
    data = {
        "provider": "twilio",
        "label": "Main line",
        "hotline_number": "+15005550006",
        "account_id": TWILIO_SID,
        "enabled": "on",
        "new_auth_token": TOKEN,
        "api_key_sid": "SK" + "a" * 32,
        "new_api_key_secret": KEY_SECRET,
        "twiml_app_sid": "AP" + "b" * 32,
        "plivo_app_id": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def raw_column(pk: int, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM telephony_provideraccount WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def all_audit_text() -> str:
    return json.dumps(list(AuditEvent.objects.values("event", "target", "details")))


def test_empty_page_explains_what_to_do(admin_client):
    response = admin_client.get(reverse("telephony_settings"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "No provider account yet" in body
    assert 'aria-current="page">Telephony</a>' in body


def test_add_account_secrets_are_write_only_and_encrypted(admin_client):
    response = admin_client.post(reverse("telephony_account_add"), twilio_form())
    assert response.status_code == 302, response.content.decode()
    account = ProviderAccount.objects.get()
    assert (account.provider, account.label, str(account.hotline_number)) == (
        "twilio",
        "Main line",
        "+15005550006",
    )
    assert account.auth_token == TOKEN and account.api_key_secret == KEY_SECRET

    # Raw columns hold Fernet tokens, not the secrets.
    for column, secret in (("auth_token", TOKEN), ("api_key_secret", KEY_SECRET)):
        stored = raw_column(account.pk, column)
        assert stored and stored != secret and secret not in stored

    for url in (reverse("telephony_settings"), reverse("telephony_account_edit", args=[account.pk])):
        body = admin_client.get(url).content.decode()
        assert TOKEN not in body and KEY_SECRET not in body
    # The list shows a shortened id (the id is not secret; the edit form holds it in full).
    assert TWILIO_SID not in admin_client.get(reverse("telephony_settings")).content.decode()
    edit = admin_client.get(reverse("telephony_account_edit", args=[account.pk])).content.decode()
    assert "Leave blank to keep the stored value." in edit
    assert edit.count('<span class="badge ok">set</span>') == 2

    assert AuditEvent.objects.filter(event="telephony.account_created").count() == 1
    audit = all_audit_text()
    assert TOKEN not in audit and KEY_SECRET not in audit and "5550006" not in audit


def test_a_rejected_form_does_not_echo_the_typed_secret(admin_client):
    response = admin_client.post(reverse("telephony_account_add"), twilio_form(hotline_number="12"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Enter a valid phone number" in body
    assert TOKEN not in body and KEY_SECRET not in body
    assert not ProviderAccount.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field_error"),
    [
        ({"account_id": "not-a-sid"}, "does not look like a Twilio Account SID"),
        ({"account_id": "AC123"}, "does not look like a Twilio Account SID"),
        ({"provider": "plivo", "account_id": TWILIO_SID}, "does not look like a Plivo Auth ID"),
        ({"new_auth_token": ""}, "The Auth Token is required"),
        ({"label": ""}, "This field is required"),
        ({"provider": "nokia"}, "Select a valid choice"),
    ],
)
def test_bad_input_gets_a_clear_error(admin_client, overrides, field_error):
    response = admin_client.post(reverse("telephony_account_add"), twilio_form(**overrides))
    assert response.status_code == 200
    assert field_error in response.content.decode()
    assert not ProviderAccount.objects.exists()


def test_plivo_account_can_be_added(admin_client):
    form = twilio_form(
        provider="plivo",
        account_id=PLIVO_ID,
        hotline_number="+15005550007",
        api_key_sid="",
        new_api_key_secret="",
        twiml_app_sid="",
        plivo_app_id="12345678901234567",
    )
    assert admin_client.post(reverse("telephony_account_add"), form).status_code == 302
    account = ProviderAccount.objects.get()
    assert (account.provider, account.account_id, account.plivo_app_id) == (
        "plivo",
        PLIVO_ID,
        "12345678901234567",
    )


def test_duplicate_hotline_number_is_a_form_error(admin_client, twilio_account):
    response = admin_client.post(reverse("telephony_account_add"), twilio_form(hotline_number="+15005550006"))
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert ProviderAccount.objects.count() == 1


def test_edit_blank_secret_keeps_it_new_value_replaces_clear_removes(admin_client, twilio_account):
    url = reverse("telephony_account_edit", args=[twilio_account.pk])
    twilio_account.api_key_secret = KEY_SECRET
    twilio_account.save()
    original = twilio_account.auth_token

    response = admin_client.post(url, twilio_form(label="Renamed", new_auth_token="", new_api_key_secret=""))
    assert response.status_code == 302
    twilio_account.refresh_from_db()
    assert twilio_account.label == "Renamed"
    assert twilio_account.auth_token == original and twilio_account.api_key_secret == KEY_SECRET
    event = AuditEvent.objects.filter(event="telephony.account_updated").latest("id")
    assert event.details == {"changed": ["api_key_sid", "label", "twiml_app_sid"]}

    admin_client.post(url, twilio_form(label="Renamed", new_auth_token="rotated-token-0000000000000000"))
    twilio_account.refresh_from_db()
    assert twilio_account.auth_token == "rotated-token-0000000000000000"

    admin_client.post(
        url, twilio_form(label="Renamed", new_auth_token="", new_api_key_secret="", clear_api_key_secret="on")
    )
    twilio_account.refresh_from_db()
    assert (
        twilio_account.api_key_secret == "" and twilio_account.auth_token == "rotated-token-0000000000000000"
    )
    assert "rotated-token" not in all_audit_text()


def test_the_auth_token_cannot_be_cleared_away(admin_client, twilio_account):
    url = reverse("telephony_account_edit", args=[twilio_account.pk])
    response = admin_client.post(url, twilio_form(new_auth_token="", clear_auth_token="on"))
    assert response.status_code == 200
    assert "The Auth Token is required" in response.content.decode()
    twilio_account.refresh_from_db()
    assert twilio_account.auth_token


def test_the_provider_of_an_existing_account_cannot_be_changed(admin_client, twilio_account):
    url = reverse("telephony_account_edit", args=[twilio_account.pk])
    admin_client.post(url, twilio_form(provider="plivo", new_auth_token=""))
    twilio_account.refresh_from_db()
    assert twilio_account.provider == "twilio"


def test_enable_disable_and_delete_are_audited(admin_client, twilio_account):
    toggle = reverse("telephony_account_toggle", args=[twilio_account.pk])
    assert admin_client.get(toggle).status_code == 405
    admin_client.post(toggle, {"enabled": "0"})
    twilio_account.refresh_from_db()
    assert not twilio_account.enabled
    assert "Disabled" in admin_client.get(reverse("telephony_settings")).content.decode()
    admin_client.post(toggle, {"enabled": "1"})
    twilio_account.refresh_from_db()
    assert twilio_account.enabled

    delete = reverse("telephony_account_delete", args=[twilio_account.pk])
    assert "Delete “Main line”?" in admin_client.get(delete).content.decode()
    assert ProviderAccount.objects.exists()
    assert admin_client.post(delete).status_code == 302
    assert not ProviderAccount.objects.exists()
    events = list(
        AuditEvent.objects.filter(event__startswith="telephony.")
        .order_by("id")
        .values_list("event", flat=True)
    )
    assert events == ["telephony.account_disabled", "telephony.account_enabled", "telephony.account_deleted"]


@pytest.mark.parametrize(
    "name", ["telephony_account_edit", "telephony_account_delete", "telephony_account_check"]
)
def test_unknown_account_is_a_404(admin_client, name):
    url = reverse(name, args=[999])
    response = admin_client.post(url) if name.endswith("check") else admin_client.get(url)
    assert response.status_code == 404


def test_volunteers_are_refused(volunteer_client, twilio_account):
    assert volunteer_client.get(reverse("telephony_settings")).status_code == 403
    assert (
        volunteer_client.post(reverse("telephony_account_toggle", args=[twilio_account.pk])).status_code
        == 403
    )


def test_console_urls_are_shown_per_provider(admin_client, settings, twilio_account, plivo_account):
    settings.PUBLIC_BASE_URL = "https://crisis.example.net"
    body = admin_client.get(reverse("telephony_settings")).content.decode()
    for path in (
        "/telephony/incoming",
        "/telephony/status",
        "/telephony/webrtc-incoming",
        "/telephony/sms/incoming",
    ):
        assert f"<code>https://crisis.example.net{path}</code>" in body
    assert "URLs for the Twilio console" in body and "URLs for the Plivo console" in body
    assert '<th scope="row">Account SID</th>' in body and '<th scope="row">Auth ID</th>' in body
    assert "A call comes in" in body and "Call status changes" in body and "TwiML App" in body
    assert "Answer URL" in body and "Hangup URL" in body and "XML Applications" in body
    # Plivo has no separate WebRTC URL: only Twilio's section names it.
    plivo_part = body.split(f'id="account-{plivo_account.pk}"')[1].split("<article")[0]
    assert "webrtc-incoming" not in plivo_part
    assert "<code>https://crisis.example.net/telephony/incoming</code> (POST)" in plivo_part
    twilio_part = body.split(f'id="account-{twilio_account.pk}"')[1].split("<article")[0]
    assert "<code>https://crisis.example.net/telephony/webrtc-incoming</code>" in twilio_part


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/telephony/settings/", "/settings/telephony/"),
        ("/telephony/settings/add/", "/settings/telephony/add/"),
        ("/telephony/settings/7/edit/", "/settings/telephony/7/edit/"),
        ("/settings/calls/", "/settings/telephony/call-flow/"),
        ("/settings/prompts/", "/settings/telephony/prompts/"),
    ],
)
def test_admin_pages_moved_off_the_webhook_prefix_redirect_for_good(admin_client, old, new):
    response = admin_client.get(old)
    assert response.status_code == 301 and response.url == new


def test_the_settings_sections_link_to_the_new_addresses(admin_client):
    assert reverse("telephony_settings") == "/settings/telephony/"
    assert reverse("settings_calls") == "/settings/telephony/call-flow/"
    assert reverse("settings_prompts") == "/settings/telephony/prompts/"
    page = admin_client.get("/settings/telephony/call-flow/").content.decode()
    assert 'href="/settings/telephony/prompts/"' in page
