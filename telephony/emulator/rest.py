"""The carrier's REST API: the Twilio and Plivo paths our SDK clients call.

One plain function, ``rest_handle``, turns (method, path, headers, body) into a response; the
loopback HTTP server (server.py) and the dev-mode Django view (views.py) both call it, so tests
and ``make run`` exercise the same code. Call and message handling lives on the Carrier.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from .accounts import PLIVO, TWILIO, Account, plivo_uuid

if TYPE_CHECKING:
    from .carrier import Carrier

TW_PREFIX = "/2010-04-01/Accounts/"
TWILIO_ERROR_INFO = "https://www.twilio.com/docs/errors/{code}"


@dataclass
class RestRequest:
    """What the carrier received. ``form`` holds form fields (a list when a key repeats, as
    Twilio's StatusCallbackEvent does); ``json`` the JSON body (Plivo)."""

    provider: str
    method: str
    path: str
    query: dict[str, Any]
    form: dict[str, Any]
    json: Any
    account_id: str
    auth_ok: bool
    status: int = 0
    response: Any = None
    # time.monotonic() when the carrier received it (the bench measures fan-out with it).
    received_at: float = field(default_factory=time.monotonic)

    @property
    def params(self) -> dict[str, Any]:
        """The request's parameters whichever way they were sent."""
        return self.json if isinstance(self.json, dict) else self.form


@dataclass
class RestResponse:
    status: int
    body: bytes = b""
    content_type: str = "application/json"


@dataclass
class Failure:
    """A planned failure: the next ``times`` requests matching method and path fail."""

    method: str
    path_regex: re.Pattern
    status: int | None
    body: Any
    delay_seconds: float
    times: int


class RestError(Exception):
    """Raised by handlers: becomes the provider's error body with this status."""

    def __init__(self, status: int, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


@dataclass
class FailureBook:
    rules: list[Failure] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, rule: Failure) -> None:
        with self.lock:
            self.rules.append(rule)

    def take(self, method: str, path: str) -> Failure | None:
        with self.lock:
            for rule in self.rules:
                if rule.method in ("*", method) and rule.path_regex.search(path):
                    rule.times -= 1
                    if rule.times <= 0:
                        self.rules.remove(rule)
                    return rule
        return None


def _form(body: bytes) -> dict[str, Any]:
    parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[0] if len(v) == 1 else v for k, v in parsed.items()}


def _basic_auth(headers: dict[str, str]) -> tuple[str, str] | None:
    value = headers.get("authorization", "")
    if not value.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(value[6:].strip()).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


def error_body(provider: str, status: int, message: str, code: int | None = None) -> dict[str, Any]:
    """The provider's own error shape (what the SDKs parse into their exceptions)."""
    if provider == TWILIO:
        code = code or {401: 20003, 404: 20404, 429: 20429, 503: 20503}.get(
            status, 20500 if status >= 500 else status
        )
        return {
            "code": code,
            "message": message,
            "more_info": TWILIO_ERROR_INFO.format(code=code),
            "status": status,
        }
    return {"api_id": plivo_uuid(), "error": message}


def _provider_for_path(path: str) -> str:
    return TWILIO if path.startswith("/2010-04-01/") else PLIVO


