"""Telephony's models: provider accounts, calls with their legs and history, bans, the call-flow
settings and prompt recordings."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Now
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField
from solo.models import SingletonModel

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


class CallState(models.TextChoices):
    IVR = "ivr", "In the menu"
    QUEUED = "queued", "Waiting"
    RINGING = "ringing", "Ringing volunteers"
    ANSWERED = "answered", "Answered"
    VOICEMAIL = "voicemail", "Voicemail"
    COMPLETED = "completed", "Completed"
    MISSED = "missed", "Missed"
    REJECTED = "rejected", "Rejected"
    RATE_LIMITED = "rate_limited", "Rate limited"
    FAILED = "failed", "Failed"


WAITING_STATES = frozenset({CallState.QUEUED, CallState.RINGING})
_IVR_OR_WAITING = (CallState.IVR, *WAITING_STATES)


def _from(sources, target: str) -> dict[str, str]:
    return dict.fromkeys(sources, target)


# Every move a call can make, once: for each event, {state it leaves: state it reaches}. A call
# in a state its event does not list stays where it is (a late, repeated or out-of-order
# callback), so a call never moves backwards. calls.call_move and calls.call_finish read this.
CALL_MOVES: dict[str, dict[str, str]] = {
    "call.queued": _from([CallState.IVR], CallState.QUEUED),
    "call.ringing": _from([CallState.QUEUED], CallState.RINGING),
    "call.claimed": _from(WAITING_STATES, CallState.ANSWERED),
    # The winner hung up before the carrier bridged them: the caller is still on hold.
    "call.winner_left": _from([CallState.ANSWERED], CallState.RINGING),
    "call.nobody_available": _from(_IVR_OR_WAITING, CallState.VOICEMAIL),
    "call.to_voicemail": _from(_IVR_OR_WAITING, CallState.VOICEMAIL),
    "call.hold_failed": _from(WAITING_STATES, CallState.VOICEMAIL),
    "call.banned": _from([CallState.IVR], CallState.REJECTED),
    "captcha.failed": _from([CallState.IVR], CallState.REJECTED),
    "call.rate_limited": _from([CallState.IVR], CallState.RATE_LIMITED),
    # The caller hung up (their status callback), by where the call had got to. A voicemail
    # with its message in stays voicemail; without one it is missed until a late recording.
    "call.completed": _from([CallState.ANSWERED], CallState.COMPLETED),
    "call.caller_hung_up": _from([*_IVR_OR_WAITING, CallState.VOICEMAIL], CallState.MISSED),
    # The sweep learnt from the carrier that the caller is gone and no callback said so.
    "sweep.caller_gone": {
        **_from([*_IVR_OR_WAITING, CallState.VOICEMAIL], CallState.MISSED),
        CallState.ANSWERED: CallState.COMPLETED,
    },
    "voicemail.arrived_late": _from([CallState.MISSED], CallState.VOICEMAIL),
}


class Call(models.Model):
    """One inbound call. The caller's number is never stored: only its HMAC and last 4 digits."""

    provider_account = models.ForeignKey(
        "telephony.ProviderAccount", null=True, on_delete=models.SET_NULL, related_name="calls"
    )
    provider = models.CharField(max_length=16)
    provider_call_id = models.CharField(max_length=64)
    caller_hash = models.CharField(max_length=64, db_index=True)
    caller_last4 = models.CharField(max_length=4, blank=True)
    state = models.CharField(max_length=16, choices=CallState.choices, default=CallState.IVR, db_index=True)
    language = models.CharField(max_length=8, blank=True)
    # The CAPTCHA digits live here, server-side, never in a URL.
    captcha_expected = models.CharField(max_length=12, blank=True)
    captcha_failures = models.PositiveSmallIntegerField(default=0)
    answered_by = models.ForeignKey(
        "volunteers.Volunteer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="answered_calls",
    )
    started_at = models.DateTimeField(db_default=Now(), db_index=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    # When the carrier connected the caller and the volunteer who took the call.
    bridged_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # Total length as the provider reports it, and the time spent talking to a volunteer.
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    talk_seconds = models.PositiveIntegerField(null=True, blank=True)
    voicemail_url = models.URLField(max_length=500, blank=True)
    voicemail_duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    recording_url = models.URLField(max_length=500, blank=True)
    # Claimed by the one task that moves the caller to voicemail, so a repeat never cuts a
    # message short by transferring the caller again.
    voicemail_transfer_at = models.DateTimeField(null=True, blank=True)
    # Rounds of ringing queued after the first (ringing.py: the caller's language first, then the rest).
    ring_rounds = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "provider_call_id"], name="call_unique_provider_id")
        ]

    def __str__(self) -> str:
        return f"call {self.pk} ({self.state})"

    @property
    def room(self) -> str:
        """Queue (Twilio) or conference (Plivo) name where the caller waits and is bridged."""
        return f"llamenos-call-{self.pk}"


class LegState(models.TextChoices):
    PENDING = "pending", "Starting"
    REQUESTED = "requested", "Requested"
    RINGING = "ringing", "Ringing"
    ANSWERED = "answered", "Answered, deciding"
    ACCEPTED = "accepted", "Took the call"
    TAKEN_ELSEWHERE = "taken", "Answered after someone else"
    DECLINED = "declined", "Declined"
    MACHINE = "machine", "Answering machine"
    NO_ANSWER = "no_answer", "No answer"
    BUSY = "busy", "Busy"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Cancelled"
    COMPLETED = "completed", "Completed"


