"""Admin roster: add, edit, masking and audited reveal, deactivate (ends sessions), roles, delete."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from llamenos.models import AuditEvent, Role, User
from volunteers.models import Invite, Volunteer

pytestmark = pytest.mark.django_db


def add_form(**overrides):
    data = {
        "first_name": "Nadia",
        "last_name": "Haddad",
        "username": "nadia",
        "phone": "(201) 555-0123",
        "role": Role.VOLUNTEER,
        "spoken_languages": ["en", "ar"],
    }
    return {**data, **overrides}


def test_admin_adds_a_volunteer_with_a_local_number_stored_as_e164(admin_client):
    response = admin_client.post(reverse("volunteer_create"), add_form())
    assert response.status_code == 200
    nadia = User.objects.get(username="nadia")
    assert nadia.volunteer.phone == "+12015550123"
    assert nadia.volunteer.spoken_languages == ["en", "ar"]
    assert not nadia.has_usable_password()
    # The admin gets a one-time sign-up link for the new account.
    invite = Invite.objects.get(user=nadia)
    assert reverse("invite_accept", args=["x"]).removesuffix("x/") in response.content.decode()
    assert invite.accepted_at is None
    event = AuditEvent.objects.get(event="volunteer.created")
    assert event.details["phone_last4"] == "0123"
    assert "+12015550123" not in str(event.details)


@pytest.mark.parametrize("bad_phone", ["12", "not a phone", "+999 123", "555-01"])
def test_invalid_phone_is_a_form_error_and_nothing_is_saved(admin_client, bad_phone):
    response = admin_client.post(reverse("volunteer_create"), add_form(phone=bad_phone))
    assert response.status_code == 200
    assert "Enter a valid phone number" in response.content.decode()
    assert not User.objects.filter(username="nadia").exists()
    assert not AuditEvent.objects.filter(event="volunteer.created").exists()


def test_duplicate_phone_is_a_form_error(admin_client, make_volunteer):
    make_volunteer("owner", phone="+12015550123")
    response = admin_client.post(reverse("volunteer_create"), add_form(phone="+1 201 555 0123"))
    assert "Another volunteer already has this phone number." in response.content.decode()
    assert not User.objects.filter(username="nadia").exists()


def test_duplicate_username_is_a_form_error(admin_client, make_user):
    make_user("nadia")
    response = admin_client.post(reverse("volunteer_create"), add_form(username="Nadia"))
    assert "That username is taken." in response.content.decode()
    assert User.objects.filter(username__iexact="nadia").count() == 1


def test_roster_masks_phones_and_reveal_is_audited(admin_client, make_volunteer):
    volunteer = make_volunteer("vic", phone="+12015550167")
    page = admin_client.get(reverse("volunteer_list")).content.decode()
    assert "+1••••••••67" in page
    assert "2015550167" not in page

    response = admin_client.post(
        reverse("volunteer_phone_reveal", args=[volunteer.user.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "+12015550167" in response.content.decode()
    assert "<html" not in response.content.decode()  # an htmx partial
    event = AuditEvent.objects.get(event="volunteer.phone_revealed")
    assert event.actor_label == "ada"
    assert event.details == {"phone_last4": "0167"}


def test_reveal_needs_post(admin_client, make_volunteer):
    volunteer = make_volunteer("vic", phone="+12015550167")
    assert admin_client.get(reverse("volunteer_phone_reveal", args=[volunteer.user.pk])).status_code == 405
    assert not AuditEvent.objects.filter(event="volunteer.phone_revealed").exists()


def test_volunteers_never_see_the_roster_or_numbers(volunteer_client, make_volunteer):
    other = make_volunteer("other", phone="+12015550167")
    assert volunteer_client.get(reverse("volunteer_list")).status_code == 403
    assert volunteer_client.post(reverse("volunteer_phone_reveal", args=[other.user.pk])).status_code == 403
    assert "0167" not in volunteer_client.get(reverse("dashboard")).content.decode()


def test_a_volunteer_cannot_edit_another_volunteer(volunteer_client, make_volunteer):
    other = make_volunteer("other", phone="+12015550167")
    response = volunteer_client.post(
        reverse("volunteer_edit", args=[other.user.pk]),
        {"first_name": "Hacked", "phone": "+12015550100", "call_preference": "phone"},
    )
    assert response.status_code == 403
    other.refresh_from_db()
    other.user.refresh_from_db()
    assert (other.user.first_name, str(other.phone)) == ("Other", "+12015550167")


def test_admin_edits_a_volunteer_and_it_is_audited(admin_client, make_volunteer):
    volunteer = make_volunteer("vic", phone="+12015550167")
    response = admin_client.post(
        reverse("volunteer_edit", args=[volunteer.user.pk]),
        {
            "first_name": "Victor",
            "last_name": "Hugo",
            "phone": "+34 612 345 678",
            "spoken_languages": ["fr", "es"],
            "call_preference": "both",
            "in_fallback_group": "on",
        },
    )
    assert response.status_code == 302
    volunteer.refresh_from_db()
    assert (volunteer.user.first_name, str(volunteer.phone)) == ("Victor", "+34612345678")
    assert volunteer.in_fallback_group and volunteer.call_preference == "both"
    event = AuditEvent.objects.get(event="volunteer.updated")
    assert event.details == {
        "changed": [
            "call_preference",
            "first_name",
            "in_fallback_group",
            "last_name",
            "phone",
            "spoken_languages",
        ]
    }


def test_unknown_volunteer_id_is_a_404(admin_client):
    assert admin_client.get(reverse("volunteer_edit", args=[999999])).status_code == 404
    assert admin_client.post(reverse("volunteer_deactivate", args=[999999])).status_code == 404


def test_deactivating_ends_their_sessions_at_once(admin_client, make_user):
    vic = make_user("vic")
    vic_browser = Client()
    vic_browser.force_login(vic)
    assert vic_browser.get(reverse("dashboard")).status_code == 200

    response = admin_client.post(reverse("volunteer_deactivate", args=[vic.pk]))
    assert response.status_code == 302
    vic.refresh_from_db()
    assert not vic.is_active
    assert vic_browser.get(reverse("dashboard")).status_code == 302  # back to the login page
    event = AuditEvent.objects.get(event="volunteer.deactivated")
    assert event.details == {"sessions_ended_count": 1}
    # The admin's own session is untouched.
    assert admin_client.get(reverse("volunteer_list")).status_code == 200

    admin_client.post(reverse("volunteer_reactivate", args=[vic.pk]))
    vic.refresh_from_db()
    assert vic.is_active
    assert AuditEvent.objects.filter(event="volunteer.reactivated").exists()


def test_admin_cannot_deactivate_or_demote_themselves(admin_client, admin_user):
    admin_client.post(reverse("volunteer_deactivate", args=[admin_user.pk]))
    admin_client.post(reverse("volunteer_demote", args=[admin_user.pk]))
    admin_user.refresh_from_db()
    assert admin_user.is_active and admin_user.role == Role.ADMIN
    page = admin_client.get(reverse("volunteer_list")).content.decode()
    assert "You cannot" in page


def test_promote_and_demote_are_audited(admin_client, make_user):
    vic = make_user("vic")
    admin_client.post(reverse("volunteer_promote", args=[vic.pk]))
    vic.refresh_from_db()
    assert vic.role == Role.ADMIN
    admin_client.post(reverse("volunteer_demote", args=[vic.pk]))
    vic.refresh_from_db()
    assert vic.role == Role.VOLUNTEER
    events = list(
        AuditEvent.objects.filter(event__in=["volunteer.promoted", "volunteer.demoted"]).order_by("id")
    )
    assert [(e.event, e.details["new_role"]) for e in events] == [
        ("volunteer.promoted", "admin"),
        ("volunteer.demoted", "volunteer"),
    ]


def test_delete_asks_for_confirmation_then_deletes(admin_client, make_volunteer):
    volunteer = make_volunteer("vic")
    confirm = admin_client.get(reverse("volunteer_delete", args=[volunteer.user.pk]))
    assert confirm.status_code == 200
    assert "Delete Vic?" in confirm.content.decode()
    assert User.objects.filter(username="vic").exists()

    admin_client.post(reverse("volunteer_delete", args=[volunteer.user.pk]))
    assert not User.objects.filter(username="vic").exists()
    assert not Volunteer.objects.filter(pk=volunteer.pk).exists()
    assert AuditEvent.objects.get(event="volunteer.deleted").target.endswith("(vic)")


def edit_form(**overrides):
    data = {"first_name": "Vic", "phone": "", "call_preference": "phone", "spoken_languages": ["en"]}
    return {**data, **overrides}


def test_edit_page_never_shows_the_full_number_and_empty_keeps_it(admin_client, make_volunteer):
    volunteer = make_volunteer("vic", phone="+12015550167")
    url = reverse("volunteer_edit", args=[volunteer.user.pk])
    page = admin_client.get(url).content.decode()
    assert "2015550167" not in page and "555-0167" not in page
    assert "Currently +1••••••••67" in page
    admin_client.post(url, edit_form())
    volunteer.refresh_from_db()
    assert str(volunteer.phone) == "+12015550167"


def test_edit_can_remove_the_number(admin_client, make_volunteer):
    volunteer = make_volunteer("vic", phone="+12015550167")
    admin_client.post(reverse("volunteer_edit", args=[volunteer.user.pk]), edit_form(clear_phone="on"))
    volunteer.refresh_from_db()
    assert volunteer.phone == ""


def test_edit_with_invalid_phone_is_a_form_error_and_saves_nothing(admin_client, make_volunteer):
    volunteer = make_volunteer("vic", phone="+12015550167")
    response = admin_client.post(
        reverse("volunteer_edit", args=[volunteer.user.pk]), edit_form(first_name="Changed", phone="12345")
    )
    assert response.status_code == 200
    assert "Enter a valid phone number" in response.content.decode()
    volunteer.refresh_from_db()
    volunteer.user.refresh_from_db()
    assert (volunteer.user.first_name, str(volunteer.phone)) == ("Vic", "+12015550167")
    assert not AuditEvent.objects.filter(event="volunteer.updated").exists()
