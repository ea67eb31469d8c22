"""Invites: hashed one-time tokens valid 7 days; used, expired, revoked and unknown links."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from llamenos.models import AuditEvent, Role, User
from tests.conftest import TEST_PASSWORD
from volunteers.invites import invite_create
from volunteers.models import Invite

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a long and unusual passphrase 9"


def created_token(response) -> str:
    match = re.search(r"/invite/([A-Za-z0-9_-]+)/", response.content.decode())
    assert match, "the invite link is shown"
    return match.group(1)


@pytest.fixture
def invite_and_token(admin_user):
    return invite_create(actor=admin_user, first_name="Iris", last_name="Ito", phone="+12015550188")


def accept(client, token, **overrides):
    data = {"username": "iris", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD, **overrides}
    return client.post(reverse("invite_accept", args=[token]), data)


def test_admin_creates_an_invite_and_only_the_hash_is_stored(admin_client):
    response = admin_client.post(
        reverse("invite_list"),
        {"first_name": "Iris", "last_name": "Ito", "phone": "201-555-0188", "role": Role.VOLUNTEER},
    )
    assert response.status_code == 200
    token = created_token(response)
    invite = Invite.objects.get()
    assert invite.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(Invite.objects.values().get())
    assert invite.phone == "+12015550188"
    assert dt.timedelta(days=6, hours=23) < invite.expires_at - timezone.now() <= dt.timedelta(days=7)
    assert AuditEvent.objects.filter(event="invite.created").exists()
    assert "Iris Ito" in admin_client.get(reverse("invite_list")).content.decode()


def test_invite_with_invalid_phone_is_a_form_error(admin_client):
    response = admin_client.post(
        reverse("invite_list"), {"first_name": "Iris", "phone": "abc", "role": "volunteer"}
    )
    assert "Enter a valid phone number" in response.content.decode()
    assert not Invite.objects.exists()


def test_invitee_sets_a_password_and_lands_on_their_profile(client, invite_and_token):
    _, token = invite_and_token
    assert "Welcome, Iris" in client.get(reverse("invite_accept", args=[token])).content.decode()
    response = accept(client, token)
    assert response.status_code == 302
    assert response.url == reverse("profile")
    iris = User.objects.get(username="iris")
    assert iris.check_password(NEW_PASSWORD)
    assert (iris.first_name, iris.role, str(iris.volunteer.phone)) == ("Iris", Role.VOLUNTEER, "+12015550188")
    assert client.get(reverse("profile")).status_code == 200  # logged in
    assert AuditEvent.objects.get(event="invite.accepted").actor_label == "iris"


def test_the_link_works_once(client, invite_and_token):
    _, token = invite_and_token
    accept(client, token)
    client.logout()
    again = client.get(reverse("invite_accept", args=[token]))
    assert again.status_code == 410
    assert "already used" in again.content.decode()
    assert accept(client, token, username="iris2").status_code == 410
    assert not User.objects.filter(username="iris2").exists()


def test_an_expired_link_gets_a_clear_page(client, invite_and_token):
    invite, token = invite_and_token
    Invite.objects.filter(pk=invite.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = accept(client, token)
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert not User.objects.filter(username="iris").exists()


def test_a_revoked_link_gets_a_clear_page(admin_client, invite_and_token):
    client = Client()  # the invitee, not the admin
    invite, token = invite_and_token
    assert admin_client.post(reverse("invite_revoke", args=[invite.pk])).status_code == 302
    pending = admin_client.get(reverse("invite_list")).content.decode()
    assert "Iris Ito" not in pending.split('id="pending-invites"')[1]
    assert AuditEvent.objects.filter(event="invite.revoked").exists()
    response = accept(client, token)
    assert response.status_code == 410
    assert "withdrawn" in response.content.decode()
    assert not User.objects.filter(username="iris").exists()


def test_an_unknown_link_is_a_friendly_404(client):
    response = client.get(reverse("invite_accept", args=["no-such-token"]))
    assert response.status_code == 404
    assert "not valid" in response.content.decode()


def test_weak_or_mismatched_passwords_are_refused(client, invite_and_token):
    _, token = invite_and_token
    weak = accept(client, token, password1="password", password2="password")
    assert weak.status_code == 200
    assert "too common" in weak.content.decode()
    mismatch = accept(client, token, password2=NEW_PASSWORD + "x")
    assert "The two passwords differ." in mismatch.content.decode()
    assert not User.objects.filter(username="iris").exists()
    assert Invite.objects.get().accepted_at is None


def test_taken_username_is_refused(client, invite_and_token, make_user):
    make_user("iris")
    _, token = invite_and_token
    response = accept(client, token)
    assert "That username is taken" in response.content.decode()
    assert Invite.objects.get().accepted_at is None


def test_an_account_added_by_an_admin_gets_its_password_through_the_link(admin_client):
    client = Client()  # the invitee, not the admin
    response = admin_client.post(
        reverse("volunteer_create"),
        {"first_name": "Omar", "username": "omar", "phone": "", "role": Role.VOLUNTEER},
    )
    token = created_token(response)
    page = client.get(reverse("invite_accept", args=[token])).content.decode()
    assert 'name="username"' not in page  # the admin chose it already
    client.post(
        reverse("invite_accept", args=[token]), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert User.objects.get(username="omar").check_password(NEW_PASSWORD)
    assert User.objects.count() == 2  # no duplicate account


def test_pending_invites_are_admin_only(volunteer_client, invite_and_token):
    invite, _ = invite_and_token
    assert volunteer_client.get(reverse("invite_list")).status_code == 403
    assert volunteer_client.post(reverse("invite_revoke", args=[invite.pk])).status_code == 403
    invite.refresh_from_db()
    assert invite.revoked_at is None


def test_a_user_password_is_unchanged_by_someone_elses_invite(client, invite_and_token, volunteer_user):
    _, token = invite_and_token
    accept(client, token)
    volunteer_user.refresh_from_db()
    assert volunteer_user.check_password(TEST_PASSWORD)
