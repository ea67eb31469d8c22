"""Forms of the telephony admin pages: provider accounts (secrets are write-only: never rendered
back, blank keeps them), the call history filter, bans, call-flow settings, prompt recordings."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from phonenumber_field.formfields import PhoneNumberField

from volunteers.models import Volunteer

from . import prompts
from .bans import BanError, e164_or_error
from .models import CallFlowSettings, CallState, ProviderAccount
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


MAX_PROMPT_BYTES = 5 * 1024 * 1024
AUDIO_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg"}
DIGITS = [("", "—"), *((str(digit), str(digit)) for digit in range(10))]


class BanExpiryMixin:
    """An optional expiry, which must be in the future: a ban that ends before it starts bans nobody."""

    def clean_expires_at(self):
        expires_at = self.cleaned_data["expires_at"]
        if expires_at is not None and expires_at <= timezone.now():
            raise ValidationError("The expiry must be in the future.")
        return expires_at


def _expiry_field() -> forms.DateTimeField:
    return forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Leave empty for a ban that does not expire.",
    )


class BanForm(BanExpiryMixin, forms.Form):
    number = forms.CharField(max_length=32, help_text="International (+34…) or local format.")
    reason = forms.CharField(max_length=200)
    expires_at = _expiry_field()

    def clean_number(self) -> str:
        try:
            return e164_or_error(self.cleaned_data["number"])
        except BanError as error:
            raise ValidationError(str(error)) from error


class BanImportForm(BanExpiryMixin, forms.Form):
    numbers = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), help_text="One number per line.")
    reason = forms.CharField(max_length=200)
    expires_at = _expiry_field()


class CallHistoryFilterForm(forms.Form):
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    state = forms.ChoiceField(required=False, choices=[("", "Any state"), *CallState.choices])
    volunteer = forms.ModelChoiceField(
        required=False, queryset=Volunteer.objects.select_related("user"), empty_label="Anyone"
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("start") and cleaned.get("end") and cleaned["start"] > cleaned["end"]:
            raise ValidationError("The start date is after the end date.")
        return cleaned


class CallFlowSettingsForm(forms.ModelForm):
    """The call-flow knobs. Ranges come from the model validators, so they hold on the server."""

    class Meta:
        model = CallFlowSettings
        fields = [
            "captcha_enabled",
            "captcha_digits",
            "captcha_attempts",
            "queue_timeout_seconds",
            "ring_timeout_seconds",
            "require_press_to_accept",
            "voicemail_max_seconds",
            "record_calls",
            "rate_limit_enabled",
            "rate_limit_calls",
            "rate_limit_window_seconds",
            "rate_limit_block_seconds",
        ]
        labels = {
            "captcha_enabled": "Ask callers to type digits (voice CAPTCHA)",
            "captcha_digits": "CAPTCHA length (digits)",
            "captcha_attempts": "CAPTCHA tries",
            "queue_timeout_seconds": "Seconds on hold before voicemail (30–300)",
            "ring_timeout_seconds": "Seconds each volunteer phone rings",
            "require_press_to_accept": "Volunteers press 1 to accept (stops voicemail boxes taking calls)",
            "voicemail_max_seconds": "Longest voicemail (seconds)",
            "record_calls": "Record answered calls",
            "rate_limit_enabled": "Limit repeated calls from one number",
            "rate_limit_calls": "Calls allowed per window",
            "rate_limit_window_seconds": "Window (seconds)",
            "rate_limit_block_seconds": "Block after the limit (seconds; 0 = none)",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        menu = {entry["language"]: entry for entry in (self.instance.language_menu or [])}
        for position, language in enumerate(prompts.LANGUAGES):
            entry = menu.get(language, {})
            self.fields[f"lang_{language}_digit"] = forms.ChoiceField(
                choices=DIGITS,
                required=False,
                initial=entry.get("digit", ""),
                label=f"{prompts.language_name(language)}: menu digit (empty = not offered)",
            )
            self.fields[f"lang_{language}_order"] = forms.IntegerField(
                min_value=1,
                max_value=len(prompts.LANGUAGES),
                initial=list(menu).index(language) + 1 if language in menu else position + 1,
                label=f"{prompts.language_name(language)}: position in the menu",
            )

    GROUPS = [
        ("Languages", "lang_"),
        ("Caller check", "captcha_"),
        ("Hold and ringing", ("queue_timeout_seconds", "ring_timeout_seconds", "require_press_to_accept")),
        ("Voicemail and recording", ("voicemail_max_seconds", "record_calls")),
        ("Repeated calls", "rate_limit_"),
    ]

    def groups(self) -> list[tuple[str, list]]:
        """Fields in labelled groups for the page, in the order callers meet them."""
        result = []
        for legend, match in self.GROUPS:
            names = [
                name
                for name in self.fields
                if (name.startswith(match) if isinstance(match, str) else name in match)
            ]
            result.append((legend, [self[name] for name in names]))
        return result

    def clean(self):
        cleaned = super().clean()
        chosen = [
            (cleaned.get(f"lang_{language}_order") or 99, language, cleaned.get(f"lang_{language}_digit"))
            for language in prompts.LANGUAGES
            if cleaned.get(f"lang_{language}_digit")
        ]
        digits = [digit for _, _, digit in chosen]
        if len(set(digits)) != len(digits):
            raise ValidationError("Two languages cannot share a menu digit.")
        cleaned["language_menu"] = [
            {"language": language, "digit": digit} for _, language, digit in sorted(chosen)
        ]
        return cleaned

    def save(self, commit: bool = True) -> CallFlowSettings:
        self.instance.language_menu = self.cleaned_data["language_menu"]
        return super().save(commit=commit)


class PromptRecordingForm(forms.Form):
    prompt = forms.ChoiceField(choices=[(key, key.replace("_", " ")) for key in prompts.RECORDABLE_PROMPTS])
    language = forms.ChoiceField(choices=[(code, prompts.language_name(code)) for code in prompts.LANGUAGES])
    audio = forms.FileField(help_text="WAV or MP3, at most 5 MB.")

    def clean_audio(self):
        upload = self.cleaned_data["audio"]
        if upload.size > MAX_PROMPT_BYTES:
            raise ValidationError("The file is larger than 5 MB.")
        extension = upload.name.rsplit(".", 1)[-1].lower() if "." in upload.name else ""
        head = upload.read(12)
        upload.seek(0)
        is_wav = head[:4] == b"RIFF" and head[8:12] == b"WAVE"
        is_mp3 = head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)
        if (extension, is_wav, is_mp3) not in (("wav", True, False), ("mp3", False, True)):
            raise ValidationError("Upload a WAV or MP3 audio file.")
        upload.detected_type = AUDIO_TYPES[extension]
        return upload
