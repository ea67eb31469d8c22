"""Demo call-flow settings for the local run: an English/Spanish menu so the demo shows it."""

from __future__ import annotations

from .call_flow import call_flow_settings_get


def demo_populate() -> None:
    row = call_flow_settings_get()
    if not row.language_menu:
        row.language_menu = [{"language": "en", "digit": "1"}, {"language": "es", "digit": "2"}]
        row.save(update_fields=["language_menu", "updated_at"])
