"""Small pieces of the call flow: language choice, the Redis rate limit, prompts, captcha digits."""

from __future__ import annotations

import time
import uuid

import pytest

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
            assert prompts.prompt_text(key, language, hotline="H", digit="1", digits="1, 2")


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
