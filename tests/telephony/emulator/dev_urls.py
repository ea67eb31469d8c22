"""The app's URLs plus the dev emulator mount and the scripted webhook app (for dev-mode tests)."""

from __future__ import annotations

from django.urls import include, path

from llamenos.urls import urlpatterns as app_patterns

from .app_urls import urlpatterns as hook_patterns

urlpatterns = [
    path("dev/emulator/", include("telephony.emulator.urls")),
    *hook_patterns,
    *app_patterns,
]
