"""Volunteer profiles, invites and weekly shifts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from phonenumber_field.modelfields import PhoneNumberField

from llamenos.models import Role

# Languages a volunteer can take calls in (codes match the caller's language menu).
LANGUAGE_CHOICES = [
    ("en", "English"),
    ("es", "Español"),
    ("fr", "Français"),
    ("pt", "Português"),
    ("ht", "Kreyòl ayisyen"),
    ("ar", "العربية"),
    ("zh", "中文"),
    ("vi", "Tiếng Việt"),
    ("ru", "Русский"),
    ("de", "Deutsch"),
]
LANGUAGE_NAMES = dict(LANGUAGE_CHOICES)

WEEKDAY_CHOICES = [
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
]
WEEKDAY_NAMES = dict(WEEKDAY_CHOICES)


class CallPreference(models.TextChoices):
    PHONE = "phone", "My phone"
    BROWSER = "browser", "The browser"
    BOTH = "both", "Both"


class Volunteer(models.Model):
    """The hotline side of a person: how to reach them and whether they may be rung now.

    Active means ``user.is_active``; the admin role lives on ``user.role``.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="volunteer")
    # E.164; empty when the volunteer only takes calls in the browser.
    phone = PhoneNumberField(blank=True)
    spoken_languages = models.JSONField(default=list, blank=True)
    call_preference = models.CharField(
        max_length=8, choices=CallPreference.choices, default=CallPreference.PHONE
    )
    on_break = models.BooleanField(default=False)
    # Rung when no shift is active or when nobody on shift is available.
    in_fallback_group = models.BooleanField(default=False)
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["user_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["phone"], condition=~models.Q(phone=""), name="volunteer_phone_unique"
            )
        ]

    def __str__(self) -> str:
        return self.user.display_name

    @property
    def language_names(self) -> list[str]:
        return [LANGUAGE_NAMES.get(code, code) for code in self.spoken_languages]


class Invite(models.Model):
    """A one-time sign-up link. Only the SHA-256 of the token is stored; the link is shown once."""

    first_name = models.CharField(max_length=150)
    last_name = models.CharField(max_length=150, blank=True)
    phone = PhoneNumberField(blank=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VOLUNTEER)
    token_hash = models.CharField(max_length=64, unique=True)
    # Set when the invite is for an account an admin already added, or once it is accepted.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="invites"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(db_default=Now())
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"invite for {self.display_name}"

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Shift(models.Model):
    """A named weekly shift. Times are wall-clock times in the hotline's time zone.

    An overnight shift (end before start) belongs to the day it starts and runs into the next
    morning; see ``volunteers.shifts`` for how DST nights are read.
    """

    name = models.CharField(max_length=100)
    # Weekday numbers, Monday = 0 (datetime.weekday()).
    days = models.JSONField(default=list)
    start_time = models.TimeField()
    end_time = models.TimeField()
    volunteers = models.ManyToManyField(Volunteer, blank=True, related_name="shifts")
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start_time", "name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(start_time=models.F("end_time")), name="shift_not_empty"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def overnight(self) -> bool:
        return self.end_time < self.start_time

    @property
    def day_names(self) -> list[str]:
        return [WEEKDAY_NAMES[day] for day in sorted(self.days)]
