"""Provider webhooks of the caller's call, and the audio providers fetch:
verify -> parse -> service -> flow -> render. The volunteers' legs are in legs.py.

Every view answers fast and never waits on outbound HTTP: ringing, cancelling and transfers are
Celery tasks queued once the transaction commits.
Unknown ids get a polite spoken goodbye, never a 500.
"""

from __future__ import annotations

import logging
import secrets
from functools import wraps

from django.http import FileResponse, Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from llamenos.access import public
from llamenos.audit import audit_record
from llamenos.crypto import number_hash
from llamenos.selectors import hotline_settings_get

from .. import flow
from ..call_flow import call_flow_settings_get as call_flow_settings
from ..calls import (
    CallIdTaken,
    call_bridged,
    call_finish,
    call_move,
    call_recording_save,
    call_start,
    call_voicemail_save,
    captcha_failure_count,
)
from ..holdmusic import hold_music_wav
from ..instructions import Script
from ..languages import caller_language, language_menu
from ..models import (
    LEG_FINAL_STATES,
    LEG_LIVE_STATES,
    WAITING_STATES,
    Call,
    CallFlowSettings,
    CallState,
    PromptRecording,
)
from ..providers import Provider
from ..ratelimit import RateLimitUnavailable, caller_rate_allowed
from ..ringing import CallerScreen, anyone_to_ring, caller_screen
from ..tasks import (
    call_legs_cancel,
    call_reopen_if_winner_left,
    call_ring,
    call_to_voicemail_task,
    queue_after_commit,
)
from .parsing import webhook_event
from .verification import verified_webhook

logger = logging.getLogger(__name__)
ENDED_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})


def _empty_ok() -> HttpResponse:
    # Status callbacks and notifications only need a 2xx; the provider ignores the body.
    return HttpResponse(status=204)


def call_step(view):
    """A verified step URL of one call: load it (for this account) or end the call politely."""

    @wraps(view)
    def inner(request, provider: Provider, call_id: int):
        call = Call.objects.filter(pk=call_id, provider_account=provider.account).first()
        if call is None:
            return provider.render(flow.unknown_call())
        return view(request, provider, call)

    return verified_webhook(inner)


# --- the caller's side ----------------------------------------------------------------------


@verified_webhook
def incoming(request, provider: Provider):
    """A new call. Everything known before the first word (banned? over the rate limit? anyone
    to ring?) is decided first, so the call is written once, already in the state it starts in."""
    event = webhook_event(request, provider)
    if not event.call_id:
        return provider.render(flow.unknown_call())
    settings_row = call_flow_settings()
    menu = language_menu(settings_row.language_menu)
    # With no menu to ask from, the caller's language is known now and is stored with the call.
    known_language = "" if len(menu) > 1 else _language(settings_row, event.from_number, "")
    caller_hash = number_hash(event.from_number) if event.from_number else ""
    now = timezone.now()
    screen = caller_screen(caller_hash=caller_hash, at=now)
    allowed, counted = True, True
    if caller_hash and settings_row.rate_limit_enabled and not screen.banned:
        allowed, counted = _rate_allowed(caller_hash, event.call_id, settings_row)
    captcha_digits = _captcha_digits(settings_row) if settings_row.captcha_enabled and len(menu) <= 1 else ""
    state, start_event, fields = _start_state(
        screen=screen, allowed=allowed, asks_first=len(menu) > 1 or bool(captcha_digits), now=now
    )
    if captcha_digits:
        fields["captcha_expected"] = captcha_digits
    try:
        call, created = call_start(
            account=provider.account,
            provider_call_id=event.call_id,
            caller_e164=event.from_number,
            language=known_language,
            state=state,
            event=start_event,
            fields=fields,
            notes=() if counted else ("ratelimit.unavailable",),
        )
    except CallIdTaken:
        logger.warning("incoming: provider call %s belongs to another account", event.call_id)
        return provider.render(flow.unknown_call())
    if not created:  # a repeated webhook: carry on from where the call is
        if call.state != CallState.IVR:
            return provider.render(_resume(call))
        if len(menu) > 1:
            return provider.render(flow.language_menu(call=call, menu=menu))
        return provider.render(_after_language(call, settings_row, known_language))
    if call.state == CallState.REJECTED:
        return provider.render(flow.banned())
    if call.state == CallState.RATE_LIMITED:
        language = known_language or _language(settings_row, event.from_number, "")
        return provider.render(flow.rate_limited(language=language))
    if len(menu) > 1:
        return provider.render(flow.language_menu(call=call, menu=menu))
    if captcha_digits:
        return provider.render(flow.captcha(call=call, digits=captcha_digits, greet=True))
    if call.state == CallState.VOICEMAIL:
        return provider.render(flow.voicemail(call=call, flow=settings_row, greet=True))
    queue_after_commit(call_ring, call.pk)
    return provider.render(flow.hold(call=call, greet=True))


