"""Twilio: TwiML rendering, X-Twilio-Signature checks, webhook parsing and the REST calls we use."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import requests
from django.conf import settings
from django.http import HttpRequest
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from .. import instructions as ins
from .base import (
    CallLookup,
    Provider,
    ProviderEvent,
    lookup_seconds,
    public_url,
    session_pooled,
)
from .errors import ProviderError, classify, network_error, rewrite_base

if TYPE_CHECKING:
    from ..webhooks.parsing import WebhookFields

logger = logging.getLogger(__name__)

# Twilio codes that are permanent whatever the HTTP status says.
PERMANENT_CODES = frozenset(
    {
        20003,  # authentication failed
        20404,  # resource not found
        21211,  # invalid To number
        21212,  # invalid From number
        21214,  # To number cannot be reached
        21215,  # geo permission: calls to this number not allowed
        21217,  # To number not valid
        21401,  # invalid phone number
        21408,  # region not enabled
        21606,  # From cannot send SMS
        21608,  # trial account, unverified To
        21610,  # recipient replied STOP
        21612,  # To not routable
        21614,  # To not SMS-capable
        21635,  # landline
    }
)
RETRYABLE_CODES = frozenset({20429, 20500, 20503})

ANSWERED_BY = {
    "human": "human",
    "unknown": "unknown",
    "fax": "machine",
    "machine_start": "machine",
    "machine_end_beep": "machine",
    "machine_end_silence": "machine",
    "machine_end_other": "machine",
}
# <Enqueue> action QueueResult -> neutral hold_result.
QUEUE_RESULTS = {
    "bridged": "bridged",
    "bridging-in-process": "bridged",
    "hangup": "hangup",
    "leave": "left",
    "redirected": "moved",
    "redirected-from-bridged": "moved",
    "queue-full": "error",
    "system-error": "error",
    "error": "error",
}
CALL_STATUSES = {
    status: status
    for status in (
        "queued",
        "initiated",
        "ringing",
        "in-progress",
        "completed",
        "busy",
        "failed",
        "no-answer",
        "canceled",
    )
}
MESSAGE_STATUSES = {
    status: status
    for status in (
        "accepted", "scheduled", "queued", "sending", "sent", "failed", "delivered", "undelivered",
        "receiving", "received", "read", "canceled", "partially_delivered",
    )
}  # fmt: skip
DIRECTIONS = {"inbound": "inbound", "outbound-api": "outbound", "outbound-dial": "outbound"}
# The call resource's status, in CallLookup's words ("initiated" is an old name for queued).
LOOKUP_STATUSES = {
    "queued": "queued",
    "initiated": "queued",
    "ringing": "ringing",
    "in-progress": "in-progress",
    "completed": "completed",
    "busy": "busy",
    "failed": "failed",
    "no-answer": "no-answer",
    "canceled": "canceled",
}
# Statuses after which a call can no longer be cancelled or hung up.
FINAL_STATUSES = {"completed", "canceled", "busy", "failed", "no-answer"}
# "Call is not in-progress" / not found: the leg already ended, which is what end_leg wants.
ALREADY_ENDED_CODES = {20404, 21220}


def _found(call):
    """The fetched call resource, or None for a 404: "not there" is an answer, not a failure."""
    try:
        return call.fetch()
    except TwilioRestException as exc:
        if exc.status == 404:
            return None
        raise


def _classify(status: int | None, code: int | None, message: str) -> ProviderError:
    return classify(
        provider="twilio",
        status=status,
        code=code,
        message=message,
        permanent_codes=PERMANENT_CODES,
        retryable_codes=RETRYABLE_CODES,
    )


class BaseUrlHttpClient(TwilioHttpClient):
    """TwilioHttpClient that always has a timeout and may send requests to another base URL.

    Rewriting the prepared URL (instead of setting client.api.base_url) survives TWILIO_EDGE /
    TWILIO_REGION, which rewrite the host name inside the SDK.
    """

    def __init__(self, *, base_url: str, timeout: float):
        super().__init__(timeout=timeout)
        self.base_url = base_url
        session_pooled(self.session)

    def request(self, method, url, *args, **kwargs):
        return super().request(method, rewrite_base(url, self.base_url), *args, **kwargs)


class TwilioProvider(Provider):
    name = "twilio"
    label = "Twilio"
    media_hosts = ("api.twilio.com",)
    api_base_setting = "TWILIO_API_BASE_URL"
    signature_header = "X-Twilio-Signature"
    call_id_field = "CallSid"
    account_id_field = "AccountSid"
    account_id_label = "Account SID"
    auth_token_label = "Auth Token"  # noqa: S105 (a form label)
    account_id_pattern = r"^AC[0-9a-fA-F]{32}$"
    xml_content_type = "text/xml"

    # --- webhooks -------------------------------------------------------------------------
    def verify(self, request: HttpRequest) -> bool:
        signature = request.headers.get(self.signature_header, "")
        token = self.account.auth_token
        if not signature or not token:
            return False
        # The validator also tries the URL with and without the default port.
        return RequestValidator(token).validate(public_url(request), request.POST, signature)

    def event_from(self, fields: WebhookFields) -> ProviderEvent:
        return ProviderEvent(
            call_id=fields.text("CallSid"),
            from_number=fields.text("From"),
            to_number=fields.text("To"),
            digits=fields.digits("Digits"),
            call_status=fields.choice("CallStatus", CALL_STATUSES),
            queue_time_seconds=fields.seconds("QueueTime"),
            answered_by=fields.choice("AnsweredBy", ANSWERED_BY, unknown="unknown"),
            recording_url=fields.text("RecordingUrl"),
            recording_duration_seconds=fields.seconds("RecordingDuration"),
            duration_seconds=fields.seconds("CallDuration", "DialCallDuration"),
            message_id=fields.text("MessageSid"),
            message_status=fields.choice("MessageStatus", MESSAGE_STATUSES)
            or fields.choice("SmsStatus", MESSAGE_STATUSES),
            body=fields.text("Body"),
            direction=fields.choice("Direction", DIRECTIONS),
            hold_result=fields.choice("QueueResult", QUEUE_RESULTS),
            raw=fields.data,
        )

    def xml_document(self) -> VoiceResponse:
        return VoiceResponse()

    def xml_string(self, document: VoiceResponse) -> str:
        return str(document)

    def _render_prompt(self, parent, prompt) -> None:
        if isinstance(prompt, ins.Say):
            parent.say(prompt.text, language=prompt.language, loop=prompt.loop)
        elif isinstance(prompt, ins.Play):
            parent.play(prompt.url, loop=prompt.loop)
        elif isinstance(prompt, ins.Pause):
            parent.pause(length=prompt.seconds)
        else:  # pragma: no cover - the dataclasses make this unreachable
            raise TypeError(f"not a prompt: {type(prompt).__name__}")

    def _render_one(self, response: VoiceResponse, instruction) -> None:
        match instruction:
            case ins.Say() | ins.Play() | ins.Pause():
                self._render_prompt(response, instruction)
            case ins.Gather():
                gather = Gather(
                    input="dtmf",
                    num_digits=instruction.num_digits,
                    timeout=instruction.timeout_seconds,
                    action=instruction.action_url,
                    method="POST",
                )
                for prompt in instruction.prompts:
                    self._render_prompt(gather, prompt)
                response.append(gather)
            case ins.Redirect():
                response.redirect(instruction.url, method="POST")
            case ins.Hold():
                response.enqueue(
                    instruction.room,
                    wait_url=instruction.wait_url,
                    wait_url_method="POST",
                    action=instruction.action_url,
                    method="POST",
                )
            case ins.Bridge():
                options = {}
                if instruction.action_url:
                    options.update(action=instruction.action_url, method="POST")
                if instruction.record:
                    options["record"] = "record-from-answer-dual"
                    if instruction.recording_url:
                        options.update(
                            recording_status_callback=instruction.recording_url,
                            recording_status_callback_method="POST",
                        )
                dial = Dial(**options)
                connected = {"url": instruction.connected_url, "method": "POST"}
                dial.queue(instruction.room, **(connected if instruction.connected_url else {}))
                response.append(dial)
            case ins.Record():
                response.record(
                    action=instruction.action_url,
                    method="POST",
                    max_length=instruction.max_length_seconds,
                    play_beep=instruction.play_beep,
                    timeout=instruction.timeout_seconds,
                    finish_on_key="#",
                )
            case ins.Reject():
                response.reject(reason="busy" if instruction.reason == "busy" else "rejected")
            case ins.Hangup():
                response.hangup()
            case _:
                raise TypeError(f"Twilio cannot render {type(instruction).__name__}")

    # --- REST -----------------------------------------------------------------------------
    def client(self) -> Client:
        # One client per bound provider: legs started together share its connection pool.
        if getattr(self, "_client", None) is None:
            self._client = self._new_client()
        return self._client

    def _new_client(self) -> Client:
        if not self.account.account_id or not self.account.auth_token:
            raise ProviderError("twilio: the account has no Account SID or Auth Token", permanent=True)
        http_client = BaseUrlHttpClient(
            base_url=settings.TWILIO_API_BASE_URL, timeout=settings.PROVIDER_HTTP_TIMEOUT
        )
        # environment={} so TWILIO_* variables of the process cannot override this account.
        return Client(
            self.account.account_id, self.account.auth_token, http_client=http_client, environment={}
        )

    def _call(self, action: str, fn):
        try:
            return fn()
        except TwilioRestException as exc:
            error = _classify(exc.status, exc.code, exc.msg)
        except TwilioServiceException as exc:
            error = _classify(exc.status, exc.code, exc.detail or exc.title)
        except requests.RequestException as exc:
            error = network_error("twilio", exc)
        except TwilioException as exc:
            error = ProviderError(f"twilio: {type(exc).__name__}", permanent=True)
        logger.warning("twilio %s failed: %s (permanent=%s)", action, error.message, error.permanent)
        raise error

    def start_leg(self, *, to, from_, answer_url, status_url, ring_timeout_seconds, machine_detection=True):
        options = {}
        if machine_detection:
            options["machine_detection"] = "Enable"
        call = self._call(
            "start_leg",
            lambda: self.client().calls.create(
                to=to,
                from_=from_,
                url=answer_url,
                method="POST",
                status_callback=status_url,
                status_callback_method="POST",
                # Only what leg_status acts on: ringing, and the end (Twilio's "completed" event
                # carries busy, no-answer, canceled and failed too). The answer comes to ``url``.
                status_callback_event=["ringing", "completed"],
                timeout=ring_timeout_seconds,
                **options,
            ),
        )
        return call.sid

    def end_leg(self, call_id: str, *, request_id: str = "", ringing: bool = False) -> None:
        """Cancel a leg that is still ringing, or hang up one that was answered (one CallSid).

        Twilio ignores status=canceled on an answered call, so a leg still live after the cancel
        is completed. A leg that already ended counts as done.
        """
        client = self.client()
        try:
            call = self._call("end_leg", lambda: client.calls(call_id).update(status="canceled"))
        except ProviderError as exc:
            if exc.code in ALREADY_ENDED_CODES or exc.status == 404:
                return
            if exc.permanent and exc.status == 400:
                call = None  # some carriers refuse "canceled" on a live call: hang it up instead
            else:
                raise
        if call is not None and call.status in FINAL_STATUSES:
            return
        try:
            self._call("end_leg", lambda: client.calls(call_id).update(status="completed"))
        except ProviderError as exc:
            if exc.code in ALREADY_ENDED_CODES or exc.status == 404:
                return
            raise

    def transfer(self, call_id: str, url: str) -> None:
        self._call("transfer", lambda: self.client().calls(call_id).update(url=url, method="POST"))

    def call_lookup(self, call_id: str, *, request_id: str = "") -> CallLookup:
        """The call resource, one GET (a leg has one CallSid whatever its state)."""
        if not call_id:
            return CallLookup("not-found")
        call = self._call("call_lookup", lambda: _found(self.client().calls(call_id)))
        if call is None:
            return CallLookup("not-found")
        status = LOOKUP_STATUSES.get(call.status or "")
        if status is None:  # a word this code does not know: decide nothing on it
            raise ProviderError(f"twilio: unknown call status {call.status!r:.40}", permanent=False)
        return CallLookup(status, duration_seconds=lookup_seconds(call.duration))

    def send_sms(self, *, to, from_, body, status_url) -> str:
        message = self._call(
            "send_sms",
            lambda: self.client().messages.create(to=to, from_=from_, body=body, status_callback=status_url),
        )
        return message.sid

    def check_credentials(self) -> str:
        client = self.client()
        account = self._call(
            "check_credentials", lambda: client.api.v2010.accounts(client.account_sid).fetch()
        )
        return account.friendly_name or account.sid

    def softphone_token(self, identity: str) -> str:
        account = self.account
        if not (account.api_key_sid and account.api_key_secret and account.twiml_app_sid):
            raise ProviderError(
                "twilio: browser calling needs an API Key SID, API Key Secret and TwiML App SID",
                permanent=True,
            )
        token = AccessToken(
            account.account_id, account.api_key_sid, account.api_key_secret, identity=identity, ttl=3600
        )
        token.add_grant(VoiceGrant(outgoing_application_sid=account.twiml_app_sid, incoming_allow=True))
        return token.to_jwt()

    # --- console set-up ---------------------------------------------------------------------
    console_template = "telephony/console/twilio.html"
    webrtc_template = "telephony/console/twilio_webrtc.html"
    console_paths = ("incoming", "status", "sms_incoming", "webrtc_incoming")
