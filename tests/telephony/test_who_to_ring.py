"""Who to ring for a call: on shift, not on break, not busy; else the fallback group."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from telephony.ringing import anyone_to_ring, volunteers_to_ring

NEW_YORK = ZoneInfo("America/New_York")
MON = 0


def at(zone, *args):
    return dt.datetime(*args, tzinfo=zone)


@pytest.fixture
def new_york(hotline_zone):
    hotline_zone("America/New_York")


NOON_MONDAY = at(NEW_YORK, 2025, 6, 2, 12, 0)


@pytest.mark.django_db
def test_on_shift_volunteers_are_rung_in_user_order(new_york, make_volunteer, make_shift):
    zoe = make_volunteer("zoe")
    amy = make_volunteer("amy")
    make_volunteer("off_shift")
    make_shift(days=[MON], start="09:00", end="17:00", volunteers=[zoe, amy])
    assert [v.user.username for v in volunteers_to_ring(at=NOON_MONDAY)] == ["zoe", "amy"]


@pytest.mark.django_db
def test_on_break_and_inactive_volunteers_are_not_rung(new_york, make_volunteer, make_shift):
    on_duty = make_volunteer("on_duty")
    resting = make_volunteer("resting", on_break=True)
    gone = make_volunteer("gone", is_active=False)
    make_shift(days=[MON], volunteers=[on_duty, resting, gone])
    assert volunteers_to_ring(at=NOON_MONDAY) == [on_duty]


@pytest.mark.django_db
def test_fallback_group_rings_when_no_shift_is_active(new_york, make_volunteer, make_shift):
    on_duty = make_volunteer("on_duty")
    backup = make_volunteer("backup", in_fallback_group=True)
    make_volunteer("backup_resting", in_fallback_group=True, on_break=True)
    make_volunteer("backup_gone", in_fallback_group=True, is_active=False)
    make_shift(days=[MON], start="09:00", end="17:00", volunteers=[on_duty])
    assert volunteers_to_ring(at=NOON_MONDAY) == [on_duty]
    assert volunteers_to_ring(at=at(NEW_YORK, 2025, 6, 2, 20, 0)) == [backup]
    assert anyone_to_ring(at=NOON_MONDAY) and anyone_to_ring(at=at(NEW_YORK, 2025, 6, 2, 20, 0))


@pytest.mark.django_db
def test_a_next_round_rings_whoever_was_not_rung_then_the_fallback_group(
    new_york, make_volunteer, make_shift
):
    amy, zoe = make_volunteer("amy"), make_volunteer("zoe")
    backup = make_volunteer("backup", in_fallback_group=True)
    make_shift(days=[MON], volunteers=[amy, zoe])
    assert volunteers_to_ring(at=NOON_MONDAY, exclude_ids=[amy.pk]) == [zoe]
    assert volunteers_to_ring(at=NOON_MONDAY, exclude_ids=[amy.pk, zoe.pk]) == [backup]
    assert volunteers_to_ring(at=NOON_MONDAY, exclude_ids=[amy.pk, zoe.pk, backup.pk]) == []


@pytest.mark.django_db
def test_fallback_group_rings_when_nobody_on_shift_is_available(new_york, make_volunteer, make_shift):
    resting = make_volunteer("resting", on_break=True)
    gone = make_volunteer("gone", is_active=False)
    backup = make_volunteer("backup", in_fallback_group=True)
    make_shift(days=[MON], volunteers=[resting, gone])
    assert volunteers_to_ring(at=NOON_MONDAY) == [backup]
    assert anyone_to_ring(at=NOON_MONDAY)
    backup.on_break = True
    backup.save()
    assert volunteers_to_ring(at=NOON_MONDAY) == []
    assert not anyone_to_ring(at=NOON_MONDAY)  # the webhook's one-query check agrees


@pytest.mark.django_db
def test_nobody_to_ring_is_an_empty_list(new_york, make_volunteer):
    make_volunteer("idle")
    assert volunteers_to_ring(at=NOON_MONDAY) == []
    assert not anyone_to_ring(at=NOON_MONDAY)


@pytest.mark.django_db
def test_busy_volunteers_are_not_rung(new_york, make_volunteer, make_shift, monkeypatch):
    first = make_volunteer("first")
    second = make_volunteer("second")
    make_shift(days=[MON], volunteers=[first, second])
    monkeypatch.setattr("telephony.ringing.volunteer_busy_ids", lambda: {first.id})
    assert volunteers_to_ring(at=NOON_MONDAY) == [second]
    monkeypatch.setattr("telephony.ringing.volunteer_busy_ids", lambda: {first.id, second.id})
    assert not anyone_to_ring(at=NOON_MONDAY)
