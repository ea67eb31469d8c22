"""Shift activity in the hotline's time zone, including overnight shifts and both DST nights."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from volunteers.shifts import shift_active_at

NEW_YORK = ZoneInfo("America/New_York")
MADRID = ZoneInfo("Europe/Madrid")
UTC = dt.UTC

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def at(zone, *args, fold=0):
    return dt.datetime(*args, tzinfo=zone, fold=fold)


def utc(*args):
    return dt.datetime(*args, tzinfo=UTC)


@pytest.fixture
def new_york(hotline_zone):
    hotline_zone("America/New_York")


@pytest.fixture
def madrid(hotline_zone):
    hotline_zone("Europe/Madrid")


# 2025-06-02 is a Monday.
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("moment", "active"),
    [
        (at(NEW_YORK, 2025, 6, 2, 8, 59), False),
        (at(NEW_YORK, 2025, 6, 2, 9, 0), True),
        (at(NEW_YORK, 2025, 6, 2, 16, 59), True),
        (at(NEW_YORK, 2025, 6, 2, 17, 0), False),
        (utc(2025, 6, 2, 14, 0), True),  # 10:00 EDT, asked in UTC
        (utc(2025, 6, 2, 22, 0), False),  # 18:00 EDT
    ],
)
def test_ordinary_day_shift(new_york, make_shift, moment, active):
    shift = make_shift(days=[MON], start="09:00", end="17:00")
    assert shift_active_at(shift, moment) is active


@pytest.mark.django_db
def test_a_day_not_listed_is_not_active(new_york, make_shift):
    shift = make_shift(days=[MON, WED], start="09:00", end="17:00")
    assert shift_active_at(shift, at(NEW_YORK, 2025, 6, 3, 12, 0)) is False  # Tuesday
    assert shift_active_at(shift, at(NEW_YORK, 2025, 6, 4, 12, 0)) is True  # Wednesday


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("moment", "active"),
    [
        (at(NEW_YORK, 2025, 6, 2, 21, 59), False),  # Monday, before it starts
        (at(NEW_YORK, 2025, 6, 2, 23, 59), True),  # Monday, just before midnight
        (at(NEW_YORK, 2025, 6, 3, 0, 1), True),  # Tuesday, just after midnight
        (at(NEW_YORK, 2025, 6, 3, 5, 59), True),
        (at(NEW_YORK, 2025, 6, 3, 6, 0), False),  # ended on Tuesday morning
        # Tuesday is not a start day: Tuesday 23:00 and Wednesday 01:00 are off.
        (at(NEW_YORK, 2025, 6, 3, 23, 0), False),
        (at(NEW_YORK, 2025, 6, 4, 1, 0), False),
        # Sunday 00:30 belongs to no run (Saturday is not listed either).
        (at(NEW_YORK, 2025, 6, 1, 0, 30), False),
    ],
)
def test_overnight_shift_belongs_to_its_start_day(new_york, make_shift, moment, active):
    shift = make_shift(days=[MON], start="22:00", end="06:00")
    assert shift_active_at(shift, moment) is active


@pytest.mark.django_db
def test_sunday_overnight_runs_into_monday(new_york, make_shift):
    shift = make_shift(days=[SUN], start="22:00", end="02:00")
    assert shift_active_at(shift, at(NEW_YORK, 2025, 6, 2, 1, 30)) is True  # Monday 01:30
    assert shift_active_at(shift, at(NEW_YORK, 2025, 6, 3, 1, 30)) is False


# Spring forward: New York 2025-03-09 (Sunday) 02:00 EST -> 03:00 EDT;
# Madrid 2025-03-30 (Sunday) 02:00 CET -> 03:00 CEST.
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("zone_name", "moment", "active"),
    [
        ("America/New_York", utc(2025, 3, 9, 5, 59), False),  # 00:59 EST
        ("America/New_York", utc(2025, 3, 9, 6, 0), True),  # 01:00 EST
        ("America/New_York", utc(2025, 3, 9, 6, 59), True),  # 01:59 EST
        ("America/New_York", utc(2025, 3, 9, 7, 0), False),  # 03:00 EDT: the shift has ended
        ("America/New_York", at(NEW_YORK, 2025, 3, 9, 3, 30), False),
        ("Europe/Madrid", utc(2025, 3, 29, 23, 59), False),  # 00:59 CET
        ("Europe/Madrid", utc(2025, 3, 30, 0, 0), True),  # 01:00 CET
        ("Europe/Madrid", utc(2025, 3, 30, 0, 59), True),  # 01:59 CET
        ("Europe/Madrid", utc(2025, 3, 30, 1, 0), False),  # 03:00 CEST
    ],
)
def test_spring_forward_night(hotline_zone, make_shift, zone_name, moment, active):
    hotline_zone(zone_name)
    shift = make_shift(days=[SUN], start="01:00", end="03:00")
    assert shift_active_at(shift, moment) is active


# Fall back: New York 2025-11-02 (Sunday) 02:00 EDT -> 01:00 EST (01:xx happens twice);
# Madrid 2025-10-26 (Sunday) 03:00 CEST -> 02:00 CET (02:xx happens twice).
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("zone_name", "moment", "active"),
    [
        ("America/New_York", utc(2025, 11, 2, 4, 59), False),  # 00:59 EDT
        ("America/New_York", utc(2025, 11, 2, 5, 0), True),  # 01:00 EDT (first 01:00)
        ("America/New_York", at(NEW_YORK, 2025, 11, 2, 1, 30, fold=1), True),  # second 01:30 (EST)
        ("America/New_York", utc(2025, 11, 2, 7, 59), True),  # 02:59 EST
        ("America/New_York", utc(2025, 11, 2, 8, 0), False),  # 03:00 EST
        ("Europe/Madrid", utc(2025, 10, 25, 22, 59), False),  # 00:59 CEST
        ("Europe/Madrid", utc(2025, 10, 25, 23, 0), True),  # 01:00 CEST
        ("Europe/Madrid", at(MADRID, 2025, 10, 26, 2, 30, fold=0), True),  # first 02:30 (CEST)
        ("Europe/Madrid", at(MADRID, 2025, 10, 26, 2, 30, fold=1), True),  # second 02:30 (CET)
        ("Europe/Madrid", utc(2025, 10, 26, 1, 59), True),  # 02:59 CET
        ("Europe/Madrid", utc(2025, 10, 26, 2, 0), False),  # 03:00 CET
    ],
)
def test_fall_back_night(hotline_zone, make_shift, zone_name, moment, active):
    hotline_zone(zone_name)
    shift = make_shift(days=[SUN], start="01:00", end="03:00")
    assert shift_active_at(shift, moment) is active


@pytest.mark.django_db
def test_shift_starting_inside_the_spring_forward_gap_starts_after_the_jump(new_york, make_shift):
    # 02:30 does not exist that night; it is read with the pre-jump offset, i.e. 03:30 EDT.
    shift = make_shift(days=[SUN], start="02:30", end="05:00")
    assert shift_active_at(shift, at(NEW_YORK, 2025, 3, 9, 3, 29)) is False
    assert shift_active_at(shift, at(NEW_YORK, 2025, 3, 9, 3, 30)) is True


@pytest.mark.django_db
def test_the_hotline_time_zone_decides(hotline_zone, make_shift):
    shift = make_shift(days=[MON], start="09:00", end="10:00")
    moment = utc(2025, 6, 2, 7, 30)  # 09:30 in Madrid, 03:30 in New York
    hotline_zone("Europe/Madrid")
    assert shift_active_at(shift, moment) is True
    hotline_zone("America/New_York")
    assert shift_active_at(shift, moment) is False
