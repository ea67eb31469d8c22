from __future__ import annotations

from urllib.parse import urlsplit

import plivo
import pytest
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from telephony.emulator import Account, Carrier

TWILIO_SID = "AC" + "1" * 32
TWILIO_TOKEN = "twilio-test-token-0123456789abcdef"
PLIVO_ID = "MAEMULATOR0123456789"
PLIVO_TOKEN = "plivo-test-token-0123456789abcdef"
TWILIO_NUMBER = "+15005550001"
PLIVO_NUMBER = "+15005550002"


def accounts() -> list[Account]:
    return [
        Account("twilio", TWILIO_SID, TWILIO_TOKEN, TWILIO_NUMBER, friendly_name="Emulated Twilio"),
        Account("plivo", PLIVO_ID, PLIVO_TOKEN, PLIVO_NUMBER, friendly_name="Emulated Plivo"),
    ]


@pytest.fixture
def carrier():
    with Carrier("http://127.0.0.1:9", "https://hotline.example.org", accounts(), time_scale=0.05) as c:
        yield c


class RewritingTwilioHttpClient(TwilioHttpClient):
    """Send the SDK's requests to the emulator: keep the path, swap scheme and host."""

    def __init__(self, base_url: str, **kwargs) -> None:
        super().__init__(timeout=5, **kwargs)
        self._base = urlsplit(base_url)

    def request(self, method, url, *args, **kwargs):
        parts = urlsplit(url)
        url = parts._replace(scheme=self._base.scheme, netloc=self._base.netloc).geturl()
        return super().request(method, url, *args, **kwargs)


class RewritingPlivoClient(plivo.RestClient):
    """Plivo resets base_uri on every request, so rewrite the prepared request instead."""

    def __init__(self, *args, base_url: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._fake = base_url

    def send_request(self, request, **kwargs):
        request.url = request.url.replace("https://api.plivo.com", self._fake)
        return super().send_request(request, **kwargs)


def twilio_client(carrier: Carrier, sid: str = TWILIO_SID, token: str = TWILIO_TOKEN) -> Client:
    return Client(sid, token, http_client=RewritingTwilioHttpClient(carrier.twilio_api_base_url))


def plivo_client(carrier: Carrier, auth_id: str = PLIVO_ID, token: str = PLIVO_TOKEN) -> plivo.RestClient:
    return RewritingPlivoClient(auth_id, token, timeout=5, base_url=carrier.plivo_api_base_url)


@pytest.fixture
def app_carrier(live_server, settings):
    """A carrier that delivers to the test app (app_urls) and signs for PUBLIC_BASE_URL."""
    from . import app_urls

    app_urls.SCRIPTS.clear()
    app_urls.SEEN.clear()
    with Carrier(live_server.url, settings.PUBLIC_BASE_URL, accounts(), time_scale=0.05) as c:
        yield c
    app_urls.SCRIPTS.clear()
