from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from llamenos.audit import UnsafeAuditDetails, audit_record
from llamenos.models import AuditEvent, HotlineSettings, Role, User


@pytest.mark.django_db
def test_admin_saves_hotline_settings_and_it_is_audited(admin_client):
    response = admin_client.post(
        reverse("settings"),
        {"hotline_name": "Línea Segura", "time_zone": "Europe/Madrid", "default_language": "es"},
    )
    assert response.status_code == 302

    row = HotlineSettings.objects.get()
    assert (row.hotline_name, row.time_zone, row.default_language) == (
        "Línea Segura",
        "Europe/Madrid",
        "es",
    )
    event = AuditEvent.objects.get(event="settings.hotline_updated")
    assert event.actor_label == "ada"
    assert event.details == {"changed": ["default_language", "hotline_name", "time_zone"]}
    assert "Línea Segura" in admin_client.get(reverse("dashboard")).content.decode()


@pytest.mark.django_db
def test_invalid_time_zone_is_a_form_error_and_saves_nothing(admin_client):
    response = admin_client.post(
        reverse("settings"),
        {"hotline_name": "X", "time_zone": "Mars/Olympus", "default_language": "en"},
    )
    assert response.status_code == 200
    assert b"Select a valid choice" in response.content
    assert HotlineSettings.objects.get().hotline_name == "Llámenos"
    assert not AuditEvent.objects.filter(event="settings.hotline_updated").exists()


@pytest.mark.django_db
def test_audit_log_is_newest_first_paginated_and_filterable(admin_client, admin_user):
    for number in range(60):
        audit_record(event="test.bulk", target=f"item {number}")
    audit_record(event="test.mine", actor=admin_user, target="mine")

    first_page = admin_client.get(reverse("audit_log")).content.decode()
    assert first_page.index("<td>mine</td>") < first_page.index("item 59") < first_page.index("item 58")
    assert "Page 1 of 2" in first_page
    assert "item 5<" not in first_page

    second_page = admin_client.get(reverse("audit_log"), {"page": 2}).content.decode()
    assert "item 0<" in second_page

    mine = admin_client.get(reverse("audit_log"), {"actor": "ada"}).content.decode()
    assert "<td>mine</td>" in mine
    assert "item 59" not in mine

    bulk = admin_client.get(reverse("audit_log"), {"event": "test.bulk", "page": 2}).content.decode()
    assert "item 0<" in bulk
    assert "<td>mine</td>" not in bulk


@pytest.mark.django_db
def test_audit_log_survives_nonsense_filters(admin_client):
    response = admin_client.get(reverse("audit_log"), {"actor": "nobody", "page": "zzz"})
    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    "details",
    [
        {"auth_token": "abc"},
        {"caller": "x"},
        {"note": "call me at +1 415 555 2671"},
        {"nested": {"password": "p"}},
    ],
)
def test_audit_details_refuse_secrets_and_numbers(details):
    with pytest.raises(UnsafeAuditDetails):
        audit_record(event="test.leak", details=details)
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_audit_details_allow_masked_values():
    event = audit_record(event="test.ok", details={"phone_last4": "2671", "changed": ["name"]})
    assert event.details["phone_last4"] == "2671"


@pytest.mark.django_db
def test_createadmin_uses_the_environment_password(monkeypatch, client):
    monkeypatch.setenv("LLAMENOS_ADMIN_PASSWORD", "a long admin passphrase 9")
    call_command("createadmin", "--username", "root-admin", verbosity=0)

    user = User.objects.get(username="root-admin")
    assert user.role == Role.ADMIN
    assert (
        client.post(
            reverse("login"), {"username": "root-admin", "password": "a long admin passphrase 9"}
        ).status_code
        == 302
    )


@pytest.mark.django_db
def test_createadmin_generates_and_prints_a_password(monkeypatch, capsys):
    monkeypatch.delenv("LLAMENOS_ADMIN_PASSWORD", raising=False)
    call_command("createadmin", "--username", "boss")
    printed = capsys.readouterr().out
    password = printed.split("Generated password (shown once): ")[1].strip()
    assert User.objects.get(username="boss").check_password(password)


@pytest.mark.django_db
def test_createadmin_refuses_an_existing_username(admin_user):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="already exists"):
        call_command("createadmin", "--username", "ada")


@pytest.mark.django_db
def test_security_headers(client):
    response = client.get(reverse("login"))
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["Permissions-Policy"].startswith("microphone=(self)")
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_csrf_is_enforced_on_forms(admin_user):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    response = strict.post(
        reverse("settings"), {"hotline_name": "x", "time_zone": "UTC", "default_language": "en"}
    )
    assert response.status_code == 403
    assert b"That form has expired" in response.content


@pytest.mark.django_db
def test_pages_show_times_in_the_hotline_time_zone(admin_client):
    import datetime as dt

    HotlineSettings.objects.update_or_create(pk=1, defaults={"time_zone": "Europe/Madrid"})
    event = audit_record(event="test.when", target="t")
    AuditEvent.objects.filter(pk=event.pk).update(created_at=dt.datetime(2026, 7, 1, 10, 0, tzinfo=dt.UTC))

    page = admin_client.get(reverse("audit_log")).content.decode()
    assert "2026-07-01 12:00:00" in page  # CEST, UTC+2
    assert "When (Europe/Madrid)" in page
