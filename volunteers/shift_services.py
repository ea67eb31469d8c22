"""Create, edit and delete weekly shifts; every change is audited and announced live."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.http import HttpRequest

from llamenos.audit import audit_record
from llamenos.events import ADMINS_GROUP, events_send, volunteer_group
from llamenos.models import User

from .models import Shift, Volunteer


def _announce(shift_id: int, user_ids: Iterable[int]) -> None:
    groups = [ADMINS_GROUP, *(volunteer_group(user_id) for user_id in sorted(set(user_ids)))]
    events_send(groups=groups, event_type="shift.changed", shift_id=shift_id)


def _details(shift: Shift) -> dict:
    return {
        "days": ",".join(str(day) for day in sorted(shift.days)),
        "start": shift.start_time.strftime("%H:%M"),
        "end": shift.end_time.strftime("%H:%M"),
        "volunteers_count": shift.volunteers.count(),
    }


@transaction.atomic
def shift_create(
    *,
    actor: User,
    request: HttpRequest | None = None,
    name: str,
    days: list[int],
    start_time: dt.time,
    end_time: dt.time,
    volunteers: Iterable[Volunteer] = (),
) -> Shift:
    shift = Shift(name=name, days=sorted(set(days)), start_time=start_time, end_time=end_time)
    shift.full_clean()
    shift.save()
    shift.volunteers.set(volunteers)
    audit_record(
        event="shift.created",
        actor=actor,
        target=f"shift {shift.pk} ({shift.name})",
        details=_details(shift),
        request=request,
    )
    _announce(shift.pk, shift.volunteers.values_list("user_id", flat=True))
    return shift


@transaction.atomic
def shift_update(
    *,
    actor: User,
    request: HttpRequest | None = None,
    shift: Shift,
    name: str,
    days: list[int],
    start_time: dt.time,
    end_time: dt.time,
    volunteers: Iterable[Volunteer] = (),
) -> Shift:
    before = set(shift.volunteers.values_list("user_id", flat=True))
    shift.name, shift.days = name, sorted(set(days))
    shift.start_time, shift.end_time = start_time, end_time
    shift.full_clean()
    shift.save()
    shift.volunteers.set(volunteers)
    after = set(shift.volunteers.values_list("user_id", flat=True))
    audit_record(
        event="shift.updated",
        actor=actor,
        target=f"shift {shift.pk} ({shift.name})",
        details=_details(shift),
        request=request,
    )
    _announce(shift.pk, before | after)
    return shift


@transaction.atomic
def shift_delete(*, actor: User, request: HttpRequest | None = None, shift: Shift) -> None:
    shift_id, details, target = shift.pk, _details(shift), f"shift {shift.pk} ({shift.name})"
    user_ids = list(shift.volunteers.values_list("user_id", flat=True))
    shift.delete()
    audit_record(event="shift.deleted", actor=actor, target=target, details=details, request=request)
    _announce(shift_id, user_ids)
