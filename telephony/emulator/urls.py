from __future__ import annotations

from django.urls import path, re_path

from . import views

app_name = "emulator"

urlpatterns = [
    path("", views.console, name="console"),
    path("state/", views.state, name="state"),
    path("dial/", views.dial, name="dial"),
    path("calls/<str:sid>/", views.call_action, name="call_action"),
    path("phones/", views.phone_action, name="phone_action"),
    # The REST API the SDKs call (settings.TWILIO_API_BASE_URL / PLIVO_API_BASE_URL point here).
    re_path(r"^(?P<path>(?:2010-04-01|v1)/.*)$", views.rest, name="rest"),
]
