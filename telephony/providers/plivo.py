"""Plivo: Plivo XML rendering, X-Plivo-Signature-V3 checks, webhook parsing and the REST calls we use."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import plivo
import requests
from django.conf import settings
from django.http import HttpRequest
from plivo import exceptions as plivo_errors
from plivo import plivoxml
from plivo.utils.signature_v3 import validate_v3_signature

from .. import instructions as ins
from .base import (
    CallLookup,
    Provider,
    ProviderEvent,
    lookup_seconds,
    public_url,
    session_pooled,
)
from .errors import ProviderError, classify, network_error, retryable_status, rewrite_base

if TYPE_CHECKING:
    from ..webhooks.parsing import WebhookFields

logger = logging.getLogger(__name__)

# Plivo's CallStatus words in neutral terms.
CALL_STATUS = {
    "ringing": "ringing",
    "in-progress": "in-progress",
    "completed": "completed",
    "busy": "busy",
    "failed": "failed",
    "timeout": "no-answer",
    "no-answer": "no-answer",
    "no_answer": "no-answer",
    "cancel": "canceled",
    "canceled": "canceled",
}
MESSAGE_STATUSES = {
    status: status
    for status in ("queued", "sent", "failed", "delivered", "undelivered", "rejected", "received", "read")
}
MACHINE = {"true": "machine", "false": "human"}
DIRECTIONS = {"inbound": "inbound", "outbound": "outbound"}
# A live call's call_status; anything else Plivo lists as live is still someone on the line.
LIVE_STATUSES = {"ringing": "ringing", "in-progress": "in-progress", "queued": "queued"}
# Plivo's hangup cause codes for a call cancelled by the API before it was answered.
CANCELED_CAUSE_CODES = range(1000, 1100)


def _found(fetch, identifier: str):
    """What ``fetch`` answers, or None for a 404: "not there" is an answer here, not a failure."""
    try:
        return fetch(identifier)
    except plivo_errors.ResourceNotFoundError:
        return None


def _live_status(found) -> str:
    return LIVE_STATUSES.get(str(getattr(found, "call_status", "") or ""), "in-progress")


def _ended_lookup(record) -> CallLookup:
    """A call detail record in CallLookup's words: answered calls completed, the others by their
    hangup cause (Plivo's CDR has no status word of its own for them)."""
    duration = lookup_seconds(getattr(record, "call_duration", None))
    if getattr(record, "answer_time", None):
        return CallLookup("completed", duration_seconds=duration)
    cause = str(getattr(record, "hangup_cause_name", "") or "").lower()
    code = lookup_seconds(getattr(record, "hangup_cause_code", None))
    if code in CANCELED_CAUSE_CODES or "cancel" in cause:
        status = "canceled"
    elif "busy" in cause or "reject" in cause:
        status = "busy"
    elif "no answer" in cause or "timeout" in cause:
        status = "no-answer"
    else:
        status = "failed"
    return CallLookup(status, duration_seconds=duration)


# The SDK turns these statuses into these exception classes; keep the status for the caller.
EXCEPTION_STATUS = {
    plivo_errors.ValidationError: 400,
    plivo_errors.AuthenticationError: 401,
    plivo_errors.ForbiddenError: 403,
    plivo_errors.ResourceNotFoundError: 404,
    plivo_errors.InvalidRequestError: 422,
    plivo_errors.PlivoServerError: 500,
}


def e164(number: str) -> str:
    """Plivo writes numbers without the leading "+" in webhooks; the app speaks E.164."""
    number = (number or "").strip()
    if not number or number.startswith("+") or not number.isdigit():
        return number  # empty, already E.164, or a SIP/endpoint address
    return "+" + number


def plivo_number(number: str) -> str:
    """Plivo's REST API takes numbers as digits without "+"."""
    return number.strip().removeprefix("+")


class BaseUrlPlivoClient(plivo.RestClient):
    """plivo.RestClient with a configurable base URL and no silent retries.

    The SDK resets ``base_uri`` to its module constants on every request (and switches to
    fallback hosts after a 5xx), so the base URL is rewritten on the prepared request instead.
    A 429 or 5xx is raised here, before the SDK prints and retries on its own: retries are the
    caller's decision, with backoff, and the SDK would lose the status code anyway.
    """

    def __init__(self, auth_id: str, auth_token: str, *, base_url: str, timeout: float):
        super().__init__(auth_id, auth_token, timeout=timeout)
        self._base_url = base_url
        session_pooled(self.session)

    def send_request(self, request, **kwargs):
        request.url = rewrite_base(request.url, self._base_url)
        response = super().send_request(request, **kwargs)
        if retryable_status(response.status_code):
            try:
                message = response.json().get("error", "")
            except ValueError:
                message = ""
            raise classify(provider="plivo", status=response.status_code, code=None, message=str(message))
        return response


class PlivoProvider(Provider):
    name = "plivo"
    label = "Plivo"
    media_hosts = ("media.plivo.com",)
    api_base_setting = "PLIVO_API_BASE_URL"
    signature_header = "X-Plivo-Signature-V3"
    nonce_header = "X-Plivo-Signature-V3-Nonce"
    call_id_field = "CallUUID"
    account_id_field = ""
    account_id_label = "Auth ID"
    auth_token_label = "Auth Token"  # noqa: S105 (a form label)
    account_id_pattern = r"^(MA|SA)[A-Z0-9]{18}$"
    xml_content_type = "application/xml"

    # --- webhooks -------------------------------------------------------------------------
    def verify(self, request: HttpRequest) -> bool:
        header = request.headers.get(self.signature_header, "")
        nonce = request.headers.get(self.nonce_header, "")
        token = self.account.auth_token
        if not header or not nonce or not token:
            return False
        # Plivo may send several signatures (one per active token during a rotation).
        signatures = ",".join(part.strip() for part in header.split(",") if part.strip())
        params = {key: values[0] if len(values) == 1 else values for key, values in request.POST.lists()}
        try:
            return bool(
                validate_v3_signature(
                    request.method.upper(), public_url(request), nonce, token, signatures, params
                )
            )
        except (plivo_errors.PlivoRestError, ValueError, TypeError):
            return False  # the SDK's argument checks refused something in the request

    def event_from(self, fields: WebhookFields) -> ProviderEvent:
        return ProviderEvent(
            call_id=fields.text("CallUUID"),
            request_id=fields.text("RequestUUID"),
            from_number=e164(fields.text("From")),
            to_number=e164(fields.text("To")),
            digits=fields.digits("Digits"),
            call_status=fields.choice("CallStatus", CALL_STATUS),
            queue_time_seconds=None,
            answered_by=fields.choice("Machine", MACHINE),
            recording_url=fields.text("RecordUrl") or fields.text("RecordingUrl"),
            recording_duration_seconds=fields.seconds("RecordingDuration"),
            duration_seconds=fields.seconds("Duration", "BillDuration"),
            message_id=fields.text("MessageUUID"),
            message_status=fields.choice("Status", MESSAGE_STATUSES),
            body=fields.text("Text"),
            direction=fields.choice("Direction", DIRECTIONS),
            hold_result="notification" if fields.text("ConferenceAction") else "",
            raw=fields.data,
        )

    def xml_document(self) -> plivoxml.ResponseElement:
        return plivoxml.ResponseElement()

    def xml_string(self, document: plivoxml.ResponseElement) -> str:
        return document.to_string(pretty=False)

    def _render_prompt(self, parent, prompt) -> None:
        if isinstance(prompt, ins.Say):
            parent.add_speak(prompt.text, voice="WOMAN", language=prompt.language, loop=prompt.loop)
        elif isinstance(prompt, ins.Play):
            parent.add_play(prompt.url, loop=prompt.loop)
        elif isinstance(prompt, ins.Pause):
            parent.add_wait(length=prompt.seconds)
        else:  # pragma: no cover - the dataclasses make this unreachable
            raise TypeError(f"not a prompt: {type(prompt).__name__}")

    def _render_one(self, response, instruction) -> None:
        match instruction:
            case ins.Say() | ins.Play() | ins.Pause():
                self._render_prompt(response, instruction)
            case ins.Gather():
                digits = plivoxml.GetDigitsElement(
                    action=instruction.action_url,
                    method="POST",
                    num_digits=instruction.num_digits,
                    timeout=instruction.timeout_seconds,
                    retries=1,
                    redirect=True,
                )
                for prompt in instruction.prompts:
                    self._render_prompt(digits, prompt)
                response.add(digits)
            case ins.Redirect():
                response.add_redirect(instruction.url, method="POST")
            case ins.Hold():
                # The caller waits alone, hearing wait_sound (Plivo fetches it with POST), until the
                # volunteer's Bridge starts the conference; the caller leaving ends it. No
                # callbackUrl on the caller's side: the call's own status callback reports the
                # end; the Bridge's callbackUrl says when the volunteer entered.
                response.add(
                    plivoxml.ConferenceElement(
                        instruction.room,
                        wait_sound=instruction.wait_url,
                        start_conference_on_enter=False,
                        end_conference_on_exit=True,
                        stay_alone=True,
                        enter_sound="",
                        exit_sound="",
                    )
                )
            case ins.Bridge():
                options = {}
                if instruction.connected_url:
                    options.update(callback_url=instruction.connected_url, callback_method="POST")
                if instruction.record:
                    options.update(record=True, record_file_format="mp3")
                    if instruction.recording_url:
                        # action is notified (redirect=false keeps the call in the conference) with
                        # the recording's RecordUrl once the member leaves.
                        options.update(action=instruction.recording_url, method="POST", redirect=False)
                response.add(
                    plivoxml.ConferenceElement(
                        instruction.room,
                        start_conference_on_enter=True,
                        end_conference_on_exit=True,
                        # A volunteer who arrives after the caller left must not sit in silence.
                        stay_alone=False,
                        enter_sound="",
                        exit_sound="",
                        **options,
                    )
                )
            case ins.Record():
                response.add_record(
                    action=instruction.action_url,
                    method="POST",
                    max_length=instruction.max_length_seconds,
                    play_beep=instruction.play_beep,
                    timeout=instruction.timeout_seconds,
                    finish_on_key="#",
                    file_format="mp3",
                    redirect=True,
                )
            case ins.Reject():
                response.add_hangup(reason="busy" if instruction.reason == "busy" else "rejected")
            case ins.Hangup():
                response.add_hangup()
            case _:
                raise TypeError(f"Plivo cannot render {type(instruction).__name__}")

    # --- REST -----------------------------------------------------------------------------
    def client(self) -> BaseUrlPlivoClient:
        # One client per bound provider: legs started together share its connection pool.
        if getattr(self, "_client", None) is None:
            self._client = self._new_client()
        return self._client

    def _new_client(self) -> BaseUrlPlivoClient:
        if not self.account.account_id or not self.account.auth_token:
            raise ProviderError("plivo: the account has no Auth ID or Auth Token", permanent=True)
        try:
            return BaseUrlPlivoClient(
                self.account.account_id,
                self.account.auth_token,
                base_url=settings.PLIVO_API_BASE_URL,
                timeout=settings.PROVIDER_HTTP_TIMEOUT,
            )
        except plivo_errors.AuthenticationError as exc:
            raise ProviderError(
                "plivo: the Auth ID is not valid (MA… or SA…, 20 characters)", permanent=True
            ) from exc

    def _call(self, action: str, fn):
        try:
            return fn()
        except ProviderError as exc:  # raised by BaseUrlPlivoClient for 429/5xx
            error = exc
        except plivo_errors.PlivoRestError as exc:
            status = next((code for cls, code in EXCEPTION_STATUS.items() if isinstance(exc, cls)), None)
            error = classify(provider="plivo", status=status, code=None, message=str(exc))
            if status is None:
                error.permanent = True  # other non-2xx the SDK did not name: not worth retrying
        except requests.RequestException as exc:
            error = network_error("plivo", exc)
        logger.warning("plivo %s failed: %s (permanent=%s)", action, error.message, error.permanent)
        raise error

    def start_leg(self, *, to, from_, answer_url, status_url, ring_timeout_seconds, machine_detection=True):
        options = {}
        if machine_detection:
            # "true" without a machine_detection_url: detection is synchronous, so the answer URL
            # itself carries Machine=true/false and a voicemail box is never offered the call.
            options.update(machine_detection="true")
        response = self._call(
            "start_leg",
            lambda: self.client().calls.create(
                from_=plivo_number(from_),
                to_=plivo_number(to),
                answer_url=answer_url,
                answer_method="POST",
                hangup_url=status_url,
                hangup_method="POST",
                ring_url=status_url,
                ring_method="POST",
                ring_timeout=int(ring_timeout_seconds),
                **options,
            ),
        )
        return response.request_uuid

    def end_leg(self, call_id: str, *, request_id: str = "", ringing: bool = False) -> None:
        """Hang up an answered call (by CallUUID), or cancel one still ringing (by the
        request_uuid that start_leg returned); Plivo answers 404 to the wrong one, so the one
        the leg's last known state calls for goes first (every losing leg of a fan-out rings)."""
        client = self.client()
        attempts = [(client.calls.delete, call_id), (client.calls.cancel, request_id or call_id)]
        if ringing:
            attempts.reverse()
        for method, identifier in attempts:
            try:
                self._call("end_leg", lambda method=method, identifier=identifier: method(identifier))
                return
            except ProviderError as exc:
                if exc.status != 404:
                    raise
        # Neither live nor ringing: it already ended, which is what the caller wanted.

    def transfer(self, call_id: str, url: str) -> None:
        self._call(
            "transfer",
            lambda: self.client().calls.transfer(call_id, legs="aleg", aleg_url=url, aleg_method="POST"),
        )

    def call_lookup(self, call_id: str, *, request_id: str = "") -> CallLookup:
        """Plivo shows a call in one of three places, asked in turn until one knows it: its
        detail record once it ended (by CallUUID), the live calls (answered, by CallUUID), and
        the queued calls (placed and not answered yet, by the request_uuid start_leg returned).
        Each answers 404 for a call that is not there."""
        client = self.client()
        places = [
            (client.calls.get, call_id, _ended_lookup),
            (client.live_calls.get, call_id, lambda found: CallLookup(_live_status(found))),
            (client.queued_calls.get, request_id or call_id, lambda found: CallLookup("queued")),
        ]
        for fetch, identifier, meaning in places:
            if identifier:
                found = self._call(
                    "call_lookup", lambda fetch=fetch, identifier=identifier: _found(fetch, identifier)
                )
                if found is not None:
                    return meaning(found)
        return CallLookup("not-found")

    def send_sms(self, *, to, from_, body, status_url) -> str:
        response = self._call(
            "send_sms",
            lambda: self.client().messages.create(
                src=plivo_number(from_), dst=plivo_number(to), text=body, url=status_url, method="POST"
            ),
        )
        uuids = response.message_uuid
        return uuids[0] if isinstance(uuids, list) else uuids

    def check_credentials(self) -> str:
        account = self._call("check_credentials", lambda: self.client().account.get())
        return getattr(account, "name", "") or self.account.account_id_short

    def softphone_token(self, identity: str) -> str:
        """A browser-SDK token minted by Plivo's REST API (locally signed JWTs are rejected)."""
        now = int(time.time())
        options = {"app": self.account.plivo_app_id} if self.account.plivo_app_id else {}
        response = self._call(
            "softphone_token",
            lambda: self.client().token.create(
                iss=self.account.account_id,
                sub=identity,
                nbf=str(now),
                exp=str(now + 3600),
                incoming_allow=True,
                outgoing_allow=True,
                **options,
            ),
        )
        return response.token

    # --- console set-up ---------------------------------------------------------------------
    console_template = "telephony/console/plivo.html"
    webrtc_template = "telephony/console/plivo_webrtc.html"
    # Public paths this provider's console needs (Plivo's browser SDK calls reach the app through
    # the XML application's Answer URL, so it has no separate WebRTC URL).
    console_paths = ("incoming", "status", "sms_incoming")
