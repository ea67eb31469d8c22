"""Demo rows for the local run: profiles for the demo volunteers, two shifts covering the whole
week (so someone is on shift whenever the demo is opened) and a fallback member."""

from __future__ import annotations

import datetime as dt

from llamenos.models import User

from .models import CallPreference, Shift, Volunteer

# Fictional numbers: 555-01xx is reserved for fiction in North America.
DEMO_PROFILES = {
    "ana": {
        "phone": "+12025550101",
        "spoken_languages": ["es", "en"],
        "call_preference": CallPreference.BOTH,
    },
    "ben": {"phone": "+12025550102", "spoken_languages": ["en"], "call_preference": CallPreference.PHONE},
    "chloe": {
        "phone": "+12025550103",
        "spoken_languages": ["fr", "en"],
        "call_preference": CallPreference.BROWSER,
        "in_fallback_group": True,
    },
}
ALL_DAYS = list(range(7))
DEMO_SHIFTS = [
    ("Day line", dt.time(8, 0), dt.time(20, 0), ["ana", "ben"]),
    ("Night line", dt.time(20, 0), dt.time(8, 0), ["ben", "chloe"]),
]


def demo_populate() -> None:
    volunteers = {}
    for username, profile in DEMO_PROFILES.items():
        user = User.objects.filter(username=username).first()
        if user is None:
            continue
        volunteer, _ = Volunteer.objects.update_or_create(
            user=user, defaults={"on_break": False, "in_fallback_group": False, **profile}
        )
        volunteers[username] = volunteer
    for name, start, end, members in DEMO_SHIFTS:
        shift, _ = Shift.objects.update_or_create(
            name=name, defaults={"days": ALL_DAYS, "start_time": start, "end_time": end}
        )
        shift.volunteers.set([volunteers[member] for member in members if member in volunteers])
