"""Create or update provider accounts from TWILIO_* / PLIVO_* environment settings.

Run at start-up (``make run``) and in deployment, so a provider can be configured without the
UI. Idempotent: a second run with the same values changes nothing and audits nothing. An
admin's choice to disable an account is kept; only the credentials and number come from here.
"""

from __future__ import annotations

import re

import phonenumbers
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from telephony.accounts import provider_account_create, provider_account_update
from telephony.models import ProviderAccount
from telephony.providers import PROVIDERS

# provider -> (account id setting, auth token setting, number setting)
SOURCES = {
    "twilio": ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_PHONE_NUMBER"),
    "plivo": ("PLIVO_AUTH_ID", "PLIVO_AUTH_TOKEN", "PLIVO_PHONE_NUMBER"),
}


def _e164(raw: str, setting: str) -> str:
    try:
        number = phonenumbers.parse(raw, settings.PHONENUMBER_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_possible_number(number):
        raise CommandError(f"{setting} is not a phone number in E.164 form (for example +15551234567).")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class Command(BaseCommand):
    help = "Create or update provider accounts from TWILIO_* and PLIVO_* settings (environment)."

    def handle(self, *args, **options):
        for provider, names in SOURCES.items():
            values = {name: (getattr(settings, name, "") or "").strip() for name in names}
            if not any(values.values()):
                continue
            missing = [name for name, value in values.items() if not value]
            if missing:
                raise CommandError(f"{provider}: set {', '.join(missing)} as well, or none of them.")
            id_name, token_name, number_name = names
            cls = PROVIDERS[provider]
            if not re.fullmatch(cls.account_id_pattern, values[id_name]):
                raise CommandError(f"{id_name} does not look like a {cls.label} {cls.account_id_label}.")
            number = _e164(values[number_name], number_name)
            message = self._apply(provider, values[id_name], values[token_name], number, cls.label)
            self.stdout.write(message)

    @transaction.atomic
    def _apply(self, provider: str, account_id: str, token: str, number: str, label: str) -> str:
        account = ProviderAccount.objects.select_for_update().filter(hotline_number=number).first()
        if account is None:
            account = provider_account_create(
                actor=None,
                event="telephony.account_bootstrapped",
                provider=provider,
                label=f"{label} (from environment)",
                hotline_number=number,
                account_id=account_id,
                auth_token=token,
                enabled=True,
            )
            return f"{label}: created account #{account.pk}."
        if account.provider != provider:
            raise CommandError(
                f"The {label} number is already used by a {account.get_provider_display()} account "
                f"(#{account.pk}); change one of them in Settings › Telephony."
            )
        changed = provider_account_update(
            account=account,
            actor=None,
            event="telephony.account_bootstrap_updated",
            account_id=account_id,
            auth_token=token,
        )
        if changed:
            return f"{label}: updated account #{account.pk} ({', '.join(changed)})."
        return f"{label}: account #{account.pk} is up to date."
