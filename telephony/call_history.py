"""The call history: which calls an admin sees, filtered by day, outcome and volunteer."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from .models import Call


def calls_list(
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    state: str = "",
    volunteer=None,
    zone: dt.tzinfo,
) -> QuerySet[Call]:
    calls = Call.objects.select_related("answered_by__user", "provider_account")
    if start:
        calls = calls.filter(started_at__gte=dt.datetime.combine(start, dt.time.min, tzinfo=zone))
    if end:
        calls = calls.filter(
            started_at__lt=dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
        )
    if state:
        calls = calls.filter(state=state)
    if volunteer:
        calls = calls.filter(answered_by=volunteer)
    return calls
