from __future__ import annotations

from django.apps import AppConfig


class LlamenosConfig(AppConfig):
    name = "llamenos"
    verbose_name = "Llámenos"

    def ready(self) -> None:
        from . import checks, signals  # noqa: F401  (registers system checks and auth signal handlers)
