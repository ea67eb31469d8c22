from __future__ import annotations

import zoneinfo

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Now
from solo.models import SingletonModel


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    VOLUNTEER = "volunteer", "Volunteer"


class User(AbstractUser):
    """A person who logs in. Exactly one role; admins are volunteers who may also run the hotline."""

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VOLUNTEER)

    @property
    def is_admin(self) -> bool:
        return self.is_active and self.role == Role.ADMIN

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone (for example America/New_York).")


class HotlineSettings(SingletonModel):
    """The one row of hotline-wide settings. Later features add their own sections beside it."""

    hotline_name = models.CharField(max_length=100, default="Llámenos")
    time_zone = models.CharField(max_length=64, default="America/New_York", validators=[validate_time_zone])
    default_language = models.CharField(
        max_length=8, default="en", choices=[("en", "English"), ("es", "Español")]
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "hotline settings"
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="hotline_settings_singleton")]

    def __str__(self) -> str:
        return self.hotline_name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class AuditEvent(models.Model):
    """Who did what, when. ``details`` never holds secrets or caller numbers (audit_record checks)."""

    created_at = models.DateTimeField(db_default=Now(), db_index=True)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Kept so an event still says who acted after the account is deleted; "system" when no actor.
    actor_label = models.CharField(max_length=150, default="system")
    event = models.CharField(max_length=64, db_index=True)
    target = models.CharField(max_length=200, blank=True)
    details = models.JSONField(default=dict, blank=True)
    ip_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["actor", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.event}"
