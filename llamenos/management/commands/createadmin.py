"""Create the first admin without prompts (deploy scripts, containers).

The password comes from LLAMENOS_ADMIN_PASSWORD (or LLAMENOS_ADMIN_PASSWORD_FILE); without it a
strong one is generated and printed once.
"""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from llamenos.audit import audit_record
from llamenos.models import Role
from llamenos.settings.base import env_secret


class Command(BaseCommand):
    help = "Create a hotline admin non-interactively."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--email", default="")
        parser.add_argument("--name", default="", help="First name shown in the interface")

    def handle(self, *args, username: str, email: str, name: str, **options):
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            raise CommandError(f"A user named {username!r} already exists; nothing changed.")
        password = env_secret("LLAMENOS_ADMIN_PASSWORD", default="")
        generated = not password
        if generated:
            password = secrets.token_urlsafe(18)
        user = User(username=username, email=email, first_name=name, role=Role.ADMIN)
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise CommandError("LLAMENOS_ADMIN_PASSWORD is too weak: " + " ".join(exc.messages)) from exc
        user.set_password(password)
        user.save()
        audit_record(event="user.admin_created", target=username, details={"via": "createadmin"})
        self.stdout.write(self.style.SUCCESS(f"Admin {username!r} created."))
        if generated:
            self.stdout.write(f"Generated password (shown once): {password}")
