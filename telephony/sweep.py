"""The safety net for callbacks that never came.

Every move of a call is driven by a carrier's callback; one lost in the network would leave a
volunteer busy or a caller on hold for ever. Once a minute (Celery beat: calls_sweep below) the
sweep finds calls and legs whose state has lasted longer than it can when every callback
arrives, asks the provider the call came in on where each one really is, and finishes it, with
a CallEvent saying why.

Each lookup is a REST request: a run looks at a bounded number of rows, holds no database
transaction while it talks to the provider, and a provider error on one row is logged and left
for the next run.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from celery import shared_task
from django.core.cache import cache
from django.db.models import Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from .call_flow import call_flow_settings_get
from .calls import call_event_record, call_finish, leg_set_state
from .flow import ACCEPT_TIMEOUT_SECONDS
from .models import (
    LEG_LIVE_STATES,
    WAITING_STATES,
    Call,
    CallEvent,
    CallFlowSettings,
    CallLeg,
    CallState,
    LegState,
)
from .providers import ProviderError, provider_for
from .providers.base import CallLookup
from .ringing import legs_cancel
from .tasks import call_reopen_if_winner_left, call_to_voicemail, next_round_if_nobody_left

logger = logging.getLogger(__name__)

# The bounds: how long each state can last when every callback arrives, plus a margin for a
# slow carrier and for the sweep's own minute.
# A leg rings for the ring timeout, then its volunteer has the accept timeout to press 1.
LEG_MARGIN_SECONDS = 60
# A waiting caller is moved to voicemail by the wait URL at the queue timeout and by the
# backstop task 15 s later; the sweep comes after both.
QUEUE_MARGIN_SECONDS = 120
# An answered call whose winner's leg is over ends within seconds (the bridge ends, the caller
# is told goodbye), or goes back to waiting.
WINNER_GONE_SECONDS = 60
# A call being talked through sends no callbacks: one quiet this long is asked about (when
# both the caller's and the volunteer's final callbacks were lost, the volunteer is free again
# after at most this long). The answer is a row, so a long call is asked once per period.
ANSWERED_QUIET_SECONDS = 10 * 60
# Nobody spends this long in the language menu and CAPTCHA.
IVR_MAX_SECONDS = 30 * 60
# A message is at most voicemail_max_seconds long, then the caller is told goodbye.
VOICEMAIL_MARGIN_SECONDS = 120
# Rows looked up per run, legs and calls each: a run stays well inside its minute.
SWEEP_LIMIT = 40

LEG_END_STATES = {
    "completed": LegState.COMPLETED,
    "busy": LegState.BUSY,
    "no-answer": LegState.NO_ANSWER,
    "canceled": LegState.CANCELED,
    "failed": LegState.FAILED,
    "not-found": LegState.FAILED,
}


@dataclass
class SweepReport:
    """What one run did: outcome name -> how many rows, and the rows left for the next run."""

    outcomes: dict[str, int] = field(default_factory=dict)
    failed: int = 0

    def add(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


def _seconds_ago(now: dt.datetime, seconds: int) -> dt.datetime:
    return now - dt.timedelta(seconds=seconds)


# --- selectors ------------------------------------------------------------------------------


def legs_stale(*, now: dt.datetime, flow: CallFlowSettings, limit: int = SWEEP_LIMIT) -> list[CallLeg]:
    """Legs still live (starting, ringing, deciding) longer than ringing and deciding can take,
    and winners' legs still open well after their call ended."""
    bound = _seconds_ago(now, flow.ring_timeout_seconds + ACCEPT_TIMEOUT_SECONDS + LEG_MARGIN_SECONDS)
    live = Q(state__in=LEG_LIVE_STATES, created_at__lt=bound)
    winner_left_open = Q(state=LegState.ACCEPTED, call__ended_at__lt=_seconds_ago(now, LEG_MARGIN_SECONDS))
    return list(
        CallLeg.objects.filter(live | winner_left_open)
        .select_related("call__provider_account")
        # Random, so rows whose lookup keeps failing cannot hold the others back for ever.
        .order_by("?")[:limit]
    )


def _last_event_at():
    latest = CallEvent.objects.filter(call=OuterRef("pk")).order_by("-id").values("created_at")[:1]
    return Coalesce(Subquery(latest), "started_at")


