from __future__ import annotations

from django.apps import AppConfig


class SupportConfig(AppConfig):
    """Test-only models (no migrations: the test database creates their tables directly)."""

    name = "tests.support"
    label = "test_support"
