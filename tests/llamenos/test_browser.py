"""The foundation as people use it, in a real browser against a live server."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import TEST_PASSWORD


def log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


@pytest.mark.django_db(transaction=True)
def test_admin_logs_in_and_reaches_settings_and_audit(page, live_server, admin_user):
    log_in(page, live_server, "ada")
    expect(page.locator("nav.mainnav").get_by_text("Audit log")).to_be_visible()

    page.click("text=Settings")
    page.fill("#id_hotline_name", "Línea de Apoyo")
    page.click("button:has-text('Save')")
    expect(page.get_by_text("Hotline settings saved.")).to_be_visible()
    assert page.locator(".brand").inner_text() == "Línea de Apoyo"

    page.click("text=Audit log")
    expect(page.locator("td code", has_text="settings.hotline_updated")).to_be_visible()
    expect(page.locator("td code", has_text="auth.login").first).to_be_visible()


@pytest.mark.django_db(transaction=True)
def test_volunteer_gets_the_403_page_on_admin_pages(page, live_server, volunteer_user):
    log_in(page, live_server, "vera")
    assert page.locator("nav.mainnav").get_by_text("Audit log").count() == 0

    for path in ("/settings/", "/audit/"):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 403
        expect(page.get_by_text("This page is not for your account")).to_be_visible()


@pytest.mark.django_db(transaction=True)
def test_logout_ends_the_session(page, live_server, volunteer_user):
    log_in(page, live_server, "vera")
    page.click("button:has-text('Log out')")
    page.wait_for_url(f"{live_server.url}/login/")
    page.goto(f"{live_server.url}/")
    assert page.url.startswith(f"{live_server.url}/login/?next=")
