"""The Telephony settings section in a real browser: add an account, test the connection."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from telephony.emulator import Account, Carrier
from telephony.models import ProviderAccount
from tests.llamenos.test_browser import log_in

from .conftest import PLIVO_ID, PLIVO_NUMBER, PLIVO_TOKEN, TWILIO_NUMBER, TWILIO_SID, TWILIO_TOKEN


@pytest.mark.django_db(transaction=True)
def test_admin_adds_accounts_and_tests_the_connections(
    page, live_server, admin_user, settings, plivo_account
):
    accounts = [
        Account("twilio", TWILIO_SID, TWILIO_TOKEN, TWILIO_NUMBER, friendly_name="Hotline Twilio"),
        Account("plivo", PLIVO_ID, PLIVO_TOKEN, PLIVO_NUMBER, friendly_name="Hotline Plivo"),
    ]
    with Carrier(live_server.url, settings.PUBLIC_BASE_URL, accounts) as carrier:
        settings.TWILIO_API_BASE_URL = carrier.twilio_api_base_url
        settings.PLIVO_API_BASE_URL = carrier.plivo_api_base_url
        log_in(page, live_server, "ada")
        page.goto(f"{live_server.url}/settings/")
        page.locator("nav.subnav").get_by_text("Telephony").click()
        page.get_by_text("Add a provider account").click()

        page.select_option("#id_provider", "twilio")
        page.fill("#id_label", "Main line")
        page.fill("#id_hotline_number", "+1 500 555 0006")
        page.fill("#id_account_id", TWILIO_SID)
        page.fill("#id_new_auth_token", TWILIO_TOKEN)
        page.click("button:has-text('Save')")
        expect(page.get_by_text("Provider account “Main line” added.")).to_be_visible()
        assert TWILIO_TOKEN not in page.content()

        twilio = ProviderAccount.objects.get(provider="twilio")
        card = page.locator(f"#account-{twilio.pk}").locator("xpath=..")
        card.get_by_role("button", name="Test connection").click()
        expect(page.get_by_text("Connection to Twilio works: account “Hotline Twilio”.")).to_be_visible()

        plivo_card = page.locator(f"#account-{plivo_account.pk}").locator("xpath=..")
        plivo_card.get_by_role("button", name="Test connection").click()
        expect(page.get_by_text("Connection to Plivo works: account “Hotline Plivo”.")).to_be_visible()
        assert "https://hotline.example.org/telephony/incoming" in page.content()

        carrier.fail_next("GET", r"/Accounts/", 401)
        card.get_by_role("button", name="Test connection").click()
        expect(page.get_by_text("Connection to Twilio failed: twilio: HTTP 401")).to_be_visible()
        page.goto(f"{live_server.url}/settings/telephony/")  # a clean page (no flash) for the picture
        shots = os.environ.get("LLAMENOS_SCREENSHOT_DIR")
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            page.set_viewport_size({"width": 1280, "height": 900})
            page.screenshot(path=str(Path(shots) / "telephony-settings.png"), full_page=True)
        content = page.content()
        assert TWILIO_TOKEN not in content and PLIVO_TOKEN not in content