def rest_handle(
    carrier: Carrier, *, method: str, path: str, query: str, headers: dict[str, str], body: bytes
) -> RestResponse:
    """Answer one REST request the way the real API would (headers: lower-case names)."""
    method = method.upper()
    provider = _provider_for_path(path)
    content_type = headers.get("content-type", "")
    form: dict[str, Any] = {}
    payload: Any = None
    if "json" in content_type:
        try:
            payload = json.loads(body or b"null")
        except ValueError:
            payload = None
    elif body:
        form = _form(body)
    record = RestRequest(
        provider=provider,
        method=method,
        path=path,
        query=_form(query.encode()),
        form=form,
        json=payload,
        account_id="",
        auth_ok=False,
    )
    route = _match(provider, method, path)
    account: Account | None = None
    if route is not None:
        record.account_id = route[1].get("account", "")
        account = _authenticate(carrier, provider, record.account_id, headers)
        record.auth_ok = account is not None
    carrier._record_request(record)

    failure = carrier._failures.take(method, path)
    if failure is not None:
        if failure.delay_seconds:
            time.sleep(failure.delay_seconds)
        if failure.status is not None:
            body_obj = (
                failure.body
                if failure.body is not None
                else error_body(provider, failure.status, f"Emulated failure {failure.status}")
            )
            return _reply(record, failure.status, body_obj)

    if route is None:
        return _reply(record, 404, error_body(provider, 404, f"The requested resource {path} was not found"))
    handler, args = route
    if account is None:
        message = "Authentication Error - invalid username" if provider == TWILIO else "Authentication failed"
        return _reply(record, 401, error_body(provider, 401, message))
    # A GET carries its parameters in the query string (Plivo's ?status=live).
    params = record.query if method == "GET" else record.params
    params = params if isinstance(params, dict) else {}
    try:
        status, result = handler(
            carrier, account, params, **{k: v for k, v in args.items() if k != "account"}
        )
    except RestError as exc:
        return _reply(record, exc.status, error_body(provider, exc.status, exc.message, exc.code))
    if isinstance(result, RestResponse):  # media (recordings), not JSON
        record.status = status
        return result
    return _reply(record, status, result)


def _reply(record: RestRequest, status: int, body_obj: Any) -> RestResponse:
    record.status = status
    record.response = body_obj
    if status == 204 or body_obj is None:
        return RestResponse(status=status)
    if isinstance(body_obj, (bytes, str)):
        raw = body_obj.encode() if isinstance(body_obj, str) else body_obj
        return RestResponse(status=status, body=raw, content_type="text/plain")
    return RestResponse(status=status, body=json.dumps(body_obj).encode())


def _authenticate(
    carrier: Carrier, provider: str, account_id: str, headers: dict[str, str]
) -> Account | None:
    """The username must be the account in the path (or a Twilio API key of it), the password its secret."""
    creds = _basic_auth(headers)
    account = carrier.account(provider, account_id)
    if creds is None or account is None:
        return None
    user, password = creds
    if user == account.account_id and password == account.auth_token:
        return account
    if (
        provider == TWILIO
        and account.api_key_sid
        and user == account.api_key_sid
        and password == account.api_key_secret
    ):
        return account
    return None


# --- routing -------------------------------------------------------------------------------

_ROUTES: list[tuple[str, str, re.Pattern, Any]] = []


def _route(provider: str, method: str, pattern: str):
    def register(fn):
        _ROUTES.append((provider, method, re.compile(pattern), fn))
        return fn

    return register


def _match(provider: str, method: str, path: str):
    for route_provider, route_method, regex, fn in _ROUTES:
        if route_provider == provider and route_method == method:
            m = regex.fullmatch(path)
            if m:
                return fn, m.groupdict()
    return None


TW = r"/2010-04-01/Accounts/(?P<account>[A-Za-z0-9]+)"
PL = r"/v1/Account/(?P<account>[A-Za-z0-9]+)"


def rfc2822(ts: float | None) -> str | None:
    return formatdate(ts, usegmt=True) if ts else None


def _required(params: dict[str, Any], *names: str, provider: str) -> None:
    for name in names:
        if not params.get(name):
            if provider == TWILIO:
                raise RestError(400, f"Required parameter {name} missing.", 21205 if name == "Url" else 21201)
            raise RestError(400, f"{name} is a required parameter")


@_route(TWILIO, "GET", TW + r"\.json")
def twilio_account_fetch(carrier, account, params):
    now = rfc2822(carrier.started_at)
    return 200, {
        "sid": account.account_id,
        "owner_account_sid": account.account_id,
        "friendly_name": account.friendly_name,
        "status": "active",
        "type": "Full",
        "date_created": now,
        "date_updated": now,
        "auth_token": "",
        "uri": f"/2010-04-01/Accounts/{account.account_id}.json",
        "subresource_uris": {"calls": f"/2010-04-01/Accounts/{account.account_id}/Calls.json"},
    }


