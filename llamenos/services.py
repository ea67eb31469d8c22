from __future__ import annotations

from django.db import transaction

from .audit import audit_record
from .models import HotlineSettings, User
from .selectors import hotline_settings_get


@transaction.atomic
def hotline_settings_update(*, actor: User, request=None, **fields) -> HotlineSettings:
    row = hotline_settings_get()
    changed = {name: value for name, value in fields.items() if getattr(row, name) != value}
    for name, value in changed.items():
        setattr(row, name, value)
    row.full_clean()
    row.save()
    if changed:
        audit_record(
            event="settings.hotline_updated",
            actor=actor,
            target="hotline settings",
            details={"changed": sorted(changed)},
            request=request,
        )
    return row
