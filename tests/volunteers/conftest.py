from __future__ import annotations

import datetime as dt

import pytest

from llamenos.models import HotlineSettings


@pytest.fixture
def make_volunteer(make_user):
    from volunteers.models import Volunteer

    def make(username: str, *, phone: str = "", is_active: bool = True, **fields) -> Volunteer:
        user = make_user(username, is_active=is_active)
        return Volunteer.objects.create(user=user, phone=phone, **fields)

    return make


@pytest.fixture
def make_shift(db):
    from volunteers.models import Shift

    def make(
        name: str = "Shift",
        *,
        days: list[int] | None = None,
        start: str = "09:00",
        end: str = "17:00",
        volunteers=(),
    ) -> Shift:
        shift = Shift.objects.create(
            name=name,
            days=list(range(7)) if days is None else days,
            start_time=dt.time.fromisoformat(start),
            end_time=dt.time.fromisoformat(end),
        )
        shift.volunteers.set(volunteers)
        return shift

    return make


@pytest.fixture
def hotline_zone(db):
    """Set the hotline's time zone: ``hotline_zone("Europe/Madrid")``."""

    def set_zone(name: str) -> None:
        HotlineSettings.objects.update_or_create(pk=1, defaults={"time_zone": name})

    return set_zone
