"""The inbound call as neutral instructions: which words and verbs come next at each step.

Functions here decide nothing about state; the webhook views (webhooks/) ask the services what
happened and then ask this module what the caller (or volunteer) should hear.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from llamenos.selectors import hotline_settings_get

from . import prompts
from .instructions import Bridge, Gather, Hangup, Hold, Pause, Play, Record, Redirect, Reject, Script
from .models import Call, CallFlowSettings, CallLeg

LANGUAGE_MENU_TIMEOUT_SECONDS = 8
CAPTCHA_TIMEOUT_SECONDS = 12
ACCEPT_TIMEOUT_SECONDS = 10
VOICEMAIL_SILENCE_SECONDS = 10


def step_url(name: str, **kwargs: int) -> str:
    """Absolute URL of a flow step, on the public base the providers call and sign."""
    return settings.PUBLIC_BASE_URL + reverse(f"flow_{name}", kwargs=kwargs)


def _hotline_name() -> str:
    return hotline_settings_get().hotline_name


def banned() -> Script:
    return Script.of(Reject(reason="rejected"))


def rate_limited(*, language: str) -> Script:
    return Script.of(prompts.prompt("rate_limited", language), Hangup())


def unknown_call() -> Script:
    """A step URL for a call we do not know (deleted, or a stale retry): end politely."""
    return Script.of(prompts.prompt("unavailable", prompts.DEFAULT_LANGUAGE), Hangup())


def language_menu(*, call: Call, menu: list[tuple[str, str]]) -> Script:
    options = tuple(prompts.prompt("language_option", language, digit=digit) for language, digit in menu)
    action = step_url("language", call_id=call.pk)
    return Script.of(
        Gather(
            action_url=action, num_digits=1, timeout_seconds=LANGUAGE_MENU_TIMEOUT_SECONDS, prompts=options
        ),
        # No key pressed: the language step guesses from the number, then the default.
        Redirect(action),
    )


def captcha(*, call: Call, digits: str, greet: bool, retry: bool = False) -> Script:
    language = call.language
    spoken = ", ".join(digits)
    intro = []
    if greet:
        intro.append(prompts.prompt("greeting", language, hotline=_hotline_name()))
    if retry:
        intro.append(prompts.prompt("captcha_retry", language))
    gather = Gather(
        action_url=step_url("captcha", call_id=call.pk),
        num_digits=len(digits),
        timeout_seconds=CAPTCHA_TIMEOUT_SECONDS,
        prompts=(*intro, prompts.prompt("captcha", language, digits=spoken)),
    )
    # No input falls through to the captcha step with no digits: it counts as a failed try.
    return Script.of(gather, Redirect(step_url("captcha", call_id=call.pk)))


def captcha_failed(*, call: Call) -> Script:
    return Script.of(prompts.prompt("captcha_failed", call.language), Hangup())


def hold(*, call: Call, greet: bool) -> Script:
    language = call.language
    intro = [prompts.prompt("greeting", language, hotline=_hotline_name())] if greet else []
    return Script.of(
        *intro,
        prompts.prompt("please_hold", language),
        Hold(
            room=call.room,
            wait_url=step_url("wait", call_id=call.pk),
            action_url=step_url("hold_exit", call_id=call.pk),
        ),
    )


def hold_music(*, call: Call) -> Script:
    """What plays while the caller waits; the provider fetches it again when it ends."""
    return Script.of(
        prompts.prompt("hold_wait", call.language),
        Play(settings.PUBLIC_BASE_URL + reverse("flow_hold_music")),
    )


def hold_over() -> Script:
    """The caller is being moved on (to voicemail) by REST; keep the line quiet meanwhile."""
    return Script.of(Pause(seconds=2))


def voicemail(*, call: Call, flow: CallFlowSettings, greet: bool = False) -> Script:
    language = call.language or prompts.DEFAULT_LANGUAGE
    intro = [prompts.prompt("greeting", language, hotline=_hotline_name())] if greet else []
    return Script.of(
        *intro,
        prompts.prompt("voicemail", language),
        Record(
            action_url=step_url("voicemail_saved", call_id=call.pk),
            max_length_seconds=flow.voicemail_max_seconds,
        ),
        # Reached only when the caller records nothing at all.
        prompts.prompt("voicemail_empty", language),
        Hangup(),
    )


def voicemail_done(*, call: Call, saved: bool) -> Script:
    return Script.of(
        prompts.prompt("voicemail_thanks" if saved else "voicemail_empty", call.language), Hangup()
    )


def browser_call_refused() -> Script:
    return Script.of(
        prompts.prompt("browser_calls_unavailable", hotline_settings_get().default_language), Hangup()
    )


def goodbye() -> Script:
    return Script.of(Hangup())


# --- the volunteer's side -------------------------------------------------------------------


def _volunteer_language(leg: CallLeg) -> str:
    """The first language the volunteer speaks that has prompts, else the hotline's default."""
    spoken = [language for language in leg.volunteer.spoken_languages if language in prompts.LANGUAGES]
    return spoken[0] if spoken else hotline_settings_get().default_language


def leg_offer(*, leg: CallLeg) -> Script:
    language = _volunteer_language(leg)
    caller_language = leg.call.language
    offer = [prompts.prompt("volunteer_offer", language, hotline=_hotline_name())]
    if caller_language and caller_language != language:  # else the offer's language says it
        name = prompts.language_name_in(caller_language, language)
        offer.insert(0, prompts.prompt("volunteer_caller_language", language, caller_language=name))
    return Script.of(
        Gather(
            action_url=step_url("leg_accept", leg_id=leg.pk),
            num_digits=1,
            timeout_seconds=ACCEPT_TIMEOUT_SECONDS,
            prompts=tuple(offer),
        ),
        prompts.prompt("volunteer_no_input", language),
        Hangup(),
    )


def leg_taken(*, leg: CallLeg) -> Script:
    return Script.of(prompts.prompt("volunteer_taken", _volunteer_language(leg)), Hangup())


def leg_bridge(*, leg: CallLeg, call: Call, flow: CallFlowSettings) -> Script:
    return Script.of(
        Bridge(
            room=call.room,
            action_url=step_url("leg_bridge_ended", leg_id=leg.pk),
            connected_url=step_url("bridged", call_id=call.pk),
            record=flow.record_calls,
            recording_url=step_url("recording", call_id=call.pk) if flow.record_calls else "",
        )
    )
