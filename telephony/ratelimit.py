"""Per-caller sliding-window rate limit, kept in Redis (in-process only for the local demo).

A caller who places more than ``limit`` calls within ``window_seconds`` is refused, and stays
refused for ``block_seconds`` after that, even if they stop calling. Calls are counted by the
provider's call id, so a repeated webhook for the same call is not a second call.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from functools import cache

import redis
from django.conf import settings

KEY_PREFIX = "llamenos:ratelimit"


class RateLimitUnavailable(Exception):
    """The rate-limit store (Redis) did not answer; the caller decides what that means."""


@cache
def _redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)


def _check_redis(
    caller_hash: str, call_id: str, *, limit: int, window_seconds: int, block_seconds: int
) -> bool:
    client = _redis_client(settings.REDIS_URL)
    calls_key, block_key = f"{KEY_PREFIX}:calls:{caller_hash}", f"{KEY_PREFIX}:block:{caller_hash}"
    now = time.time()
    with client.pipeline(transaction=True) as pipe:
        pipe.exists(block_key)
        pipe.zremrangebyscore(calls_key, 0, now - window_seconds)
        pipe.zadd(calls_key, {call_id: now}, nx=True)  # a repeated webhook keeps its first time
        pipe.zcard(calls_key)
        pipe.expire(calls_key, window_seconds)
        blocked, _, _, count, _ = pipe.execute()
    if blocked:
        return False
    if count > limit:
        if block_seconds:
            client.set(block_key, 1, ex=block_seconds)
        return False
    return True


_memory_lock = threading.Lock()
_memory_calls: dict[str, dict[str, float]] = defaultdict(dict)  # caller -> {call id: first seen}
_memory_blocks: dict[str, float] = {}


def _check_memory(
    caller_hash: str, call_id: str, *, limit: int, window_seconds: int, block_seconds: int
) -> bool:
    now = time.monotonic()
    with _memory_lock:
        if _memory_blocks.get(caller_hash, 0) > now:
            return False
        calls = _memory_calls[caller_hash]
        for old in [key for key, seen in calls.items() if seen <= now - window_seconds]:
            del calls[old]
        calls.setdefault(call_id, now)
        if len(calls) > limit:
            if block_seconds:
                _memory_blocks[caller_hash] = now + block_seconds
            return False
    return True


def caller_rate_allowed(
    *, caller_hash: str, call_id: str, limit: int, window_seconds: int, block_seconds: int
) -> bool:
    """Record call ``call_id`` from ``caller_hash`` (once, however often it is asked about) and
    say whether it may go on."""
    check = _check_redis if settings.REDIS_URL else _check_memory
    try:
        return check(
            caller_hash, call_id, limit=limit, window_seconds=window_seconds, block_seconds=block_seconds
        )
    except redis.RedisError as exc:
        raise RateLimitUnavailable(str(exc)) from exc


def caller_rate_reset(*, caller_hash: str) -> None:
    if settings.REDIS_URL:
        _redis_client(settings.REDIS_URL).delete(
            f"{KEY_PREFIX}:calls:{caller_hash}", f"{KEY_PREFIX}:block:{caller_hash}"
        )
    with _memory_lock:
        _memory_calls.pop(caller_hash, None)
        _memory_blocks.pop(caller_hash, None)