def calls_stale(*, now: dt.datetime, flow: CallFlowSettings, limit: int = SWEEP_LIMIT) -> list[Call]:
    """Calls whose caller may have gone without the carrier's word reaching us: waiting past
    the queue timeout; answered with the winner's leg over, or quiet for long; in the menu or
    in voicemail longer than those can last."""
    someone_on = CallLeg.objects.filter(call=OuterRef("pk"), state__in=LEG_LIVE_STATES | {LegState.ACCEPTED})
    waiting = Q(
        state__in=WAITING_STATES,
        waiting_since__lt=_seconds_ago(now, flow.queue_timeout_seconds + QUEUE_MARGIN_SECONDS),
    )
    answered = Q(state=CallState.ANSWERED) & (
        Q(someone_on=False, last_event_at__lt=_seconds_ago(now, WINNER_GONE_SECONDS))
        | Q(last_event_at__lt=_seconds_ago(now, ANSWERED_QUIET_SECONDS))
    )
    in_menu = Q(state=CallState.IVR, last_event_at__lt=_seconds_ago(now, IVR_MAX_SECONDS))
    voicemail_bound = _seconds_ago(now, flow.voicemail_max_seconds + VOICEMAIL_MARGIN_SECONDS)
    in_voicemail = Q(state=CallState.VOICEMAIL, last_event_at__lt=voicemail_bound)
    return list(
        Call.objects.filter(ended_at__isnull=True)
        .alias(
            waiting_since=Coalesce("queued_at", "started_at"),
            last_event_at=_last_event_at(),
            someone_on=Exists(someone_on),
        )
        .filter(waiting | answered | in_menu | in_voicemail)
        .select_related("provider_account")
        .order_by("?")[:limit]  # random, as legs_stale
    )


# --- services -------------------------------------------------------------------------------


def leg_sweep(*, leg: CallLeg) -> str:
    """Ask the carrier about one stale leg: ended -> its final state (and the next round of
    ringing if it was the last one); still live -> hung up. Returns what was done."""
    call = leg.call
    if call.provider_account is None:  # its account was deleted: nobody can be asked, or rung
        return _leg_end_unasked(leg)
    if not leg.provider_call_id:  # never placed: nothing to ask, nothing rings
        legs_cancel(call=call, legs=[leg])
        call_event_record(call=call, leg=leg, name="sweep.leg_never_placed", state=leg.state)
        _next_round(call)
        return "leg_never_placed"
    lookup = provider_for(call.provider_account).call_lookup(
        leg.provider_call_id, request_id=leg.provider_request_id
    )
    if lookup.live:
        return _leg_hang_up(leg, lookup)
    # A winner's leg can only end completed; the carrier's word for how is in the event.
    state = LegState.COMPLETED if leg.state == LegState.ACCEPTED else LEG_END_STATES[lookup.status]
    moved = leg_set_state(
        leg=leg,
        state=state,
        ended_at=timezone.now(),
        **({"error": "The carrier knows no such call."} if lookup.status == "not-found" else {}),
    )
    if not moved:
        return "leg_moved_meanwhile"
    call_event_record(call=call, leg=leg, name="sweep.leg_ended", carrier_status=lookup.status)
    _next_round(call)
    return "leg_ended"


def _leg_end_unasked(leg: CallLeg) -> str:
    state = LegState.COMPLETED if leg.state == LegState.ACCEPTED else LegState.FAILED
    if leg_set_state(leg=leg, state=state, ended_at=timezone.now(), error="Its provider account is gone."):
        call_event_record(call=leg.call, leg=leg, name="sweep.account_gone")
        _next_round(leg.call)
    return "leg_account_gone"


def _leg_hang_up(leg: CallLeg, lookup: CallLookup) -> str:
    call = leg.call
    accepted = leg.state == LegState.ACCEPTED
    # Rung past its timeout: nobody answered (a cancelled leg's volunteer may be rung again).
    legs_cancel(call=call, legs=[leg], ended_state=LegState.NO_ANSWER)
    if accepted:  # a winner's leg cannot be "cancelled": its call is over, so is the leg
        leg_set_state(leg=leg, state=LegState.COMPLETED, ended_at=timezone.now())
    call_event_record(call=call, leg=leg, name="sweep.leg_hung_up", carrier_status=lookup.status)
    _next_round(call)
    return "leg_hung_up"


def _next_round(call: Call) -> None:
    """A leg of ``call`` ended: if the call still waits and nobody else rings, the next round
    (or voicemail). Read again first: the round count decides, and the row was read earlier."""
    call.refresh_from_db(fields=["state", "ring_rounds"])
    next_round_if_nobody_left(call)


