"""What the bench measures, driving calls through the carrier emulator over real HTTP.

Times come from the emulator's own records (telephony/emulator: ``Webhook.sent_at`` /
``answered_at`` and ``RestRequest.received_at``, all ``time.monotonic()`` in this process), so
they are what the carrier sees: the signed POST going out to its answer read, and the webhook
going out to each leg's REST create arriving.

Every loop has a count and a deadline; a call that misses its deadline is counted as an error,
never waited on forever.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from dataclasses import dataclass, field

from telephony.emulator import Account, Carrier, EmulatedCall

FINAL = ("completed", "busy", "no-answer", "canceled", "failed")
# After the incoming answer the caller is on hold (queued), or the call ended (baseline: Hangup).
ANSWERED = ("queued", "in-progress", "bridged", *FINAL)
LEG_CREATE = ("Calls.json", "/Call")
CALL_TIMEOUT = 15.0


@dataclass
class Result:
    name: str
    provider: str
    samples: list[float] = field(default_factory=list)  # seconds
    errors: list[str] = field(default_factory=list)
    wall_seconds: float = 0.0
    concurrency: int = 0
    volunteers: int = 0
    planned: int = 0
    load: str = ""  # what the table's load column says; default "N concurrent" / "N on shift"
    live_calls: list[int] = field(default_factory=list)  # sampled callers on the line

    @property
    def throughput(self) -> float:
        return len(self.samples) / self.wall_seconds if self.wall_seconds else 0.0


class Callers:
    """Distinct caller numbers, so the per-caller rate limit never kicks in."""

    def __init__(self, prefix: str = "+1212555") -> None:
        self._numbers = itertools.count()
        self._prefix = prefix
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            return f"{self._prefix}{next(self._numbers) % 10000:04d}"


def _incoming_hook(carrier: Carrier, call: EmulatedCall):
    # Newest first: the record is near the end, and the list grows through a run.
    return next(
        (w for w in reversed(list(carrier.webhooks)) if w.call_sid == call.sid and w.kind == "incoming"), None
    )


def _one_call(
    carrier: Carrier,
    account: Account,
    callers: Callers,
    result: Result,
    lock,
    *,
    alone: bool,
    hold_seconds: float = 0.0,
) -> None:
    """Dial, read the incoming answer time, stay on hold ``hold_seconds`` (the volunteers' phones
    ringing), hang up, wait for the call to end (and, when ``alone``, for its volunteer legs to
    end too, so the next call meets an idle app)."""
    call = carrier.place_call(account.provider, account=account, from_=callers.next())
    try:
        call.wait_for_state(*ANSWERED, timeout=CALL_TIMEOUT)
        hook = _incoming_hook(carrier, call)
        if hook is None or not hook.ok:
            raise RuntimeError(
                f"incoming answered {hook.status if hook else 'nothing'} {hook and hook.error}"
            )
        with lock:
            result.samples.append(hook.elapsed)
        if hold_seconds and not call.is_final:
            time.sleep(max(0.0, hook.sent_at + hold_seconds - time.monotonic()))
        if not call.is_final:
            call.hangup()
        call.wait_for_state(*FINAL, timeout=CALL_TIMEOUT)
        if alone and not quiet(carrier, timeout=CALL_TIMEOUT, settle=0.03):
            raise TimeoutError("legs still live after the caller hung up")
    except (TimeoutError, RuntimeError) as error:
        with lock:
            result.errors.append(f"{type(error).__name__}: {str(error)[:200]}")
        call.hangup()


def answer_times(
    carrier: Carrier,
    account: Account,
    *,
    name: str,
    calls: int,
    concurrency: int,
    time_limit: float,
    callers: Callers,
    hold: tuple[float, float] | None = None,
) -> Result:
    """``concurrency`` callers, each dialling again as soon as its call ended, until ``calls``
    were placed or ``time_limit`` passed.

    With ``hold=None`` each caller hangs up as soon as the incoming webhook was answered: back
    to back, so ``concurrency`` webhooks are in flight all the time (a saturation test: its
    latency is the queue in front of the CPUs). With ``hold=(low, high)`` each caller stays on
    hold for a random time in that range while its volunteers' phones ring, and the first dials
    are spread over the first hold: ``concurrency`` calls are live at once, arriving at about
    ``concurrency / mean hold`` calls per second. With one caller, each call (and its ringing)
    ends before the next is placed: the idle latency.
    """
    result = Result(name=name, provider=account.provider, concurrency=concurrency, planned=calls)
    placed = itertools.count()
    lock = threading.Lock()
    live = [0]
    deadline = time.monotonic() + time_limit
    chance = random.Random(concurrency)  # the same holds, run after run

    def caller_loop(index: int) -> None:
        if hold:
            time.sleep(hold[0] * index / concurrency)  # staggered, so arrivals do not come in waves
        while time.monotonic() < deadline and next(placed) < calls:
            with lock:
                hold_seconds = chance.uniform(*hold) if hold else 0.0
                live[0] += 1
            try:
                _one_call(
                    carrier,
                    account,
                    callers,
                    result,
                    lock,
                    alone=concurrency == 1,
                    hold_seconds=hold_seconds,
                )
            finally:
                with lock:
                    live[0] -= 1

    threads = [
        threading.Thread(target=caller_loop, args=(index,), daemon=True) for index in range(concurrency)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        result.live_calls.append(live[0])
        if time.monotonic() > deadline + CALL_TIMEOUT * 2 + 5:
            break
        time.sleep(0.05)
    result.wall_seconds = time.monotonic() - started
    return result


def quiet(carrier: Carrier, *, timeout: float = 20.0, settle: float = 0.2) -> bool:
    """Wait until every emulated call has ended and no request came for ``settle`` seconds."""
    deadline = time.monotonic() + timeout
    seen = (-1, -1)
    still_since = time.monotonic()
    while time.monotonic() < deadline:
        now = (len(carrier.requests), len(carrier.webhooks))
        if now != seen:
            seen, still_since = now, time.monotonic()
        busy = any(not call.is_final for call in list(carrier.calls))
        if not busy and time.monotonic() - still_since >= settle:
            return True
        time.sleep(0.02)
    return False


def _leg_creates(carrier: Carrier, since: float) -> list[float]:
    return sorted(
        r.received_at
        for r in list(carrier.requests)
        if r.method == "POST" and r.path.rstrip("/").endswith(LEG_CREATE) and r.received_at >= since
    )


def fanout_times(
    carrier: Carrier,
    account: Account,
    *,
    volunteers: int,
    reps: int,
    time_limit: float,
    callers: Callers,
) -> tuple[Result, Result]:
    """One call at a time with ``volunteers`` on shift: seconds from the incoming webhook going
    out to the carrier holding the REST create of the first and of the last leg."""
    first = Result(name="first leg requested", provider=account.provider, volunteers=volunteers, planned=reps)
    last = Result(name="all legs requested", provider=account.provider, volunteers=volunteers, planned=reps)
    deadline = time.monotonic() + time_limit
    started = time.monotonic()
    for _ in range(reps):
        if time.monotonic() >= deadline:
            break
        if not quiet(carrier):
            last.errors.append("carrier not quiet before the call")
        carrier.reset()
        call = carrier.place_call(account.provider, account=account, from_=callers.next())
        try:
            call.wait_for_state(*ANSWERED, timeout=CALL_TIMEOUT)
            hook = _incoming_hook(carrier, call)
            if hook is None or not hook.ok:
                raise RuntimeError(f"incoming answered {hook.status if hook else 'nothing'}")
            wait_until = time.monotonic() + CALL_TIMEOUT
            creates = _leg_creates(carrier, hook.sent_at)
            while len(creates) < volunteers and time.monotonic() < wait_until:
                time.sleep(0.005)
                creates = _leg_creates(carrier, hook.sent_at)
            if len(creates) < volunteers:
                raise TimeoutError(f"{len(creates)} of {volunteers} legs requested in {CALL_TIMEOUT:.0f}s")
            first.samples.append(creates[0] - hook.sent_at)
            last.samples.append(creates[volunteers - 1] - hook.sent_at)
        except (TimeoutError, RuntimeError) as error:
            last.errors.append(f"{type(error).__name__}: {str(error)[:200]}")
        finally:
            call.hangup()
    quiet(carrier)
    carrier.reset()
    last.wall_seconds = first.wall_seconds = time.monotonic() - started
    return first, last
