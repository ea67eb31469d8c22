from __future__ import annotations

from django.db import models
from phonenumber_field.modelfields import PhoneNumberField

from llamenos.crypto import EncryptedTextField


class ProviderName(models.TextChoices):
    """The registry keys in telephony.providers.PROVIDERS (a test keeps the two in step)."""

    TWILIO = "twilio", "Twilio"
    PLIVO = "plivo", "Plivo"


class ProviderAccount(models.Model):
    """One carrier account and the hotline number it answers.

    Several can be enabled at once (for example a Twilio and a Plivo number). Secrets are stored
    encrypted and are never shown again once saved; ``account_id`` is the Twilio Account SID or the
    Plivo Auth ID, which is not secret but is only shown shortened.
    """

    provider = models.CharField(max_length=16, choices=ProviderName.choices)
    label = models.CharField(max_length=80)
    enabled = models.BooleanField(default=True)
    hotline_number = PhoneNumberField(unique=True, help_text="The number callers dial, in E.164 form.")
    account_id = models.CharField(max_length=64)
    auth_token = EncryptedTextField(blank=True)
    # Browser softphone (WebRTC). Twilio: API key + TwiML App; Plivo: an Application whose
    # endpoints the browser SDK logs in as (tokens are minted by Plivo's REST API).
    api_key_sid = models.CharField(max_length=64, blank=True)
    api_key_secret = EncryptedTextField(blank=True)
    twiml_app_sid = models.CharField(max_length=64, blank=True)
    plivo_app_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # One carrier account may own several numbers, so only the number is unique.
        ordering = ["provider", "label", "id"]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} · {self.label}"

    @property
    def account_id_short(self) -> str:
        """Enough of the id to recognise it in the provider console, not the whole thing."""
        if len(self.account_id) <= 8:
            return self.account_id
        return f"{self.account_id[:4]}…{self.account_id[-4:]}"

    @property
    def has_auth_token(self) -> bool:
        return bool(self.auth_token)

    @property
    def has_api_key_secret(self) -> bool:
        return bool(self.api_key_secret)


# The call flow's models live in their own module to keep this one small.
from .call_models import (  # noqa: E402
    Ban,
    Call,
    CallEvent,
    CallFlowSettings,
    CallLeg,
    PromptRecording,
)

__all__ = ["Ban", "Call", "CallEvent", "CallFlowSettings", "CallLeg", "PromptRecording", "ProviderAccount"]