@_route(TWILIO, "POST", TW + r"/Calls\.json")
def twilio_call_create(carrier, account, params):
    _required(params, "To", "From", provider=TWILIO)
    if not params.get("Url") and not params.get("Twiml"):
        raise RestError(400, "Either Url or Twiml is required.", 21205)
    to = params["To"]
    if not carrier.valid_number(to):
        raise RestError(400, f"Invalid 'To' Phone Number: {to}", 21211)
    if not carrier.valid_number(params["From"]):
        raise RestError(400, f"Invalid 'From' Phone Number: {params['From']}", 21212)
    events = params.get("StatusCallbackEvent") or []
    events = [events] if isinstance(events, str) else list(events)
    events = [e for spec in events for e in spec.split()]
    call = carrier._outbound_call(
        account,
        to=to,
        from_=params["From"],
        answer_url=params.get("Url", ""),
        answer_method=params.get("Method", "POST"),
        twiml=params.get("Twiml", ""),
        status_url=params.get("StatusCallback", ""),
        status_method=params.get("StatusCallbackMethod", "POST"),
        status_events=events,
        ring_timeout=int(params.get("Timeout") or 60),
        machine_detection=params.get("MachineDetection", ""),
    )
    body = call.twilio_json()
    call._start(call.engine.run_outbound)
    return 201, body


def _twilio_call(carrier, account, sid):
    call = carrier.call(sid)
    if call is None or call.account != account:
        raise RestError(
            404,
            f"The requested resource {TW_PREFIX}{account.account_id}/Calls/{sid}.json was not found",
            20404,
        )
    return call


@_route(TWILIO, "GET", TW + r"/Calls/(?P<sid>CA[0-9a-f]+)\.json")
def twilio_call_fetch(carrier, account, params, sid):
    return 200, _twilio_call(carrier, account, sid).twilio_json()


@_route(TWILIO, "POST", TW + r"/Calls/(?P<sid>CA[0-9a-f]+)\.json")
def twilio_call_update(carrier, account, params, sid):
    call = _twilio_call(carrier, account, sid)
    status = params.get("Status")
    if status:
        if status not in ("canceled", "completed"):
            raise RestError(400, f"Invalid Status: {status}", 21218)
        # Twilio answers with the call as the update left it: canceled, not still ringing.
        return 200, call.twilio_json(state=call.rest_end(status))
    if params.get("Url") or params.get("Twiml"):
        if call.is_final:
            raise RestError(400, "Call is not in-progress. Cannot redirect.", 21220)
        call.rest_redirect(params.get("Url", ""), params.get("Method", "POST"), twiml=params.get("Twiml", ""))
    return 200, call.twilio_json()


@_route(TWILIO, "POST", TW + r"/Messages\.json")
def twilio_message_create(carrier, account, params):
    _required(params, "To", provider=TWILIO)
    if not params.get("Body") and not params.get("MediaUrl"):
        raise RestError(400, "Message body is required.", 21602)
    if not params.get("From") and not params.get("MessagingServiceSid"):
        raise RestError(400, "A 'From' phone number is required.", 21603)
    if not carrier.valid_number(params["To"]):
        raise RestError(400, f"The 'To' number {params['To']} is not a valid phone number.", 21211)
    message = carrier._outbound_message(
        account,
        to=params["To"],
        from_=params.get("From", ""),
        body=params.get("Body", ""),
        status_url=params.get("StatusCallback", ""),
    )
    body = message.twilio_json()
    message.deliver()
    return 201, body


@_route(PLIVO, "GET", PL + r"/")
def plivo_account_fetch(carrier, account, params):
    return 200, {
        "account_type": "standard",
        "address": "",
        "api_id": plivo_uuid(),
        "auth_id": account.account_id,
        "auto_recharge": False,
        "billing_mode": "prepaid",
        "cash_credits": "10.00000",
        "city": "",
        "name": account.friendly_name,
        "resource_uri": f"/v1/Account/{account.account_id}/",
        "state": "",
        "timezone": "UTC",
    }


@_route(PLIVO, "POST", PL + r"/Call/")
def plivo_call_create(carrier, account, params):
    _required(params, "from", "to", "answer_url", provider=PLIVO)
    to = str(params["to"])
    if "<" in to:
        raise RestError(400, "bulk calls are not supported by the emulator")
    if not carrier.valid_number(to):
        raise RestError(400, "invalid destination number")
    call = carrier._outbound_call(
        account,
        to=to,
        from_=str(params["from"]),
        answer_url=params["answer_url"],
        answer_method=params.get("answer_method") or "POST",
        status_url=params.get("hangup_url") or "",
        status_method=params.get("hangup_method") or "POST",
        ring_url=params.get("ring_url") or "",
        ring_timeout=int(params.get("ring_timeout") or 120),
        machine_detection=str(params.get("machine_detection") or ""),
        machine_detection_url=params.get("machine_detection_url") or "",
    )
    call._start(call.engine.run_outbound)
    return 201, {"api_id": plivo_uuid(), "message": "call fired", "request_uuid": call.request_uuid}


