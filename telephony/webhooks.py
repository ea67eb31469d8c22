"""Provider webhooks: verify -> parse -> service -> flow -> render.

Every view answers fast and never waits on outbound HTTP: ringing, cancelling and transfers are
Celery tasks queued after commit. Unknown ids get a polite spoken goodbye, never a 500.
"""

from __future__ import annotations

import hmac
import logging
import secrets

from django.http import FileResponse, Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from llamenos.access import public
from llamenos.selectors import hotline_settings_get

from . import flow
from .bans import caller_banned
from .call_models import (
    LEG_LIVE_STATES,
    WAITING_STATES,
    Call,
    CallFlowSettings,
    CallLeg,
    CallState,
    LegState,
    PromptRecording,
)
from .calls import (
    call_claim,
    call_finish,
    call_recording_save,
    call_start,
    call_transition,
    call_voicemail_save,
    captcha_failure_count,
    leg_set_state,
)
from .flow_settings import call_flow_settings_get as call_flow_settings
from .holdmusic import hold_music_wav
from .instructions import Script
from .languages import caller_language, language_menu
from .providers import Provider
from .ratelimit import caller_rate_allowed
from .ringing import anyone_to_ring
from .tasks import (
    call_legs_cancel,
    call_ring,
    call_to_voicemail_task,
    queue_after_commit,
    queue_timeout_schedule,
)
from .verification import verified_webhook

logger = logging.getLogger(__name__)
ENDED_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
LEG_END_STATES = {
    "completed": LegState.COMPLETED,
    "busy": LegState.BUSY,
    "no-answer": LegState.NO_ANSWER,
    "failed": LegState.FAILED,
    "canceled": LegState.CANCELED,
}


def _empty_ok() -> HttpResponse:
    # Status callbacks only need a 2xx; the provider ignores the body.
    return HttpResponse(status=204)


def _call_or_none(provider: Provider, call_id: int) -> Call | None:
    return Call.objects.filter(pk=call_id, provider_account=provider.account).first()


# --- the caller's side ----------------------------------------------------------------------


@verified_webhook
def incoming(request, provider: Provider):
    event = provider.parse(request)
    call, created = call_start(
        account=provider.account, provider_call_id=event.call_id, caller_e164=event.from_number
    )
    if not created and call.state != CallState.IVR:
        return provider.render(_resume(call))
    settings_row = call_flow_settings()
    if call.caller_hash and caller_banned(caller_hash=call.caller_hash):
        call_transition(call=call, to_state=CallState.REJECTED, event="call.banned")
        return provider.render(flow.banned())
    if settings_row.rate_limit_enabled and call.caller_hash and created:
        allowed = caller_rate_allowed(
            caller_hash=call.caller_hash,
            limit=settings_row.rate_limit_calls,
            window_seconds=settings_row.rate_limit_window_seconds,
            block_seconds=settings_row.rate_limit_block_seconds,
        )
        if not allowed:
            call_transition(call=call, to_state=CallState.RATE_LIMITED, event="call.rate_limited")
            language = _language(call, settings_row, event.from_number, digits="")
            return provider.render(flow.rate_limited(language=language))
    menu = language_menu(settings_row.language_menu)
    if len(menu) > 1:
        return provider.render(flow.language_menu(call=call, menu=menu))
    return provider.render(
        _after_language(call, settings_row, _language(call, settings_row, event.from_number, ""))
    )


def _language(call: Call, settings_row: CallFlowSettings, caller_e164: str, digits: str) -> str:
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
    Call.objects.filter(pk=call.pk).update(language=language)
    call.language = language
    if settings_row.captcha_enabled:
        return _new_captcha(call, settings_row, greet=True)
    return _enter_hold(call, settings_row, greet=True)


def _new_captcha(call: Call, settings_row: CallFlowSettings, *, greet: bool, retry: bool = False) -> Script:
    digits = "".join(secrets.choice("0123456789") for _ in range(settings_row.captcha_digits))
    Call.objects.filter(pk=call.pk).update(captcha_expected=digits)
    return flow.captcha(call=call, digits=digits, greet=greet, retry=retry)


