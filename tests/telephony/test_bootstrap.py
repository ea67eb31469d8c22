"""manage.py provider_bootstrap: accounts from the environment, idempotent and audited."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from llamenos.models import AuditEvent
from telephony.models import ProviderAccount

from .conftest import PLIVO_ID, TWILIO_SID

pytestmark = pytest.mark.django_db

TOKEN = "env-twilio-token-0123456789abcdef"
PLIVO_ENV_TOKEN = "env-plivo-token-0123456789abcdef"


@pytest.fixture
def env(settings):
    for name in (
        "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_PHONE_NUMBER",
        "PLIVO_AUTH_ID", "PLIVO_AUTH_TOKEN", "PLIVO_PHONE_NUMBER",
    ):  # fmt: skip
        setattr(settings, name, "")
    return settings


def run() -> str:
    out = StringIO()
    call_command("provider_bootstrap", stdout=out)
    return out.getvalue()


def test_nothing_set_does_nothing(env):
    assert run() == ""
    assert not ProviderAccount.objects.exists()


def test_creates_both_accounts_then_is_idempotent(env):
    env.TWILIO_ACCOUNT_SID, env.TWILIO_AUTH_TOKEN, env.TWILIO_PHONE_NUMBER = (
        TWILIO_SID,
        TOKEN,
        "+1 500-555-0006",
    )
    env.PLIVO_AUTH_ID, env.PLIVO_AUTH_TOKEN, env.PLIVO_PHONE_NUMBER = (
        PLIVO_ID,
        PLIVO_ENV_TOKEN,
        "+15005550007",
    )
    output = run()
    assert "Twilio: created" in output and "Plivo: created" in output
    twilio = ProviderAccount.objects.get(provider="twilio")
    assert (twilio.account_id, twilio.auth_token, str(twilio.hotline_number), twilio.enabled) == (
        TWILIO_SID,
        TOKEN,
        "+15005550006",
        True,
    )
    plivo = ProviderAccount.objects.get(provider="plivo")
    assert (plivo.account_id, plivo.auth_token, str(plivo.hotline_number)) == (
        PLIVO_ID,
        PLIVO_ENV_TOKEN,
        "+15005550007",
    )
    assert AuditEvent.objects.filter(event="telephony.account_bootstrapped").count() == 2

    assert "up to date" in run()
    assert ProviderAccount.objects.count() == 2
    assert AuditEvent.objects.filter(event__startswith="telephony.").count() == 2
    audit = json.dumps(list(AuditEvent.objects.values("target", "details")))
    assert TOKEN not in audit and "5550006" not in audit
    assert TOKEN not in output and "5550006" not in output


def test_rotated_token_updates_the_account_and_keeps_admin_choices(env, twilio_account):
    twilio_account.enabled = False
    twilio_account.label = "Named by an admin"
    twilio_account.save()
    env.TWILIO_ACCOUNT_SID, env.TWILIO_AUTH_TOKEN, env.TWILIO_PHONE_NUMBER = TWILIO_SID, TOKEN, "+15005550006"
    assert "updated account" in run()
    twilio_account.refresh_from_db()
    assert twilio_account.auth_token == TOKEN
    assert not twilio_account.enabled and twilio_account.label == "Named by an admin"
    event = AuditEvent.objects.get(event="telephony.account_bootstrap_updated")
    assert event.details == {"changed": ["auth_token"]} and event.actor is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"TWILIO_AUTH_TOKEN": ""}, "set TWILIO_AUTH_TOKEN as well"),
        ({"TWILIO_ACCOUNT_SID": "not-a-sid"}, "TWILIO_ACCOUNT_SID does not look like a Twilio Account SID"),
        ({"TWILIO_PHONE_NUMBER": "call me"}, "TWILIO_PHONE_NUMBER is not a phone number"),
    ],
)
def test_bad_settings_fail_loudly_and_change_nothing(env, overrides, message):
    env.TWILIO_ACCOUNT_SID, env.TWILIO_AUTH_TOKEN, env.TWILIO_PHONE_NUMBER = TWILIO_SID, TOKEN, "+15005550006"
    for name, value in overrides.items():
        setattr(env, name, value)
    with pytest.raises(CommandError, match=message):
        run()
    assert not ProviderAccount.objects.exists()


def test_number_owned_by_the_other_provider_is_an_error(env, plivo_account):
    env.TWILIO_ACCOUNT_SID, env.TWILIO_AUTH_TOKEN = TWILIO_SID, TOKEN
    env.TWILIO_PHONE_NUMBER = str(plivo_account.hotline_number)
    with pytest.raises(CommandError, match="already used by a Plivo account"):
        run()
    assert ProviderAccount.objects.count() == 1