def call_sweep(*, call: Call) -> str:
    """Ask the carrier about one stale call's caller: gone -> the call is finished from where
    it is; still there -> whatever the caller is waiting for happens now. Returns what was done."""
    if call.provider_account is None:  # its account was deleted: nobody can be asked
        return _caller_gone(call, CallLookup(status="not-found"), event="sweep.account_gone")
    lookup = provider_for(call.provider_account).call_lookup(call.provider_call_id)
    if lookup.ended:
        return _caller_gone(call, lookup)
    call_event_record(
        call=call, name="sweep.caller_still_there", state=call.state, carrier_status=lookup.status
    )
    if call.state in WAITING_STATES or (call.state == CallState.VOICEMAIL and not call.voicemail_url):
        # Past the queue timeout nobody will answer; a caller still holding in voicemail was
        # never moved there (call_to_voicemail moves a caller once, and not after a message).
        call_to_voicemail(call.pk)
        return "caller_to_voicemail"
    if call.state == CallState.ANSWERED:
        return _winner_left(call)
    return "caller_still_there"


def _caller_gone(call: Call, lookup: CallLookup, event: str = "sweep.caller_gone") -> str:
    left_message = call.state == CallState.VOICEMAIL and bool(call.voicemail_url)
    call_finish(call=call, duration_seconds=lookup.duration_seconds, event="sweep.caller_gone")
    if left_message or event != "sweep.caller_gone":  # say who ended it, and why
        call_event_record(call=call, name=event, carrier_status=lookup.status)
    live_legs = list(call.legs.filter(state__in=LEG_LIVE_STATES))
    if live_legs:
        legs_cancel(call=call, legs=live_legs)
    return "caller_gone"


def _winner_left(call: Call) -> str:
    """The caller of an answered call is still on the line. If the winner's leg is over (by
    its callback, or by the carrier's word when that callback was lost) and was never bridged,
    the call waits again for the others, or voicemail. A bridged caller is left to the carrier."""
    leg = call.legs.filter(volunteer_id=call.answered_by_id).order_by("-pk").first()
    if leg is None:
        return "caller_still_there"
    if leg.state == LegState.ACCEPTED and leg.provider_call_id:
        lookup = provider_for(call.provider_account).call_lookup(
            leg.provider_call_id, request_id=leg.provider_request_id
        )
        if lookup.live or not leg_set_state(leg=leg, state=LegState.COMPLETED, ended_at=timezone.now()):
            return "caller_still_there"
        call_event_record(call=call, leg=leg, name="sweep.leg_ended", carrier_status=lookup.status)
    if leg.state == LegState.ACCEPTED or not call_reopen_if_winner_left(call, leg):
        return "caller_still_there"
    return "winner_left"


def sweep_run(*, now: dt.datetime | None = None, limit: int = SWEEP_LIMIT) -> SweepReport:
    """One pass: stale calls first (a caller gone ends the call and its legs at once; one
    still waiting goes to voicemail), then the stale legs that are left.
    ``now``: the moment staleness is judged at (tests look ahead with it)."""
    now = now or timezone.now()
    flow = call_flow_settings_get()
    report = SweepReport()
    for call in calls_stale(now=now, flow=flow, limit=limit):
        _attempt(report, "call", call.pk, lambda call=call: call_sweep(call=call))
    for leg in legs_stale(now=now, flow=flow, limit=limit):
        _attempt(report, "leg", leg.pk, lambda leg=leg: leg_sweep(leg=leg))
    if report.outcomes or report.failed:
        logger.info("sweep: %s; %s left for the next run", report.outcomes, report.failed)
    return report


def _attempt(report: SweepReport, kind: str, pk: int, sweep) -> None:
    try:
        report.add(sweep())
    except ProviderError as error:  # the provider could not say now: the next run asks again
        report.failed += 1
        logger.warning("sweep: %s %s left for the next run: %s", kind, pk, error.message)


# Held while a sweep runs: a slow run (many lookups) is never overtaken by the next minute's.
SWEEP_LOCK = "telephony.calls_sweep"
SWEEP_LOCK_SECONDS = 5 * 60


@shared_task(ignore_result=True)
def calls_sweep() -> None:
    """Celery beat, every minute: finish the calls and legs whose callbacks never came."""
    if not cache.add(SWEEP_LOCK, 1, timeout=SWEEP_LOCK_SECONDS):
        return  # the previous run is still going
    try:
        sweep_run()
    finally:
        cache.delete(SWEEP_LOCK)