def _enter_hold(call: Call, settings_row: CallFlowSettings, *, greet: bool) -> Script:
    if not anyone_to_ring():
        call_transition(call=call, to_state=CallState.VOICEMAIL, event="call.nobody_available")
        return flow.voicemail(call=call, flow=settings_row, greet=greet)
    if not call_transition(
        call=call, to_state=CallState.QUEUED, event="call.queued", fields={"queued_at": timezone.now()}
    ):
        return _resume(call)
    queue_after_commit(call_ring, call.pk)
    queue_timeout_schedule(call_id=call.pk, after_seconds=settings_row.queue_timeout_seconds)
    return flow.hold(call=call, greet=greet)


@verified_webhook
def language(request, provider: Provider, call_id: int):
    call = _call_or_none(provider, call_id)
    if call is None:
        return provider.render(flow.unknown_call())
    if call.state != CallState.IVR:
        return provider.render(_resume(call))
    event = provider.parse(request)
    settings_row = call_flow_settings()
    chosen = _language(call, settings_row, event.from_number, event.digits)
    return provider.render(_after_language(call, settings_row, chosen))


@verified_webhook
def captcha(request, provider: Provider, call_id: int):
    call = _call_or_none(provider, call_id)
    if call is None:
        return provider.render(flow.unknown_call())
    if call.state != CallState.IVR or not call.captcha_expected:
        return provider.render(_resume(call))
    event = provider.parse(request)
    settings_row = call_flow_settings()
    if event.digits and hmac.compare_digest(event.digits, call.captcha_expected):
        Call.objects.filter(pk=call.pk).update(captcha_expected="")
        return provider.render(_enter_hold(call, settings_row, greet=False))
    if captcha_failure_count(call=call) >= settings_row.captcha_attempts:
        call_transition(call=call, to_state=CallState.REJECTED, event="captcha.failed")
        return provider.render(flow.captcha_failed(call=call))
    return provider.render(_new_captcha(call, settings_row, greet=False, retry=True))


@verified_webhook
def wait(request, provider: Provider, call_id: int):
    """The hold's wait URL; the provider fetches it again each time the music ends."""
    call = _call_or_none(provider, call_id)
    if call is None:
        return provider.render(flow.unknown_call())
    if call.state in WAITING_STATES and call.queued_at:
        reported = provider.parse(request).queue_time_seconds or 0
        waited = max(reported, (timezone.now() - call.queued_at).total_seconds())
        if waited >= call_flow_settings().queue_timeout_seconds:
            queue_after_commit(call_to_voicemail_task, call.pk)
            return provider.render(flow.hold_over())
    if call.state == CallState.VOICEMAIL:
        return provider.render(flow.hold_over())
    return provider.render(flow.hold_music(call=call))


@verified_webhook
def hold_exit(request, provider: Provider, call_id: int):
    """The caller left the hold (bridge over, hung up) or the provider reports a hold event."""
    call = _call_or_none(provider, call_id)
    if call is None:
        return provider.render(flow.unknown_call())
    if call.state == CallState.VOICEMAIL and not call.voicemail_url:
        return provider.render(flow.voicemail(call=call, flow=call_flow_settings()))
    if call.state in WAITING_STATES:
        return _empty_ok()  # an "entered the hold" notification, or the caller hung up (status says)
    return provider.render(flow.goodbye())


@verified_webhook
def voicemail(request, provider: Provider, call_id: int):
    call = _call_or_none(provider, call_id)
    if call is None:
        return provider.render(flow.unknown_call())
    if call.state in WAITING_STATES:
        call_transition(call=call, to_state=CallState.VOICEMAIL, event="call.to_voicemail")
    if call.state != CallState.VOICEMAIL or call.voicemail_url:
        return provider.render(flow.goodbye())
    return provider.render(flow.voicemail(call=call, flow=call_flow_settings()))


@verified_webhook
def voicemail_saved(request, provider: Provider, call_id: int):
    call = _call_or_none(provider, call_id)
    if call is None:
        return provider.render(flow.unknown_call())
    event = provider.parse(request)
    saved = call_voicemail_save(
        call=call, recording_url=event.recording_url, duration_seconds=event.recording_duration_seconds
    )
    return provider.render(flow.voicemail_done(call=call, saved=saved))