def _plivo_call(carrier, account, uuid, *, live: bool):
    # Hang-ups and transfers name the CallUUID; cancelling a ringing call names the request_uuid.
    call = carrier.call(uuid) if live else carrier.call_by_request(uuid)
    if call is None or call.account != account or call.is_final or call.is_answered != live:
        raise RestError(404, "call not found" if live else "request not found")
    return call


@_route(PLIVO, "DELETE", PL + r"/Call/(?P<uuid>[0-9a-f-]+)/")
def plivo_call_hangup(carrier, account, params, uuid):
    _plivo_call(carrier, account, uuid, live=True).rest_end("completed")
    return 204, None


@_route(PLIVO, "DELETE", PL + r"/Request/(?P<uuid>[0-9a-f-]+)/")
def plivo_request_cancel(carrier, account, params, uuid):
    _plivo_call(carrier, account, uuid, live=False).rest_end("canceled")
    return 204, None


@_route(PLIVO, "POST", PL + r"/Call/(?P<uuid>[0-9a-f-]+)/")
def plivo_call_transfer(carrier, account, params, uuid):
    call = _plivo_call(carrier, account, uuid, live=True)
    legs = params.get("legs") or "aleg"
    if legs not in ("aleg", "bleg", "both"):
        raise RestError(400, "legs must be aleg, bleg or both")
    url = params.get("aleg_url") if legs != "bleg" else params.get("bleg_url")
    if not url:
        raise RestError(400, "aleg_url is required when legs is aleg")
    call.rest_redirect(url, params.get("aleg_method") or "POST")
    return 202, {"api_id": plivo_uuid(), "message": "call transferred"}


def _recording_media(extension: str | None) -> RestResponse:
    """Recordings are not kept; any recording plays a second of the emulator's own tone."""
    from .media import recording_wav

    # An MP3 is asked for by name; the emulator has no encoder, so it says what it sends.
    return RestResponse(status=200, body=recording_wav(), content_type="audio/wav")


@_route(TWILIO, "GET", TW + r"/Recordings/(?P<recording>RE[0-9a-f]{32})(?:\.(?P<extension>wav|mp3))?")
def twilio_recording_media(carrier, account, params, recording, extension=None):
    return 200, _recording_media(extension)


@_route(PLIVO, "GET", PL + r"/Recording/(?P<recording>[0-9a-f-]+)\.(?P<extension>mp3|wav)")
def plivo_recording_media(carrier, account, params, recording, extension):
    return 200, _recording_media(extension)


@_route(PLIVO, "POST", PL + r"/Message/")
def plivo_message_create(carrier, account, params):
    _required(params, "dst", "text", provider=PLIVO)
    if not params.get("src") and not params.get("powerpack_uuid"):
        raise RestError(400, "src is a required parameter")
    if not carrier.valid_number(str(params["dst"])):
        raise RestError(400, "invalid dst number")
    message = carrier._outbound_message(
        account,
        to=str(params["dst"]),
        from_=str(params.get("src", "")),
        body=params["text"],
        status_url=params.get("url") or "",
    )
    message.deliver()
    return 202, {"api_id": plivo_uuid(), "message": "message(s) queued", "message_uuid": [message.sid]}


@_route(PLIVO, "POST", PL + r"/JWT/Token/")
def plivo_token_create(carrier, account, params):
    import jwt  # PyJWT ships with both SDKs

    claims = {k: params[k] for k in ("iss", "sub", "nbf", "exp", "app") if params.get(k)}
    claims["per"] = params.get("per") or {}
    token = jwt.encode(claims, account.auth_token, algorithm="HS256", headers={"cty": "plivo;v=1"})
    return 200, {"api_id": plivo_uuid(), "token": token}
