from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from llamenos.models import AuditEvent
from tests.conftest import TEST_PASSWORD


def login(client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


@pytest.mark.django_db
def test_login_success_and_logout_are_audited(client, volunteer_user):
    response = login(client, "vera", TEST_PASSWORD)
    assert response.status_code == 302
    assert response.url == reverse("dashboard")

    response = client.post(reverse("logout"))
    assert response.status_code == 302

    events = list(AuditEvent.objects.order_by("id").values_list("event", "actor_label", "target"))
    assert events == [("auth.login", "vera", "vera"), ("auth.logout", "vera", "vera")]
    assert AuditEvent.objects.filter(event="auth.login").get().ip_hash  # hashed, never the raw IP
    assert "127.0.0.1" not in AuditEvent.objects.get(event="auth.login").ip_hash


@pytest.mark.django_db
def test_failed_login_is_audited_without_guessing_who(client, volunteer_user):
    response = login(client, "vera", "wrong password")
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content

    login(client, "my-password-typed-as-username", "x")
    targets = list(AuditEvent.objects.filter(event="auth.login_failed").values_list("target", flat=True))
    assert sorted(targets) == ["(unknown account)", "vera"]


@pytest.mark.django_db
def test_repeated_failures_lock_the_account_even_with_the_right_password(client, volunteer_user):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "vera", "wrong password")

    response = login(client, "vera", TEST_PASSWORD)

    assert response.status_code == 429
    assert b"Too many failed attempts" in response.content
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(event="auth.locked_out", target="vera").exists()


@pytest.mark.django_db
def test_one_failure_short_of_the_limit_still_logs_in(client, volunteer_user):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, "vera", "wrong password")
    assert login(client, "vera", TEST_PASSWORD).status_code == 302


@pytest.mark.django_db
def test_inactive_user_cannot_log_in(client, make_user):
    make_user("gone", is_active=False)
    assert login(client, "gone", TEST_PASSWORD).status_code == 200
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_passwords_are_hashed_with_argon2_outside_tests():
    from llamenos.settings import base

    assert base.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


@pytest.mark.django_db
def test_session_expires(client, volunteer_user):
    login(client, "vera", TEST_PASSWORD)
    assert client.session.get_expire_at_browser_close()
    assert settings.SESSION_COOKIE_AGE <= 12 * 60 * 60


@pytest.mark.django_db
def test_navigation_differs_by_role(client, admin_user, volunteer_user):
    client.force_login(volunteer_user)
    page = client.get(reverse("dashboard")).content.decode()
    assert reverse("audit_log") not in page
    assert reverse("settings") not in page

    client.force_login(admin_user)
    page = client.get(reverse("dashboard")).content.decode()
    assert reverse("audit_log") in page
    assert reverse("settings") in page


@pytest.mark.django_db
def test_volunteer_sees_a_friendly_403(volunteer_client):
    response = volunteer_client.get(reverse("settings"))
    assert response.status_code == 403
    assert b"only for hotline admins" in response.content
    assert b"Back to your dashboard" in response.content


@pytest.mark.django_db
def test_pages_print_no_template_comments(client):
    page = client.get(reverse("login")).content.decode()
    assert "{#" not in page
    assert "Referrer-Policy header" not in page