def _start_state(*, screen: CallerScreen, allowed: bool, asks_first: bool, now) -> tuple[str, str, dict]:
    """Where a new call starts, the event that puts it there, and the fields it starts with."""
    if screen.banned:
        return CallState.REJECTED, "call.banned", {}
    if not allowed:
        return CallState.RATE_LIMITED, "call.rate_limited", {}
    if asks_first:  # a language menu or a CAPTCHA comes before anything else
        return CallState.IVR, "", {}
    if not screen.anyone_to_ring:
        return CallState.VOICEMAIL, "call.nobody_available", {}
    return CallState.QUEUED, "call.queued", {"queued_at": now}


def _rate_allowed(caller_hash: str, call_id: str, settings_row: CallFlowSettings) -> tuple[bool, bool]:
    """(may the call go on, was it counted). A crisis line lets the call through when it cannot
    count; the call's history says so."""
    try:
        allowed = caller_rate_allowed(
            caller_hash=caller_hash,
            call_id=call_id,
            limit=settings_row.rate_limit_calls,
            window_seconds=settings_row.rate_limit_window_seconds,
            block_seconds=settings_row.rate_limit_block_seconds,
        )
    except RateLimitUnavailable:
        logger.error("provider call %s: rate limit store unavailable, call allowed", call_id)
        return True, False
    return allowed, True


def _language(settings_row: CallFlowSettings, caller_e164: str, digits: str) -> str:
    return caller_language(
        digits=digits,
        caller_e164=caller_e164,
        menu=language_menu(settings_row.language_menu),
        default=hotline_settings_get().default_language,
    )


def _resume(call: Call) -> Script:
    """A repeated webhook for a call that already moved on: say nothing new."""
    if call.state in WAITING_STATES:
        return flow.hold(call=call, greet=False)
    return flow.goodbye()


def _after_language(call: Call, settings_row: CallFlowSettings, language: str) -> Script:
    if call.language != language:
        Call.objects.filter(pk=call.pk).update(language=language)
        call.language = language
    if settings_row.captcha_enabled:
        return _new_captcha(call, settings_row, greet=True)
    return _enter_hold(call, settings_row, greet=True)


def _captcha_digits(settings_row: CallFlowSettings) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(settings_row.captcha_digits))


def _new_captcha(call: Call, settings_row: CallFlowSettings, *, greet: bool, retry: bool = False) -> Script:
    digits = _captcha_digits(settings_row)
    Call.objects.filter(pk=call.pk).update(captcha_expected=digits)
    return flow.captcha(call=call, digits=digits, greet=greet, retry=retry)


def _enter_hold(call: Call, settings_row: CallFlowSettings, *, greet: bool) -> Script:
    if not anyone_to_ring(at=timezone.now()):
        call_move(call=call, event="call.nobody_available")
        return flow.voicemail(call=call, flow=settings_row, greet=greet)
    if not call_move(call=call, event="call.queued", fields={"queued_at": timezone.now()}):
        return _resume(call)
    queue_after_commit(call_ring, call.pk)
    return flow.hold(call=call, greet=greet)


@call_step
def language(request, provider: Provider, call: Call):
    if call.state != CallState.IVR:
        return provider.render(_resume(call))
    event = webhook_event(request, provider)
    settings_row = call_flow_settings()
    return provider.render(
        _after_language(call, settings_row, _language(settings_row, event.from_number, event.digits))
    )


def _captcha_matches(digits: str, expected: str) -> bool:
    # Only ASCII digits can match, and secrets.compare_digest needs ASCII on both sides.
    return bool(digits) and digits.isascii() and digits.isdigit() and secrets.compare_digest(digits, expected)


@call_step
def captcha(request, provider: Provider, call: Call):
    if call.state != CallState.IVR or not call.captcha_expected:
        return provider.render(_resume(call))
    event = webhook_event(request, provider)
    settings_row = call_flow_settings()
    if _captcha_matches(event.digits, call.captcha_expected):
        Call.objects.filter(pk=call.pk).update(captcha_expected="")
        return provider.render(_enter_hold(call, settings_row, greet=False))
    if captcha_failure_count(call=call) >= settings_row.captcha_attempts:
        call_move(call=call, event="captcha.failed")
        return provider.render(flow.captcha_failed(call=call))
    return provider.render(_new_captcha(call, settings_row, greet=False, retry=True))


@call_step
def wait(request, provider: Provider, call: Call):
    """The hold's wait URL; the provider fetches it again each time the music ends."""
    if call.state == CallState.ANSWERED and call.bridged_at is None:
        # Still on hold although someone took the call: fine while the bridge is being made,
        # not once the winner's leg has ended (a lost or reordered callback).
        winner = call.legs.filter(volunteer_id=call.answered_by_id, state__in=LEG_FINAL_STATES).first()
        if winner is not None:
            call_reopen_if_winner_left(call, winner)
    if call.state in WAITING_STATES and call.queued_at:
        reported = webhook_event(request, provider).queue_time_seconds or 0
        waited = max(reported, (timezone.now() - call.queued_at).total_seconds())
        if waited >= call_flow_settings().queue_timeout_seconds:
            queue_after_commit(call_to_voicemail_task, call.pk)
            return provider.render(flow.hold_over())
    if call.state == CallState.VOICEMAIL:
        return provider.render(flow.hold_over())
    return provider.render(flow.hold_music(call=call))


