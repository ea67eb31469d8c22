from __future__ import annotations

from django.db.models import QuerySet

from .models import AuditEvent, HotlineSettings


def hotline_settings_get() -> HotlineSettings:
    """The hotline's settings row (django-solo: cached in Django's cache, renewed on save)."""
    return HotlineSettings.get_solo()


def audit_events_list(*, actor: str = "", event: str = "") -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.all()
    if actor:
        events = events.filter(actor_label=actor)
    if event:
        events = events.filter(event=event)
    return events


def audit_filter_choices() -> tuple[list[str], list[str]]:
    actors = AuditEvent.objects.order_by("actor_label").values_list("actor_label", flat=True).distinct()
    events = AuditEvent.objects.order_by("event").values_list("event", flat=True).distinct()
    return list(actors), list(events)
