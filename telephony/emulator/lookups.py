"""Plivo's call lookups: where the app asks the carrier about a call whose callbacks never came.

Plivo shows a call in one of three places, all on ``GET /v1/Account/{auth_id}/Call/{uuid}/``:

- ``?status=live``: a call someone is on (answered, or an inbound call being answered), by
  CallUUID (the SDK's ``live_calls.get``);
- ``?status=queued``: a call placed by the API and not answered yet (queued or ringing), by the
  request_uuid the create answered (``queued_calls.get``);
- no status: the call detail record (CDR) of an ended call, by CallUUID (``calls.get``).

Each answers 404 for a call that is not there (a live call has no CDR yet). Twilio's one call
resource (``GET .../Calls/{CallSid}.json``, any state) is in rest.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .accounts import PLIVO, plivo_number, plivo_uuid
from .engine import billed
from .plivo_engine import HANGUP_SOURCE
from .rest import PL, RestError, _route

if TYPE_CHECKING:
    from .calls import EmulatedCall

# The CDR's hangup cause for each way a call ends: (code, name) as Plivo's hangup causes page
# names them. The app reads the name; callee-side causes are in Plivo's 3000s.
HANGUP_CAUSES = {
    "completed": (4000, "Normal Hangup"),
    "canceled": (1000, "Canceled"),
    "busy": (3010, "Busy Line"),
    "no-answer": (3020, "No Answer"),
    "failed": (8011, "Invalid Answer XML"),
}
END_OF_XML = (4010, "End Of XML Instructions")


def _stamp(ts: float | None) -> str | None:
    """Plivo's CDR time: local to the account, with its offset (the emulator's zone is UTC)."""
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S+00:00") if ts else None


def _is_live(call: EmulatedCall) -> bool:
    return not call.is_final and (call.is_answered or call.direction == "inbound")


def _is_queued(call: EmulatedCall) -> bool:
    return not call.is_final and not call.is_answered and call.direction == "outbound"


def _find(carrier, account, uuid: str, *, by_request: bool = False) -> EmulatedCall | None:
    call = carrier.call(uuid) or (carrier.call_by_request(uuid) if by_request else None)
    return call if call is not None and call.account == account else None


def live_json(call: EmulatedCall) -> dict[str, Any]:
    return {
        "api_id": plivo_uuid(),
        "call_status": "in-progress" if call.is_answered else "ringing",
        "call_uuid": call.sid,
        "caller_name": "",
        "direction": call.direction,
        "from": plivo_number(call.from_),
        "request_uuid": call.request_uuid,
        "session_start": _stamp(call.created_at),
        "to": plivo_number(call.to),
    }


def queued_json(call: EmulatedCall) -> dict[str, Any]:
    return {
        "api_id": plivo_uuid(),
        "call_status": "queued",
        "call_uuid": call.request_uuid,
        "caller_name": "",
        "direction": call.direction,
        "from": plivo_number(call.from_),
        "request_uuid": call.request_uuid,
        "to": plivo_number(call.to),
    }


def cdr_json(call: EmulatedCall) -> dict[str, Any]:
    code, cause = HANGUP_CAUSES.get(call.state, HANGUP_CAUSES["failed"])
    if call.state == "completed" and call.end_source == "app":
        code, cause = END_OF_XML
    duration = call.duration_seconds
    return {
        "answer_time": _stamp(call.answered_at),
        "api_id": plivo_uuid(),
        "bill_duration": duration,
        "billed_duration": billed(duration),
        "call_direction": call.direction,
        "call_duration": duration,
        "call_uuid": call.sid,
        "conference_uuid": None,
        "end_time": _stamp(call.ended_at),
        "from_number": "+" + plivo_number(call.from_),
        "hangup_cause_code": code,
        "hangup_cause_name": cause,
        "hangup_source": HANGUP_SOURCE.get(call.end_source, "Unknown"),
        "initiation_time": _stamp(call.created_at),
        "parent_call_uuid": None,
        "resource_uri": f"/v1/Account/{call.account.account_id}/Call/{call.sid}/",
        "stir_verification": "Not Applicable",
        "to_number": plivo_number(call.to),
        "total_amount": f"{billed(duration) / 60 * 0.0085:.5f}",
        "total_rate": "0.00850",
    }


@_route(PLIVO, "GET", PL + r"/Call/(?P<uuid>[0-9a-f-]+)/")
def plivo_call_lookup(carrier, account, params, uuid):
    view = params.get("status", "")
    if view == "live":
        call = _find(carrier, account, uuid)
        if call is None or not _is_live(call):
            raise RestError(404, "call not found")
        return 200, live_json(call)
    if view == "queued":
        call = _find(carrier, account, uuid, by_request=True)
        if call is None or not _is_queued(call):
            raise RestError(404, "call not found")
        return 200, queued_json(call)
    call = _find(carrier, account, uuid)
    if call is None or not call.is_final:
        raise RestError(404, "call not found")
    return 200, cdr_json(call)
