from __future__ import annotations

from .selectors import hotline_settings_get


def hotline(request) -> dict:
    return {"hotline": hotline_settings_get()}
