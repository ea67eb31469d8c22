"""What every provider class offers, and the public webhook paths the carriers are told to call.

A provider instance is bound to one ProviderAccount (``provider.account``). The rest of the app
talks to it only through this interface, so nothing outside ``telephony/providers/`` branches on
a provider's name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.http import HttpRequest, HttpResponse

from ..instructions import Script
from .errors import ProviderError, network_error, rewrite_base

if TYPE_CHECKING:
    from ..models import ProviderAccount
    from ..webhooks.parsing import WebhookFields

# Stable paths the provider consoles point at; the credentials page shows them. The routes are in
# telephony/webhooks/urls.py.
PUBLIC_WEBHOOK_PATHS = {
    "incoming": "/telephony/incoming",
    "status": "/telephony/status",
    "webrtc_incoming": "/telephony/webrtc-incoming",
    "sms_incoming": "/telephony/sms/incoming",
}


@dataclass(frozen=True)
class ProviderEvent:
    """A webhook's form fields in neutral names. ``body`` is an SMS text: never log it."""

    call_id: str = ""
    # Plivo: the request_uuid of a leg we placed (cancelling it while it rings needs it).
    request_id: str = ""
    from_number: str = ""
    to_number: str = ""
    digits: str = ""
    call_status: str = ""
    queue_time_seconds: int | None = None
    answered_by: str = ""
    recording_url: str = ""
    recording_duration_seconds: int | None = None
    duration_seconds: int | None = None
    message_id: str = ""
    message_status: str = ""
    body: str = ""
    direction: str = ""
    # How a caller left a hold: bridged, hangup, left, moved (REST), error; "notification" for
    # a provider's hold event that needs no answer (Plivo conference enter/exit).
    hold_result: str = ""
    raw: Any = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:  # numbers and SMS text stay out of logs and tracebacks
        return f"ProviderEvent(call_id={self.call_id!r}, call_status={self.call_status!r})"


LOOKUP_LIVE_STATUSES = frozenset({"queued", "ringing", "in-progress"})
LOOKUP_ENDED_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})


@dataclass(frozen=True)
class CallLookup:
    """What the provider's REST API says of one call right now, in neutral words.

    ``status``: queued, ringing or in-progress (live); completed, busy, failed, no-answer or
    canceled (ended); or not-found (the provider knows no such call, live or ended).
    ``duration_seconds``: the carrier's length of an ended call, when it says.
    """

    status: str
    duration_seconds: int | None = None

    @property
    def live(self) -> bool:
        return self.status in LOOKUP_LIVE_STATUSES

    @property
    def ended(self) -> bool:
        """Nobody is on this call any more (a call the provider does not know has nobody on it)."""
        return not self.live


def lookup_seconds(value: Any) -> int | None:
    """A duration from a provider's REST answer (a number or a numeric string), else None."""
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        return None
    return seconds if seconds >= 0 else None


# Legs of one call are started at once, this many at most (telephony.ringing.MAX_PARALLEL_LEGS).
REST_CONNECTIONS = 64


def session_pooled(session: requests.Session) -> requests.Session:
    """Keep enough connections to the provider for a whole fan-out. The SDKs keep 6 (Twilio) or
    10 (Plivo); past that, every other leg of a big fan-out would open and throw away a
    connection of its own (a TLS handshake per leg)."""
    for scheme in ("https://", "http://"):
        session.mount(scheme, requests.adapters.HTTPAdapter(pool_maxsize=REST_CONNECTIONS))
    return session


def public_url(request: HttpRequest) -> str:
    """The URL the carrier called and signed: the public base, not the host the app saw.

    Behind a TLS proxy the app sees http://127.0.0.1:8000/...; the carrier signed
    https://hotline.example.org/..., so the request's own host is never used.
    """
    return settings.PUBLIC_BASE_URL.rstrip("/") + request.get_full_path()


