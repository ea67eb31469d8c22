"""Who is on shift when: time-zone-aware shift selectors and week coverage. Who to ring for a
call (on shift, not on break, not busy) is telephony.ringing's business.

Shift times are wall-clock times in the hotline's time zone on the day the shift starts. They
are turned into real instants with ``zoneinfo`` and fold=0, which gives these rules on the two
DST nights (PEP 495):

- spring forward (a wall-clock hour does not exist): a start or end inside the gap is read with
  the offset in force before the jump, i.e. it lands that much later in the new time
  (02:30 in New York on the spring-forward night becomes 03:30 EDT). A 01:00-03:00 shift that
  night therefore runs one real hour, 01:00 EST to 03:00 EDT.
- fall back (a wall-clock hour happens twice): an ambiguous start or end means its first
  occurrence. A 01:00-03:00 shift that night runs three real hours and covers both 01:xx hours.

All comparisons are made in UTC: comparing two datetimes that share a ZoneInfo compares their
wall-clock readings and ignores ``fold``, which is wrong on exactly those nights.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from llamenos.selectors import hotline_settings_get

from .models import WEEKDAY_CHOICES, Shift, Volunteer

UTC = dt.UTC
MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY


@dataclass(frozen=True)
class ShiftOccurrence:
    """One concrete run of a weekly shift, as real instants (in the hotline's zone)."""

    shift: Shift
    starts_at: dt.datetime
    ends_at: dt.datetime

    def covers(self, at: dt.datetime) -> bool:
        return self.starts_at.astimezone(UTC) <= at.astimezone(UTC) < self.ends_at.astimezone(UTC)


def _hotline_zone() -> ZoneInfo:
    return hotline_settings_get().zone


def local_instant(day: dt.date, time: dt.time, zone: ZoneInfo) -> dt.datetime:
    """The real instant of wall-clock ``time`` on ``day`` in ``zone`` (fold=0; see module doc)."""
    naive = dt.datetime.combine(day, time).replace(fold=0)
    # The UTC round trip normalises a time inside a spring-forward gap to one that exists.
    return naive.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)


def shift_occurrence_on(shift: Shift, day: dt.date, *, zone: ZoneInfo) -> ShiftOccurrence | None:
    """The run of ``shift`` that starts on ``day``, or None if the shift does not run that day."""
    if day.weekday() not in shift.days:
        return None
    end_day = day + dt.timedelta(days=1) if shift.end_time <= shift.start_time else day
    return ShiftOccurrence(
        shift=shift,
        starts_at=local_instant(day, shift.start_time, zone),
        ends_at=local_instant(end_day, shift.end_time, zone),
    )


def shift_occurrences(
    shift: Shift, *, first_day: dt.date, last_day: dt.date, zone: ZoneInfo
) -> Iterator[ShiftOccurrence]:
    day = first_day
    while day <= last_day:
        occurrence = shift_occurrence_on(shift, day, zone=zone)
        if occurrence is not None:
            yield occurrence
        day += dt.timedelta(days=1)


def shift_occurrence_at(
    shift: Shift, at: dt.datetime, *, zone: ZoneInfo | None = None
) -> ShiftOccurrence | None:
    """The run of ``shift`` covering ``at``: one that started today or, overnight, yesterday."""
    zone = zone or _hotline_zone()
    local_day = at.astimezone(zone).date()
    for day in (local_day, local_day - dt.timedelta(days=1)):
        occurrence = shift_occurrence_on(shift, day, zone=zone)
        if occurrence is not None and occurrence.covers(at):
            return occurrence
    return None


def shift_active_at(shift: Shift, at: dt.datetime, *, zone: ZoneInfo | None = None) -> bool:
    return shift_occurrence_at(shift, at, zone=zone) is not None


def shift_plans() -> list[Shift]:
    """When each shift runs (not who is on it: the queries below read membership)."""
    return list(Shift.objects.only("id", "days", "start_time", "end_time"))


def shifts_active_at(*, at: dt.datetime, shifts: Iterable[Shift] | None = None) -> list[Shift]:
    zone = _hotline_zone()
    shifts = shift_plans() if shifts is None else shifts
    return [shift for shift in shifts if shift_active_at(shift, at, zone=zone)]


def shift_ids_active_at(*, at: dt.datetime) -> tuple[int, ...]:
    return tuple(shift.pk for shift in shifts_active_at(at=at))