@call_step
def hold_exit(request, provider: Provider, call: Call):
    """The caller left the hold (bridge over, hung up, moved, an error) or a hold notification."""
    result = webhook_event(request, provider).hold_result
    if result == "notification":
        return _empty_ok()
    if result == "error" and call.state in WAITING_STATES:
        # The provider could not keep the caller on hold: take a message rather than drop them.
        call_move(call=call, event="call.hold_failed")
        queue_after_commit(call_legs_cancel, call.pk)
    if call.state == CallState.VOICEMAIL and not call.voicemail_url:
        return provider.render(flow.voicemail(call=call, flow=call_flow_settings()))
    if call.state in WAITING_STATES:
        if result == "hangup":
            return _empty_ok()  # the status callback ends the call
        # Out of the hold but still waiting (a bridge that fell through as its winner left):
        # back on hold, never dropped.
        return provider.render(flow.hold(call=call, greet=False))
    return provider.render(flow.goodbye())


@call_step
def voicemail(request, provider: Provider, call: Call):
    if call.state in WAITING_STATES:
        call_move(call=call, event="call.to_voicemail")
    if call.state != CallState.VOICEMAIL or call.voicemail_url:
        return provider.render(flow.goodbye())
    return provider.render(flow.voicemail(call=call, flow=call_flow_settings()))


@call_step
def voicemail_saved(request, provider: Provider, call: Call):
    event = webhook_event(request, provider)
    saved = call_voicemail_save(
        call=call, recording_url=event.recording_url, duration_seconds=event.recording_duration_seconds
    )
    return provider.render(flow.voicemail_done(call=call, saved=saved))


@call_step
def bridged(request, provider: Provider, call: Call):
    """The carrier is connecting the caller and the volunteer who took the call (Twilio runs
    this on the caller just before the bridge; Plivo notifies the volunteer's conference)."""
    call_bridged(call=call)
    return provider.render(Script.of())


@call_step
def recording(request, provider: Provider, call: Call):
    call_recording_save(call=call, recording_url=webhook_event(request, provider).recording_url)
    return _empty_ok()


@verified_webhook
def status(request, provider: Provider):
    """The caller's call changed state (Twilio status callback, Plivo hangup URL)."""
    event = webhook_event(request, provider)
    if not event.call_id or event.call_status not in ENDED_STATUSES:
        return _empty_ok()
    call = Call.objects.filter(
        provider=provider.name, provider_account=provider.account, provider_call_id=event.call_id
    ).first()
    if call is None:
        # The caller hung up while their first webhook was still being answered (the two crossed
        # on the way): the call is written ended, and that first webhook finds it so.
        try:
            call, created = call_start(
                account=provider.account,
                provider_call_id=event.call_id,
                caller_e164=event.from_number,
                state=CallState.MISSED,
                event="call.caller_hung_up",
                fields={"ended_at": timezone.now(), "duration_seconds": event.duration_seconds},
            )
        except CallIdTaken:  # another account's call: not this account's to end
            return _empty_ok()
        if created:
            return _empty_ok()
    call_finish(call=call, duration_seconds=event.duration_seconds)
    if call.legs.filter(state__in=LEG_LIVE_STATES).exists():
        queue_after_commit(call_legs_cancel, call.pk)
    return _empty_ok()


@verified_webhook
def webrtc_incoming(request, provider: Provider):
    """A call started from a browser softphone (Twilio TwiML App). Volunteers only take calls in
    the browser; calling out is not offered, so it is refused out loud rather than left silent."""
    audit_record(event="call.browser_outbound_refused", target=provider.account.label)
    return provider.render(flow.browser_call_refused())


@verified_webhook
def sms_incoming(request, provider: Provider):
    """An inbound text. Texting is not part of the hotline yet: acknowledge it so the carrier does
    not retry, and leave a trace (message id only, never the number or the text)."""
    message_id = webhook_event(request, provider).message_id
    logger.warning("inbound SMS %s not handled: texting is not enabled", message_id)
    audit_record(event="sms.received_unhandled", target=f"message {message_id[:64]}")
    return provider.render(Script.of())


# --- audio the providers fetch ----------------------------------------------------------------


@public("providers fetch hold music without credentials; it is the project's own audio")
@require_GET
@cache_control(public=True, max_age=86400)
def hold_music(request):
    return HttpResponse(hold_music_wav(), content_type="audio/wav")


@public("providers fetch prompt recordings without credentials; the URL is an unguessable UUID")
@require_GET
def prompt_audio(request, public_id):
    recording = PromptRecording.objects.filter(public_id=public_id).first()
    if recording is None:
        raise Http404("No such recording.")
    return FileResponse(recording.audio.open("rb"), content_type=recording.content_type)
