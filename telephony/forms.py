"""The provider account form. Secrets are write-only: never rendered back, blank keeps them."""

from __future__ import annotations

import re

from django import forms
from phonenumber_field.formfields import PhoneNumberField

from .models import ProviderAccount
from .providers import PROVIDERS

SECRETS = {
    # form field -> (model field, "clear" checkbox)
    "new_auth_token": ("auth_token", "clear_auth_token"),
    "new_api_key_secret": ("api_key_secret", "clear_api_key_secret"),
}


def _secret_input() -> forms.PasswordInput:
    # render_value=False: a stored or just-typed secret never goes back into the HTML.
    return forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})


class ProviderAccountForm(forms.ModelForm):
    hotline_number = PhoneNumberField(
        label="Hotline number",
        help_text="The number callers dial, in E.164 form, for example +15551234567.",
    )
    new_auth_token = forms.CharField(label="Auth Token", required=False, strip=True, widget=_secret_input())
    clear_auth_token = forms.BooleanField(label="Remove the stored Auth Token", required=False)
    new_api_key_secret = forms.CharField(
        label="API Key Secret", required=False, strip=True, widget=_secret_input()
    )
    clear_api_key_secret = forms.BooleanField(label="Remove the stored API Key Secret", required=False)

    class Meta:
        model = ProviderAccount
        fields = [
            "provider",
            "label",
            "hotline_number",
            "account_id",
            "enabled",
            "api_key_sid",
            "twiml_app_sid",
            "plivo_app_id",
        ]
        labels = {
            "account_id": "Account SID (Twilio) or Auth ID (Plivo)",
            "api_key_sid": "API Key SID",
            "twiml_app_sid": "TwiML App SID",
            "plivo_app_id": "Plivo Application ID",
            "enabled": "Enabled (answers calls and sends messages)",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # Moving an account to another provider would leave its ids meaningless.
            self.fields["provider"].disabled = True

    def secret_is_set(self, model_field: str) -> bool:
        return bool(self.instance.pk and getattr(self.instance, model_field))

    @property
    def auth_token_is_set(self) -> bool:
        return self.secret_is_set("auth_token")

    @property
    def api_key_secret_is_set(self) -> bool:
        return self.secret_is_set("api_key_secret")

    def clean_label(self) -> str:
        return self.cleaned_data["label"].strip()

    def clean(self):
        data = super().clean()
        provider = PROVIDERS.get(data.get("provider") or self.instance.provider)
        account_id = (data.get("account_id") or "").strip()
        data["account_id"] = account_id
        if provider and account_id and not re.fullmatch(provider.account_id_pattern, account_id):
            self.add_error(
                "account_id",
                f"This does not look like a {provider.label} {provider.account_id_label}; "
                "copy it from the provider console's dashboard.",
            )
        for name in ("api_key_sid", "twiml_app_sid", "plivo_app_id"):
            data[name] = (data.get(name) or "").strip()
        for form_field, (_model_field, clear_field) in SECRETS.items():
            if data.get(form_field) and data.get(clear_field):
                self.add_error(clear_field, "Either type a new value or remove the stored one, not both.")
        token_after = data.get("new_auth_token") or (
            "" if data.get("clear_auth_token") else self.secret_is_set("auth_token")
        )
        if not token_after:
            self.add_error(
                "new_auth_token", "The Auth Token is required: webhooks cannot be verified without it."
            )
        return data

    def account_fields(self) -> dict:
        """What the services take: secrets as a new value, "" to clear, or None to keep."""
        data = self.cleaned_data
        fields = {name: data[name] for name in self.Meta.fields if name in data}
        if self.instance.pk:
            fields.pop("provider", None)
        fields["hotline_number"] = data["hotline_number"].as_e164
        for form_field, (model_field, clear_field) in SECRETS.items():
            if data.get(form_field):
                fields[model_field] = data[form_field]
            elif data.get(clear_field):
                fields[model_field] = ""
            else:
                fields[model_field] = None
        return fields
