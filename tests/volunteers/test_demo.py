from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.core.management import call_command

from llamenos.models import User
from telephony.ringing import volunteers_to_ring
from volunteers.models import Shift, Volunteer


@pytest.mark.django_db
def test_demo_data_gives_the_demo_volunteers_profiles_and_round_the_clock_shifts(capsys, monkeypatch):
    # Not override_settings: the command also checks settings.SETTINGS_MODULE, which it hides.
    monkeypatch.setattr(settings, "DEBUG", True)
    call_command("demo_data")
    call_command("demo_data")  # idempotent: refreshes instead of duplicating
    assert Volunteer.objects.filter(user__username__in=["ana", "ben", "chloe"]).count() == 3
    assert list(
        Volunteer.objects.filter(in_fallback_group=True).values_list("user__username", flat=True)
    ) == ["chloe"]
    assert Shift.objects.count() == 2
    start = dt.datetime(2025, 6, 2, tzinfo=dt.UTC)
    for hour in range(0, 24 * 7, 5):
        assert volunteers_to_ring(at=start + dt.timedelta(hours=hour)), f"nobody on shift at +{hour}h"
    assert "Demo accounts" in capsys.readouterr().out
    assert User.objects.get(username="ana").volunteer.phone == "+12025550101"