@verified_webhook
def recording(request, provider: Provider, call_id: int):
    call = _call_or_none(provider, call_id)
    if call is not None:
        call_recording_save(call=call, recording_url=provider.parse(request).recording_url)
    return _empty_ok()


@verified_webhook
def status(request, provider: Provider):
    """The caller's call changed state (Twilio status callback, Plivo hangup URL)."""
    event = provider.parse(request)
    call = Call.objects.filter(provider=provider.name, provider_call_id=event.call_id).first()
    if call is None or event.call_status not in ENDED_STATUSES:
        return _empty_ok()
    was_waiting = call.state in WAITING_STATES
    call_finish(call=call, duration_seconds=event.duration_seconds)
    if was_waiting or call.legs.filter(state__in=LEG_LIVE_STATES).exists():
        queue_after_commit(call_legs_cancel, call.pk)
    return _empty_ok()


# --- the volunteer's side -------------------------------------------------------------------


def _leg_or_none(provider: Provider, leg_id: int) -> CallLeg | None:
    return (
        CallLeg.objects.select_related("call", "volunteer")
        .filter(pk=leg_id, call__provider_account=provider.account)
        .first()
    )


def _claim(leg: CallLeg) -> Script:
    call = leg.call
    if call_claim(call=call, leg=leg):
        queue_after_commit(call_legs_cancel, call.pk, leg.pk)
        return flow.leg_bridge(leg=leg, call=call, flow=call_flow_settings())
    return flow.leg_taken(leg=leg)


@verified_webhook
def leg_answer(request, provider: Provider, leg_id: int):
    leg = _leg_or_none(provider, leg_id)
    if leg is None:
        return provider.render(flow.unknown_call())
    event = provider.parse(request)
    if event.answered_by == "machine":
        leg_set_state(leg=leg, state=LegState.MACHINE, ended_at=timezone.now())
        _voicemail_if_nobody_left(leg.call)
        return provider.render(flow.goodbye())
    leg_set_state(leg=leg, state=LegState.ANSWERED, answered_at=timezone.now())
    if leg.call.state not in WAITING_STATES:
        leg_set_state(leg=leg, state=LegState.TAKEN_ELSEWHERE)
        return provider.render(flow.leg_taken(leg=leg))
    if call_flow_settings().require_press_to_accept:
        return provider.render(flow.leg_offer(leg=leg))
    return provider.render(_claim(leg))


@verified_webhook
def leg_accept(request, provider: Provider, leg_id: int):
    leg = _leg_or_none(provider, leg_id)
    if leg is None:
        return provider.render(flow.unknown_call())
    if provider.parse(request).digits.strip()[:1] == "1":
        return provider.render(_claim(leg))
    leg_set_state(leg=leg, state=LegState.DECLINED, ended_at=timezone.now())
    _voicemail_if_nobody_left(leg.call)
    return provider.render(flow.goodbye())


@verified_webhook
def leg_status(request, provider: Provider, leg_id: int):
    leg = _leg_or_none(provider, leg_id)
    if leg is None:
        return _empty_ok()
    event = provider.parse(request)
    if event.call_status == "ringing":
        leg_set_state(leg=leg, state=LegState.RINGING)
    elif event.call_status in LEG_END_STATES:
        leg_set_state(leg=leg, state=LEG_END_STATES[event.call_status], ended_at=timezone.now())
        _voicemail_if_nobody_left(leg.call)
    return _empty_ok()


@verified_webhook
def leg_bridge_ended(request, provider: Provider, leg_id: int):
    return provider.render(flow.goodbye())


def _voicemail_if_nobody_left(call: Call) -> None:
    """Every leg has ended without an answer: the caller goes to voicemail now, not at timeout."""
    call.refresh_from_db(fields=["state"])
    if (
        call.state in WAITING_STATES
        and call.legs.exists()
        and not call.legs.filter(state__in=LEG_LIVE_STATES | {LegState.ACCEPTED}).exists()
    ):
        queue_after_commit(call_to_voicemail_task, call.pk)


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
