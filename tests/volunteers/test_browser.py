"""Invite to shift in a real browser: the admin invites, the invitee joins and takes a break,
the admin puts them on a shift and sees them in the week view."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import TEST_PASSWORD
from volunteers.models import Shift, Volunteer

SCREENS = Path("/work/coord/screens")
INVITEE_PASSWORD = "river stones under moonlight 31"


def screenshot(page, name: str) -> None:
    # Screens are for people to look at, not assertions; only taken where the folder exists.
    if SCREENS.is_dir():
        page.screenshot(path=str(SCREENS / name), full_page=True)


def log_in(page, live_server, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


@pytest.mark.django_db(transaction=True)
def test_invite_join_break_shift_and_week_view(browser, page, live_server, admin_user):
    log_in(page, live_server, "ada", TEST_PASSWORD)
    page.locator("nav.mainnav").get_by_text("Invites").click()
    page.fill("#id_first_name", "Inés")
    page.fill("#id_last_name", "Ortega")
    page.fill("#id_phone", "(201) 555-0142")
    page.click("button:has-text('Create invite link')")
    link = page.locator("#invite-link").inner_text().strip()
    assert "/invite/" in link

    invitee_context = browser.new_context()
    try:
        invitee = invitee_context.new_page()
        invitee.goto(link)
        expect(invitee.get_by_role("heading", name="Welcome, Inés")).to_be_visible()
        invitee.fill("#id_username", "ines")
        invitee.fill("#id_password1", INVITEE_PASSWORD)
        invitee.fill("#id_password2", INVITEE_PASSWORD)
        invitee.click("button:has-text('Create my account')")
        invitee.wait_for_url(f"{live_server.url}/profile/")
        expect(invitee.get_by_text("Your account is ready")).to_be_visible()
        screenshot(invitee, "profile.png")

        invitee.click("button:has-text('Log out')")
        log_in(invitee, live_server, "ines", INVITEE_PASSWORD)
        invitee.click("button:has-text('Take a break')")  # htmx swaps the card in place
        expect(invitee.locator("#break-state")).to_have_text("On break")
        assert Volunteer.objects.get(user__username="ines").on_break
        invitee.click("button:has-text('End my break')")
        expect(invitee.locator("#break-state")).to_have_text("Available")

        page.locator("nav.mainnav").get_by_text("Shifts").click()
        page.click("text=New shift")
        page.wait_for_url("**/shifts/new/")
        page.fill("#id_name", "All week")
        for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"):
            page.get_by_label(day, exact=True).check()
        page.fill("#id_start_time", "00:00")
        page.fill("#id_end_time", "23:59")
        page.fill(".picker-search", "ortega")
        expect(page.locator(".picker-option:visible")).to_have_count(1)
        page.get_by_label("Inés Ortega").check()
        screenshot(page, "shift_form.png")
        page.click("button:has-text('Save shift')")
        expect(page.get_by_text("Shift “All week” created.")).to_be_visible()
        assert list(Shift.objects.get().volunteers.values_list("user__username", flat=True)) == ["ines"]

        page.click("text=Week view")
        page.wait_for_url("**/shifts/week/")
        assert page.locator('td[data-day="2"][data-hour="10"]').inner_text().strip() == "1"
        assert page.locator('td[data-day="6"][data-hour="23"]').inner_text().strip() == "0 +1"
        expect(page.locator("td.nobody")).to_have_count(7)  # 23:00-23:59 is only partly covered
        screenshot(page, "week.png")

        page.locator("nav.mainnav").get_by_text("Volunteers").click()
        page.wait_for_url("**/volunteers/")
        row = page.locator("tr", has_text="Inés Ortega")
        expect(row.locator(".masked")).to_have_text("+1••••••••42")
        row.get_by_role("button", name="Reveal").click()
        expect(row.locator(".revealed")).to_have_text("+12015550142")
        screenshot(page, "roster.png")

        invitee.goto(f"{live_server.url}/")
        expect(invitee.locator("#shift-status")).to_contain_text("All week")
        screenshot(invitee, "dashboard.png")
    finally:
        invitee_context.close()