LEG_FINAL_STATES = frozenset(
    {
        LegState.TAKEN_ELSEWHERE,
        LegState.DECLINED,
        LegState.MACHINE,
        LegState.NO_ANSWER,
        LegState.BUSY,
        LegState.FAILED,
        LegState.CANCELED,
        LegState.COMPLETED,
    }
)
LEG_LIVE_STATES = frozenset({LegState.PENDING, LegState.REQUESTED, LegState.RINGING, LegState.ANSWERED})
# Legs that ended because of the hotline, not their volunteer: cancelled, or told the call was
# taken. Their volunteers may be rung again for the same call if it waits again.
LEG_INTERRUPTED_STATES = frozenset({LegState.CANCELED, LegState.TAKEN_ELSEWHERE})
# A leg can take the call only while its volunteer has picked up and is hearing the offer: not
# once it ended, was cancelled or was told the call was taken.
CLAIMING_LEG_STATES = frozenset({LegState.ANSWERED})
# Where each leg state may be reached from (the event is the state it reaches). Legs move
# forward only, like calls: a late "ringing" never undoes "answered", an ended leg never claims.
LEG_TRANSITIONS: dict[str, frozenset[str]] = {
    LegState.ACCEPTED: CLAIMING_LEG_STATES,
    LegState.REQUESTED: frozenset({LegState.PENDING}),
    LegState.RINGING: frozenset({LegState.PENDING, LegState.REQUESTED}),
    LegState.ANSWERED: frozenset({LegState.PENDING, LegState.REQUESTED, LegState.RINGING}),
    LegState.COMPLETED: LEG_LIVE_STATES | {LegState.ACCEPTED},
    **{state: LEG_LIVE_STATES for state in LEG_FINAL_STATES if state != LegState.COMPLETED},
}


class CallLeg(models.Model):
    """One attempt to reach one volunteer for one call (an outbound phone leg)."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="legs")
    volunteer = models.ForeignKey(
        "volunteers.Volunteer", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The id the leg's webhooks carry, and the one start_leg returned (they differ on Plivo:
    # CallUUID vs request_uuid; hanging up takes the first, cancelling a ringing leg the second).
    provider_call_id = models.CharField(max_length=64, blank=True, db_index=True)
    provider_request_id = models.CharField(max_length=64, blank=True)
    state = models.CharField(max_length=16, choices=LegState.choices, default=LegState.PENDING)
    # The call's round of ringing that placed it (Call.ring_rounds then): a volunteer whose leg
    # a claim interrupted is rung again, in a later round, if that winner left unbridged.
    ring_round = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(db_default=Now())
    requested_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["call", "volunteer", "ring_round"], name="leg_one_per_volunteer_and_round"
            )
        ]

    def __str__(self) -> str:
        return f"leg {self.pk} of call {self.call_id} ({self.state})"


class CallEvent(models.Model):
    """A call's history: every state change and milestone, in order. No numbers in ``details``."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="events")
    leg = models.ForeignKey(CallLeg, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    name = models.CharField(max_length=48)
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        # Insertion order: created_at is the transaction's start time, so ties and overlaps exist.
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} on call {self.call_id}"


class Ban(models.Model):
    """A number that is rejected before anything is spoken. Matched on the HMAC only."""

    number_hash = models.CharField(max_length=64, unique=True)
    number_last4 = models.CharField(max_length=4)
    reason = models.CharField(max_length=200)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"ban …{self.number_last4}"

    @property
    def expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()


def _bounded(low: int, high: int) -> list:
    return [MinValueValidator(low), MaxValueValidator(high)]


class CallFlowSettings(SingletonModel):
    """The one row of call-flow knobs; every range is enforced by the validators below."""

    # Ordered menu: [{"language": "es", "digit": "1"}, ...]; one entry means no menu.
    language_menu = models.JSONField(default=list, blank=True)
    captcha_enabled = models.BooleanField(default=False)
    captcha_digits = models.PositiveSmallIntegerField(default=4, validators=_bounded(3, 8))
    captcha_attempts = models.PositiveSmallIntegerField(default=2, validators=_bounded(1, 5))
    queue_timeout_seconds = models.PositiveIntegerField(default=90, validators=_bounded(30, 300))
    ring_timeout_seconds = models.PositiveIntegerField(default=30, validators=_bounded(10, 120))
    voicemail_max_seconds = models.PositiveIntegerField(default=120, validators=_bounded(10, 600))
    record_calls = models.BooleanField(default=False)
    require_press_to_accept = models.BooleanField(default=True)
    rate_limit_enabled = models.BooleanField(default=True)
    rate_limit_calls = models.PositiveIntegerField(default=3, validators=_bounded(1, 100))
    rate_limit_window_seconds = models.PositiveIntegerField(default=60, validators=_bounded(10, 86400))
    rate_limit_block_seconds = models.PositiveIntegerField(default=1800, validators=_bounded(0, 604800))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "call flow settings"
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="call_flow_settings_singleton")]

    def __str__(self) -> str:
        return "call flow settings"


def prompt_upload_path(instance: PromptRecording, filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower()
    return f"prompts/{instance.public_id}.{extension}"


class PromptRecording(models.Model):
    """An admin-recorded prompt that replaces text-to-speech for one prompt in one language."""

    prompt = models.CharField(max_length=32)
    language = models.CharField(max_length=8)
    audio = models.FileField(upload_to=prompt_upload_path)
    content_type = models.CharField(max_length=32)
    # Providers fetch the audio without credentials, so its URL must be unguessable.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(db_default=Now())

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["prompt", "language"], name="one_recording_per_prompt")
        ]

    def __str__(self) -> str:
        return f"{self.prompt} ({self.language})"
