"""Dev mode: the REST API mounted in the app, and the console page in a real browser."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from playwright.sync_api import expect
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from telephony.emulator.dev import dev_carrier, dev_carrier_reset
from tests.conftest import TEST_PASSWORD

from . import app_urls
from .conftest import TWILIO_NUMBER, TWILIO_SID, TWILIO_TOKEN

pytestmark = pytest.mark.urls("tests.telephony.emulator.dev_urls")
VOLUNTEER = "+15557654321"
SCREENS = Path("/work/coord/screens")


@pytest.fixture
def dev_mode(settings, transactional_db):
    from telephony.models import ProviderAccount

    settings.TELEPHONY_EMULATOR_ENABLED = True
    ProviderAccount.objects.create(
        provider="twilio",
        label="Dev Twilio",
        hotline_number=TWILIO_NUMBER,
        account_id=TWILIO_SID,
        auth_token=TWILIO_TOKEN,
    )
    app_urls.SCRIPTS.clear()
    app_urls.SEEN.clear()
    dev_carrier_reset()
    yield settings
    dev_carrier_reset()


def _auth(user: str, password: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_rest_api_is_served_inside_the_app(client, dev_mode):
    url = f"/dev/emulator/2010-04-01/Accounts/{TWILIO_SID}.json"
    ok = client.get(url, **_auth(TWILIO_SID, TWILIO_TOKEN))
    assert ok.status_code == 200 and ok.json()["friendly_name"] == "Dev Twilio"
    bad = client.get(url, **_auth(TWILIO_SID, "wrong"))
    assert bad.status_code == 401 and bad.json()["code"] == 20003
    assert [r.status for r in dev_carrier().requests] == [200, 401]


def test_mount_is_404_when_the_emulator_is_off(client, admin_user, dev_mode):
    dev_mode.TELEPHONY_EMULATOR_ENABLED = False
    assert client.get(f"/dev/emulator/2010-04-01/Accounts/{TWILIO_SID}.json").status_code == 404
    client.force_login(admin_user)
    assert client.get("/dev/emulator/").status_code == 404


def test_the_console_is_for_logged_in_admins_only(client, volunteer_user, admin_user, dev_mode):
    anonymous = client.post("/dev/emulator/dial/", {"from_number": "+15551230000"})
    assert anonymous.status_code == 302 and anonymous.url.startswith("/login/?next=")
    client.force_login(volunteer_user)
    assert client.get("/dev/emulator/").status_code == 403
    assert client.post("/dev/emulator/dial/", {"from_number": "+15551230000"}).status_code == 403
    assert dev_carrier().calls == []
    client.force_login(admin_user)
    assert client.get("/dev/emulator/").status_code == 200


def _log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_console_dial_press_and_answer_volunteer_phone(live_server, page, admin_user, dev_mode):
    dev_mode.PUBLIC_BASE_URL = live_server.url
    _log_in(page, live_server, admin_user.username)
    base = live_server.url + "/telephony"

    def incoming(r: VoiceResponse) -> None:
        g = Gather(num_digits=1, timeout=8, action=f"{base}/menu", method="POST")
        g.say("Welcome. Press 1 to talk to a volunteer.")
        r.append(g)

    def menu(fields):
        r = VoiceResponse()
        r.say("Please hold while we find a volunteer.")
        r.enqueue("room-1", wait_url=f"{base}/wait", wait_url_method="POST")
        return str(r)

    def volunteer_answer(r: VoiceResponse) -> None:
        g = Gather(num_digits=1, action=f"{base}/accept", method="POST", timeout=8)
        g.say("A caller needs help. Press 1 to take the call.")
        r.append(g)

    r_accept = VoiceResponse()
    d = Dial()
    d.queue("room-1")
    r_accept.append(d)
    for name, build in {"incoming": incoming, "answer": volunteer_answer}.items():
        r = VoiceResponse()
        build(r)
        app_urls.SCRIPTS[name] = str(r)
    app_urls.SCRIPTS["menu"] = menu
    app_urls.SCRIPTS["wait"] = "<Response><Play>https://cdn.example.org/hold-music.mp3</Play></Response>"
    app_urls.SCRIPTS["accept"] = str(r_accept)

    page.goto(live_server.url + "/dev/emulator/")
    page.fill("input[name=from_number]", "+15551230000")
    page.click("button:text-is('Call')")
    page.wait_for_selector("text=Press 1 to talk to a volunteer")
    page.click(".emu-call button:text-is('1')")
    page.wait_for_selector("text=hold-music.mp3")

    # The app would start the volunteer leg through the SDK; here the test does, via the in-app REST API.
    from twilio.rest import Client

    from telephony.providers.twilio import BaseUrlHttpClient

    http = BaseUrlHttpClient(base_url=live_server.url + "/dev/emulator", timeout=5)
    client = Client(TWILIO_SID, TWILIO_TOKEN, http_client=http)
    leg = client.calls.create(to=VOLUNTEER, from_=TWILIO_NUMBER, url=f"{base}/answer")
    page.wait_for_selector(f"text={VOLUNTEER} is ringing")
    page.click(".emu-ringing button:text-is('Answer')")
    page.wait_for_selector("text=Press 1 to take the call")
    page.click(f".emu-call[data-sid='{leg.sid}'] button:text-is('1')")
    # Both sides of the bridge, each as the console next draws it (one may show before the other).
    expect(page.locator(".emu-call .badge:text-is('bridged')")).to_have_count(2)
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / "emulator-console-bridged.png"), full_page=True)
    page.click(f".emu-call[data-sid='{leg.sid}'] button:text-is('Hang up')")
    page.wait_for_selector(".emu-call .badge:text-is('completed')")
    assert all(s["signature_ok"] for s in app_urls.SEEN)
