"""The call-flow admin pages in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from telephony.models import Ban, Call, CallEvent, CallState
from tests.llamenos.test_browser import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_admin_bans_imports_and_reads_a_call(page, live_server, admin_user):
    call = Call.objects.create(
        provider="twilio",
        provider_call_id="CA" + "7" * 32,
        caller_hash="h",
        caller_last4="4321",
        state=CallState.MISSED,
    )
    CallEvent.objects.create(call=call, name="call.caller_hung_up", from_state="ringing", to_state="missed")
    log_in(page, live_server, "ada")

    page.click("nav.mainnav >> text=Bans")
    page.fill("#id_number", "+1 415 555 2671")
    page.fill("#id_reason", "threats")
    page.click("button:has-text('Ban')")
    expect(page.get_by_text("The number is banned.")).to_be_visible()
    expect(page.locator("td", has_text="…2671")).to_be_visible()

    page.fill("textarea[name=numbers]", "+14155552671\n+34612345678\nnonsense")
    page.locator("form[action$='/bans/import/'] input[name=reason]").fill("shared list")
    page.click("button:has-text('Import')")
    expect(page.get_by_text("Added 1; 1 already banned or repeated; 1 invalid.")).to_be_visible()
    assert Ban.objects.count() == 2

    page.click("nav.mainnav >> text=Calls")
    page.select_option("#id_state", "missed")
    page.click("button:has-text('Filter')")
    page.click("text=Details")
    expect(page.locator("h1")).to_have_text(re.compile(rf"^Call {call.pk}\b"))
    expect(page.locator("code", has_text="call.caller_hung_up")).to_be_visible()
    assert "number ending …4321" in page.content()
