"""Small pieces of the call flow: language choice, the Redis rate limit, prompts, captcha digits."""

from __future__ import annotations

import time
import uuid

import pytest

from llamenos.models import User
from telephony import prompts
from telephony.languages import caller_language
from telephony.ratelimit import caller_rate_allowed, caller_rate_reset

MENU = [("en", "1"), ("es", "2")]


@pytest.mark.parametrize(
    ("digits", "number", "expected"),
    [
        ("2", "+14155550123", "es"),  # the menu choice wins
        ("1", "+34612345678", "en"),
        ("", "+34612345678", "es"),  # no input: the country code
        ("7", "+5215512345678", "es"),  # an invalid digit: the country code
        ("", "+33612345678", "en"),  # a country with no enabled language: the default
        ("", "not-a-number", "en"),
    ],
)
def test_caller_language(digits, number, expected):
    assert caller_language(digits=digits, caller_e164=number, menu=MENU, default="en") == expected


def test_a_single_enabled_language_is_always_used():
    assert caller_language(digits="", caller_e164="+14155550123", menu=[("es", "1")], default="en") == "es"


def test_every_language_has_every_prompt():
    keys = set(prompts.PROMPT_KEYS)
    for language in prompts.LANGUAGES:
        assert set(prompts._module(language).PROMPTS) == keys
        for key in keys:
            assert prompts.prompt_text(
                key, language, hotline="H", digit="1", digits="1, 2", caller_language="L"
            )


def _allowed(*, caller_hash: str, call_id: str | None = None, **limits) -> bool:
    """One new call (a fresh provider call id unless given) from ``caller_hash``."""
    return caller_rate_allowed(caller_hash=caller_hash, call_id=call_id or uuid.uuid4().hex, **limits)


def test_rate_limit_allows_the_limit_then_refuses(settings):
    assert settings.REDIS_URL
    caller_rate_reset(caller_hash="a" * 64)
    results = [_allowed(caller_hash="a" * 64, limit=3, window_seconds=60, block_seconds=0) for _ in range(4)]
    assert results == [True, True, True, False]
    assert _allowed(caller_hash="b" * 64, limit=3, window_seconds=60, block_seconds=0)


def test_rate_limit_window_slides(settings):
    caller_rate_reset(caller_hash="c" * 64)
    for _ in range(2):
        assert _allowed(caller_hash="c" * 64, limit=2, window_seconds=1, block_seconds=0)
    assert not _allowed(caller_hash="c" * 64, limit=2, window_seconds=1, block_seconds=0)
    time.sleep(1.1)
    assert _allowed(caller_hash="c" * 64, limit=2, window_seconds=1, block_seconds=0)


def test_rate_limit_block_outlasts_the_window(settings):
    caller_rate_reset(caller_hash="d" * 64)
    assert _allowed(caller_hash="d" * 64, limit=1, window_seconds=1, block_seconds=3)
    assert not _allowed(caller_hash="d" * 64, limit=1, window_seconds=1, block_seconds=3)
    time.sleep(1.2)  # the window is over, the block is not
    assert not _allowed(caller_hash="d" * 64, limit=1, window_seconds=1, block_seconds=3)


def test_in_memory_fallback_behaves_the_same(settings):
    settings.REDIS_URL = ""
    caller_rate_reset(caller_hash="e" * 64)
    results = [_allowed(caller_hash="e" * 64, limit=2, window_seconds=60, block_seconds=60) for _ in range(3)]
    assert results == [True, True, False]


@pytest.mark.parametrize("redis_url", ["redis", ""])
def test_a_repeated_webhook_is_not_counted_as_another_call(settings, redis_url):
    if not redis_url:
        settings.REDIS_URL = ""
    caller_rate_reset(caller_hash="f" * 64)
    limits = {"limit": 2, "window_seconds": 60, "block_seconds": 60}
    for _ in range(5):  # the provider retried the same call's webhook
        assert _allowed(caller_hash="f" * 64, call_id="CA-first", **limits)
    assert _allowed(caller_hash="f" * 64, call_id="CA-second", **limits)
    assert not _allowed(caller_hash="f" * 64, call_id="CA-third", **limits)
    assert not _allowed(caller_hash="f" * 64, call_id="CA-first", **limits)  # and now blocked


def test_volunteers_hear_the_callers_language_named_in_their_own():
    assert prompts.language_name_in("es", "en") == "Spanish"
    assert prompts.language_name_in("en", "es") == "inglés"
    assert prompts.prompt_text("volunteer_caller_language", "es", caller_language="inglés") == (
        "Esta persona habla inglés."
    )
    assert "volunteer_caller_language" not in prompts.RECORDABLE_PROMPTS  # it names a language


@pytest.mark.django_db
def test_two_legs_ending_at_once_queue_one_next_round(
    monkeypatch, twilio_account, django_capture_on_commit_callbacks
):
    """Each leg's end handler loaded the call before the other wrote; both see nobody ringing,
    and only one of them may queue the next round."""
    from telephony import tasks
    from telephony.models import Call, CallLeg, CallState, LegState
    from volunteers.models import Volunteer

    queued = []
    monkeypatch.setattr(tasks, "queue_after_commit", lambda task, *args: queued.append((task, args)))
    call = Call.objects.create(
        provider_account=twilio_account,
        provider="twilio",
        provider_call_id="CA-round",
        state=CallState.RINGING,
    )
    for name in ("amy", "zoe"):
        user = User.objects.create_user(username=name)
        CallLeg.objects.create(
            call=call, volunteer=Volunteer.objects.create(user=user), state=LegState.NO_ANSWER
        )
    seen_by_first, seen_by_second = Call.objects.get(pk=call.pk), Call.objects.get(pk=call.pk)

    tasks.next_round_if_nobody_left(seen_by_first)
    tasks.next_round_if_nobody_left(seen_by_second)

    assert queued == [(tasks.call_ring, (call.pk,))]
    assert Call.objects.get(pk=call.pk).ring_rounds == 1
