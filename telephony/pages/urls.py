from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("calls/", views.call_history, name="call_history"),
    path("calls/<int:call_id>/", views.call_detail, name="call_detail"),
    path("calls/<int:call_id>/recording/<slug:kind>", views.call_recording, name="call_recording"),
    path("bans/", views.ban_list, name="ban_list"),
    path("bans/import/", views.ban_import, name="ban_import"),
    path("bans/<int:ban_id>/remove/", views.ban_delete, name="ban_delete"),
    path("settings/calls/", views.settings_calls, name="settings_calls"),
    path("settings/prompts/", views.settings_prompts, name="settings_prompts"),
    path("settings/prompts/<int:recording_id>/remove/", views.prompt_delete, name="prompt_delete"),
]
