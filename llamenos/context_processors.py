from __future__ import annotations

from .selectors import hotline_settings_get


def hotline(request) -> dict:
    return {"hotline": getattr(request, "hotline_settings", None) or hotline_settings_get()}
