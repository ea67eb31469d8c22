from __future__ import annotations

from django.apps import AppConfig


class VolunteersConfig(AppConfig):
    name = "volunteers"
