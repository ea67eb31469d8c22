"""Demo accounts for the local run: one admin and three volunteers. Refuses outside DEBUG."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from llamenos.models import Role
from telephony.demo import demo_populate as telephony_demo_populate
from volunteers.demo import demo_populate as volunteers_demo_populate

DEMO_USERS = [
    ("admin", "Alex", "Admin", Role.ADMIN),
    ("ana", "Ana", "García", Role.VOLUNTEER),
    ("ben", "Ben", "Okafor", Role.VOLUNTEER),
    ("chloe", "Chloé", "Martin", Role.VOLUNTEER),
]


class Command(BaseCommand):
    help = "Create or refresh the demo accounts and print their passwords (development only)."

    def handle(self, *args, **options):
        if not settings.DEBUG or settings.SETTINGS_MODULE.endswith(".prod"):
            raise CommandError("demo_data only runs with development settings (DEBUG on).")
        User = get_user_model()
        self.stdout.write("Demo accounts (passwords change every time this runs):")
        for username, first, last, role in DEMO_USERS:
            user, _ = User.objects.update_or_create(
                username=username,
                defaults={"first_name": first, "last_name": last, "role": role, "is_active": True},
            )
            password = secrets.token_urlsafe(9)
            user.set_password(password)
            user.save()
            self.stdout.write(f"  {role:<10} {username:<8} {password}")
        self.extend_demo()

    def extend_demo(self) -> None:
        """Feature apps add their demo rows (profiles, shifts, provider accounts) here."""
        volunteers_demo_populate()
        telephony_demo_populate()