def volunteer_ids_on_shift(
    *, at: dt.datetime | None = None, shift_ids: tuple[int, ...] | None = None
) -> QuerySet:
    """Ids of the volunteers assigned to a shift active at ``at`` (or to ``shift_ids``), as a subquery."""
    active = shift_ids_active_at(at=at) if shift_ids is None else shift_ids
    return Shift.volunteers.through.objects.filter(shift_id__in=active).values("volunteer_id")


def volunteers_on_shift(*, at: dt.datetime) -> QuerySet[Volunteer]:
    """Everyone assigned to a shift active at ``at`` (any state), ordered by user id."""
    return (
        Volunteer.objects.filter(id__in=volunteer_ids_on_shift(at=at))
        .select_related("user")
        .order_by("user_id")
    )


def volunteer_current_shift(*, volunteer: Volunteer, at: dt.datetime) -> ShiftOccurrence | None:
    """The shift run ``volunteer`` is on at ``at``; with overlapping shifts, the one ending last."""
    zone = _hotline_zone()
    running = [
        occurrence
        for shift in volunteer.shifts.all()
        if (occurrence := shift_occurrence_at(shift, at, zone=zone)) is not None
    ]
    return max(running, key=lambda occurrence: occurrence.ends_at.astimezone(UTC), default=None)


def volunteer_next_shift(*, volunteer: Volunteer, at: dt.datetime) -> ShiftOccurrence | None:
    """The next shift run of ``volunteer`` starting after ``at`` (looking eight days ahead)."""
    zone = _hotline_zone()
    first_day = at.astimezone(zone).date()
    upcoming = [
        occurrence
        for shift in volunteer.shifts.all()
        for occurrence in shift_occurrences(
            shift, first_day=first_day, last_day=first_day + dt.timedelta(days=8), zone=zone
        )
        if occurrence.starts_at.astimezone(UTC) > at.astimezone(UTC)
    ]
    return min(upcoming, key=lambda occurrence: occurrence.starts_at.astimezone(UTC), default=None)


# --- Week view -------------------------------------------------------------------------------
# The week view is a timetable of wall-clock hours, so it is computed in wall-clock minutes of a
# generic week (Monday 00:00 = 0), not real instants: DST nights do not change the plan.


@dataclass(frozen=True)
class CoverageCell:
    hour: int
    full: int  # volunteers covering the whole hour
    partial: int  # volunteers covering only part of it

    @property
    def nobody(self) -> bool:
        return self.full == 0


@dataclass(frozen=True)
class CoverageDay:
    weekday: int
    name: str
    cells: list[CoverageCell]


def _shift_minutes(shift: Shift) -> Iterator[int]:
    start = shift.start_time.hour * 60 + shift.start_time.minute
    end = shift.end_time.hour * 60 + shift.end_time.minute
    length = end - start if end > start else end + MINUTES_PER_DAY - start
    for day in shift.days:
        first = day * MINUTES_PER_DAY + start
        for minute in range(first, first + length):
            yield minute % MINUTES_PER_WEEK  # Sunday night runs into Monday morning


def week_coverage(*, shifts: Iterable[Shift] | None = None) -> list[CoverageDay]:
    """Per weekday and hour, how many active volunteers the shifts put on the line."""
    shifts = Shift.objects.prefetch_related("volunteers__user") if shifts is None else shifts
    covered: dict[int, bytearray] = {}
    for shift in shifts:
        active = [volunteer for volunteer in shift.volunteers.all() if volunteer.user.is_active]
        if not active:
            continue
        minutes = list(_shift_minutes(shift))
        for volunteer in active:
            timeline = covered.setdefault(volunteer.id, bytearray(MINUTES_PER_WEEK))
            for minute in minutes:
                timeline[minute] = 1
    days = []
    for weekday, name in WEEKDAY_CHOICES:
        cells = []
        for hour in range(24):
            first = weekday * MINUTES_PER_DAY + hour * 60
            counts = [sum(timeline[first : first + 60]) for timeline in covered.values()]
            full = sum(1 for count in counts if count == 60)
            partial = sum(1 for count in counts if 0 < count < 60)
            cells.append(CoverageCell(hour=hour, full=full, partial=partial))
        days.append(CoverageDay(weekday=weekday, name=name, cells=cells))
    return days