class Provider:
    """Base class. Subclasses set ``name`` and the class attributes and implement every method."""

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    # The request header whose presence identifies this provider's webhooks.
    signature_header: ClassVar[str] = ""
    # Form field that carries the provider's call id / account id on webhooks.
    call_id_field: ClassVar[str] = ""
    account_id_field: ClassVar[str] = ""
    # Labels the credentials form and page use for this provider's fields.
    account_id_label: ClassVar[str] = "Account ID"
    auth_token_label: ClassVar[str] = "Auth token"  # noqa: S105 (a form label)
    xml_content_type: ClassVar[str] = "application/xml"
    # What a well-formed account id looks like (the credentials form checks it).
    account_id_pattern: ClassVar[str] = r"^\S+$"

    def __init__(self, account: ProviderAccount):
        self.account = account

    def __repr__(self) -> str:
        return f"<{type(self).__name__} account={self.account.pk}>"

    # --- webhooks -------------------------------------------------------------------------
    def verify(self, request: HttpRequest) -> bool:
        raise NotImplementedError

    def event_from(self, fields: WebhookFields) -> ProviderEvent:
        """The webhook's checked fields in neutral names (telephony.webhooks.parsing.webhook_event
        checks them, calls this once per request and keeps the event on the request)."""
        raise NotImplementedError

    def render(self, script: Script) -> HttpResponse:
        # An explicit content type gets no charset from Django; say UTF-8 or accents break.
        return HttpResponse(self.render_xml(script), content_type=f"{self.xml_content_type}; charset=utf-8")

    def render_xml(self, script: Script) -> str:
        document = self.xml_document()
        for instruction in script.instructions:
            self._render_one(document, instruction)
        return self.xml_string(document)

    # Each provider supplies its SDK's response element, serialisation and one verb renderer.
    def xml_document(self):
        raise NotImplementedError

    def xml_string(self, document) -> str:
        raise NotImplementedError

    def _render_one(self, document, instruction) -> None:
        raise NotImplementedError

    # --- REST -----------------------------------------------------------------------------
    def start_leg(
        self,
        *,
        to: str,
        from_: str,
        answer_url: str,
        status_url: str,
        ring_timeout_seconds: int,
        machine_detection: bool = True,
    ) -> str:
        raise NotImplementedError

    def end_leg(self, call_id: str, *, request_id: str = "", ringing: bool = False) -> None:
        """Cancel a ringing leg or hang up an answered one. ``call_id`` is the id the leg's
        webhooks carry, ``request_id`` what start_leg returned (they differ on Plivo).
        ``ringing``: last known ringing, so the cancel is tried first (it may have been answered
        since, which is handled too)."""
        raise NotImplementedError

    def transfer(self, call_id: str, url: str) -> None:
        raise NotImplementedError

    def call_lookup(self, call_id: str, *, request_id: str = "") -> CallLookup:
        """Ask the provider where one call is now (the sweep does, when callbacks went missing).

        ``call_id`` as the call's webhooks carry it; ``request_id`` what start_leg returned, for
        a leg (Plivo knows a leg that has not answered yet by that one only). A call the provider
        does not know is ``not-found``; any other failure is a ProviderError.
        """
        raise NotImplementedError

    def send_sms(self, *, to: str, from_: str, body: str, status_url: str) -> str:
        raise NotImplementedError

    def check_credentials(self) -> str:
        raise NotImplementedError

    # Hosts a recording URL of this provider may point at, and the setting that sends API
    # traffic elsewhere (the emulator, a proxy): recordings are fetched the same way.
    media_hosts: ClassVar[tuple[str, ...]] = ()
    api_base_setting: ClassVar[str] = ""

    def recording_fetch(self, url: str):
        """Stream a recording with this account's credentials (a requests.Response).

        Only the provider's own media hosts are fetched, so a stored URL cannot be turned into
        a request to anywhere else.
        """
        parts = urlsplit(url)
        if parts.scheme != "https" or parts.hostname not in self.media_hosts:
            raise ProviderError("That is not a recording URL of this provider.", permanent=True)
        target = rewrite_base(url, getattr(settings, self.api_base_setting, ""))
        try:
            response = requests.get(
                target,
                auth=(self.account.account_id, self.account.auth_token),
                timeout=settings.PROVIDER_HTTP_TIMEOUT,
                stream=True,
            )
        except requests.RequestException as exc:
            raise network_error(self.label, exc) from exc
        if response.status_code >= 400:
            response.close()
            raise ProviderError(
                f"The provider answered {response.status_code} for the recording.",
                permanent=response.status_code < 500 and response.status_code != 429,
                status=response.status_code,
            )
        return response

    def softphone_token(self, identity: str) -> str:
        raise NotImplementedError

    # --- console set-up ---------------------------------------------------------------------
    # Template that lays the URLs out the way the provider's console and setup guide do.
    console_template: ClassVar[str] = ""
    webrtc_template: ClassVar[str] = ""
    console_paths: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def console_urls(cls) -> dict[str, str]:
        """The exact URLs to paste in the provider console, keyed like PUBLIC_WEBHOOK_PATHS."""
        base = settings.PUBLIC_BASE_URL.rstrip("/")
        return {key: base + PUBLIC_WEBHOOK_PATHS[key] for key in cls.console_paths}
