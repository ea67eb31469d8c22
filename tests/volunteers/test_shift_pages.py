"""Shift forms, the fallback group page and the week view's coverage counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from llamenos.models import AuditEvent
from volunteers.models import Shift, Volunteer
from volunteers.shifts import week_coverage

pytestmark = pytest.mark.django_db


def shift_form(volunteers=(), **overrides):
    data = {
        "name": "Evening",
        "days": ["0", "2"],
        "start_time": "18:00",
        "end_time": "22:00",
        "volunteers": [str(v.pk) for v in volunteers],
    }
    return {**data, **overrides}


def test_admin_creates_a_shift_with_volunteers_and_it_is_audited(admin_client, make_volunteer):
    amy, bob = make_volunteer("amy"), make_volunteer("bob")
    response = admin_client.post(reverse("shift_create"), shift_form(volunteers=[amy, bob]))
    assert response.status_code == 302
    shift = Shift.objects.get()
    assert (shift.name, shift.days, shift.start_time, shift.end_time) == (
        "Evening",
        [0, 2],
        dt.time(18),
        dt.time(22),
    )
    assert set(shift.volunteers.all()) == {amy, bob}
    event = AuditEvent.objects.get(event="shift.created")
    assert event.details == {"days": "0,2", "start": "18:00", "end": "22:00", "volunteers_count": 2}
    listing = admin_client.get(reverse("shift_list")).content.decode()
    assert "Monday, Wednesday" in listing and "18:00\N{EN DASH}22:00" in listing


def test_end_equal_to_start_is_a_form_error(admin_client):
    response = admin_client.post(reverse("shift_create"), shift_form(start_time="09:00", end_time="09:00"))
    assert response.status_code == 200
    assert "The end time must differ from the start time." in response.content.decode()
    assert not Shift.objects.exists()


def test_no_day_selected_is_a_form_error(admin_client):
    response = admin_client.post(reverse("shift_create"), shift_form(days=[]))
    assert "Choose at least one day." in response.content.decode()
    assert not Shift.objects.exists()


@pytest.mark.parametrize(
    "overrides",
    [{"days": ["7"]}, {"start_time": "25:00"}, {"end_time": ""}, {"name": ""}, {"volunteers": ["999999"]}],
)
def test_other_bad_shift_input_saves_nothing(admin_client, overrides):
    response = admin_client.post(reverse("shift_create"), {**shift_form(), **overrides})
    assert response.status_code == 200
    assert 'class="error"' in response.content.decode()
    assert not Shift.objects.exists()
    assert not AuditEvent.objects.filter(event="shift.created").exists()


def test_overnight_shift_is_allowed_and_marked(admin_client):
    admin_client.post(reverse("shift_create"), shift_form(start_time="22:00", end_time="06:00"))
    assert Shift.objects.get().overnight
    assert "overnight" in admin_client.get(reverse("shift_list")).content.decode()


def test_admin_edits_and_deletes_a_shift(admin_client, make_shift, make_volunteer):
    amy = make_volunteer("amy")
    shift = make_shift("Morning", days=[1])
    edit_page = admin_client.get(reverse("shift_edit", args=[shift.pk])).content.decode()
    assert 'value="Morning"' in edit_page
    admin_client.post(
        reverse("shift_edit", args=[shift.pk]), shift_form(volunteers=[amy], name="Early", days=["1", "3"])
    )
    shift.refresh_from_db()
    assert (shift.name, shift.days, list(shift.volunteers.all())) == ("Early", [1, 3], [amy])
    assert AuditEvent.objects.filter(event="shift.updated").exists()

    assert "Delete the shift" in admin_client.get(reverse("shift_delete", args=[shift.pk])).content.decode()
    admin_client.post(reverse("shift_delete", args=[shift.pk]))
    assert not Shift.objects.exists()
    assert AuditEvent.objects.filter(event="shift.deleted").exists()


def test_unknown_shift_is_a_404(admin_client):
    assert admin_client.get(reverse("shift_edit", args=[424242])).status_code == 404
    assert admin_client.post(reverse("shift_delete", args=[424242])).status_code == 404


def test_volunteers_cannot_touch_shifts(volunteer_client, make_shift):
    shift = make_shift()
    assert volunteer_client.post(reverse("shift_create"), shift_form()).status_code == 403
    assert volunteer_client.post(reverse("shift_delete", args=[shift.pk])).status_code == 403
    assert Shift.objects.count() == 1


def test_fallback_group_page_sets_members_and_audits(admin_client, make_volunteer):
    amy, bob = make_volunteer("amy", in_fallback_group=True), make_volunteer("bob")
    response = admin_client.post(reverse("fallback_group"), {"volunteers": [str(bob.pk)]})
    assert response.status_code == 302
    assert list(Volunteer.objects.filter(in_fallback_group=True)) == [bob]
    event = AuditEvent.objects.get(event="fallback_group.updated")
    assert event.details == {
        "added_user_ids": [bob.user_id],
        "removed_user_ids": [amy.user_id],
        "members_count": 1,
    }
    assert "Bob" in admin_client.get(reverse("shift_list")).content.decode().split("Fallback group</h2>")[1]


def cell(days, weekday, hour):
    return days[weekday].cells[hour]


def test_week_coverage_counts_volunteers_per_hour(make_volunteer, make_shift):
    amy, bob = make_volunteer("amy"), make_volunteer("bob")
    gone = make_volunteer("gone", is_active=False)
    make_shift(days=[0], start="09:00", end="17:00", volunteers=[amy, bob, gone])
    make_shift(days=[0], start="12:30", end="14:00", volunteers=[amy])
    make_shift(days=[6], start="22:00", end="02:00", volunteers=[bob])  # Sunday into Monday
    days = week_coverage()
    assert (cell(days, 0, 8).full, cell(days, 0, 9).full, cell(days, 0, 16).full) == (0, 2, 2)
    assert cell(days, 0, 17).nobody
    assert cell(days, 0, 12).full == 2  # amy twice is still one volunteer
    assert (cell(days, 6, 23).full, cell(days, 0, 1).full, cell(days, 0, 2).full) == (1, 1, 0)
    assert cell(days, 1, 1).nobody  # Monday's run does not exist


def test_week_coverage_counts_part_hours_separately(make_volunteer, make_shift):
    amy = make_volunteer("amy")
    make_shift(days=[2], start="09:30", end="10:00", volunteers=[amy])
    wednesday_nine = cell(week_coverage(), 2, 9)
    assert (wednesday_nine.full, wednesday_nine.partial, wednesday_nine.nobody) == (0, 1, True)


def test_week_view_highlights_hours_with_nobody(admin_client, make_volunteer, make_shift):
    amy = make_volunteer("amy")
    make_shift(days=[0], start="09:00", end="10:00", volunteers=[amy])
    page = admin_client.get(reverse("shift_week")).content.decode()
    assert 'class="cover covered" data-day="0" data-hour="9">1<' in page
    assert 'class="cover nobody" data-day="0" data-hour="10">0<' in page
    assert page.count("cover nobody") == 7 * 24 - 1
