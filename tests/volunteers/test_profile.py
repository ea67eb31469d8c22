"""A volunteer's own profile, password, break toggle and dashboard."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from llamenos.models import AuditEvent, HotlineSettings
from tests.conftest import TEST_PASSWORD
from volunteers.models import Volunteer

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "another long passphrase 77"


def profile_form(**overrides):
    data = {
        "first_name": "Vera",
        "last_name": "Vance",
        "phone": "(201) 555-0111",
        "spoken_languages": ["en", "es"],
        "call_preference": "browser",
    }
    return {**data, **overrides}


def test_volunteer_edits_their_profile(volunteer_client, volunteer_user):
    response = volunteer_client.post(reverse("profile"), profile_form())
    assert response.status_code == 302
    volunteer = Volunteer.objects.get(user=volunteer_user)
    assert (str(volunteer.phone), volunteer.spoken_languages, volunteer.call_preference) == (
        "+12015550111",
        ["en", "es"],
        "browser",
    )
    volunteer_user.refresh_from_db()
    assert volunteer_user.last_name == "Vance"
    page = volunteer_client.get(reverse("profile")).content.decode()
    assert "Vance" in page


def test_profile_with_invalid_phone_is_a_form_error_and_saves_nothing(volunteer_client, volunteer_user):
    response = volunteer_client.post(reverse("profile"), profile_form(phone="123", first_name="Changed"))
    assert response.status_code == 200
    assert "Enter a valid phone number" in response.content.decode()
    volunteer_user.refresh_from_db()
    assert volunteer_user.first_name == "Vera"
    assert not Volunteer.objects.filter(user=volunteer_user).exclude(phone="").exists()


def test_profile_cannot_take_another_volunteers_number(volunteer_client, make_volunteer):
    make_volunteer("other", phone="+12015550111")
    response = volunteer_client.post(reverse("profile"), profile_form())
    assert "Another volunteer already has this phone number." in response.content.decode()


def test_profile_only_edits_oneself(volunteer_client, volunteer_user, make_volunteer):
    other = make_volunteer("other", phone="+12015550199")
    volunteer_client.post(reverse("profile"), {**profile_form(), "user": other.user.pk, "pk": other.pk})
    other.refresh_from_db()
    assert str(other.phone) == "+12015550199"
    assert other.user.first_name == "Other"


def test_password_change_needs_the_old_password_and_validators(volunteer_client, volunteer_user):
    wrong = volunteer_client.post(
        reverse("profile_password"),
        {"old_password": "nope", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert "Your old password was entered incorrectly" in wrong.content.decode()
    weak = volunteer_client.post(
        reverse("profile_password"),
        {"old_password": TEST_PASSWORD, "new_password1": "12345678", "new_password2": "12345678"},
    )
    assert "entirely numeric" in weak.content.decode()
    volunteer_user.refresh_from_db()
    assert volunteer_user.check_password(TEST_PASSWORD)

    ok = volunteer_client.post(
        reverse("profile_password"),
        {"old_password": TEST_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert ok.status_code == 302
    volunteer_user.refresh_from_db()
    assert volunteer_user.check_password(NEW_PASSWORD)
    assert volunteer_client.get(reverse("profile")).status_code == 200  # still logged in
    assert AuditEvent.objects.filter(event="profile.password_changed").exists()


def test_break_toggle_shows_on_dashboard_and_to_admins(volunteer_client, volunteer_user, admin_user):
    response = volunteer_client.post(reverse("break_toggle"), {"on_break": "1"}, HTTP_HX_REQUEST="true")
    assert "On break" in response.content.decode()
    assert Volunteer.objects.get(user=volunteer_user).on_break
    assert "End my break" in volunteer_client.get(reverse("dashboard")).content.decode()
    admin_browser = Client()
    admin_browser.force_login(admin_user)
    roster = admin_browser.get(reverse("volunteer_list")).content.decode()
    assert "On break" in roster.split(f'id="person-{volunteer_user.pk}"')[1].split("</tr>")[0]

    volunteer_client.post(reverse("break_toggle"), {"on_break": "0"})
    assert not Volunteer.objects.get(user=volunteer_user).on_break
    events = list(
        AuditEvent.objects.filter(event__startswith="volunteer.break").values_list("event", flat=True)
    )
    assert sorted(events) == ["volunteer.break_ended", "volunteer.break_started"]


def test_dashboard_shows_the_current_shift_until_when_in_hotline_time(
    volunteer_client, volunteer_user, make_shift
):
    HotlineSettings.objects.update_or_create(pk=1, defaults={"time_zone": "Europe/Madrid"})
    volunteer = Volunteer.objects.create(user=volunteer_user)
    now_local = timezone.now().astimezone(dt.UTC).astimezone(HotlineSettings.objects.get().zone)
    start = (now_local - dt.timedelta(hours=1)).replace(second=0, microsecond=0)
    end = (now_local + dt.timedelta(hours=2)).replace(second=0, microsecond=0)
    make_shift(
        "Now shift",
        days=[start.weekday()],
        start=start.strftime("%H:%M"),
        end=end.strftime("%H:%M"),
        volunteers=[volunteer],
    )
    page = volunteer_client.get(reverse("dashboard")).content.decode()
    assert "On shift now" in page
    assert f"Until {end:%A %H:%M}" in page
    assert "Europe/Madrid" in page


def test_dashboard_shows_the_next_shift(volunteer_client, volunteer_user, make_shift):
    volunteer = Volunteer.objects.create(user=volunteer_user)
    zone = HotlineSettings.objects.get_or_create(pk=1)[0].zone
    tomorrow = timezone.now().astimezone(zone).date() + dt.timedelta(days=1)
    make_shift("Tomorrow", days=[tomorrow.weekday()], start="10:00", end="12:00", volunteers=[volunteer])
    page = volunteer_client.get(reverse("dashboard")).content.decode()
    assert "Off shift" in page
    assert f"Next: Tomorrow, {tomorrow:%A} {tomorrow.day} {tomorrow:%B}, 10:00\N{EN DASH}12:00" in page


def test_admin_dashboard_lists_who_is_on_shift_and_who_would_ring(admin_client, make_volunteer, make_shift):
    amy = make_volunteer("amy", on_break=True)
    make_volunteer("bob", in_fallback_group=True)
    make_shift("Always", start="00:00", end="23:59", volunteers=[amy])
    page = admin_client.get(reverse("dashboard")).content.decode()
    on_shift = page.split('id="on-shift-now"')[1].split("</section>")[0]
    assert "Amy" in on_shift and "on break" in on_shift
    assert "A call now would ring:" in on_shift and "Bob" in on_shift
