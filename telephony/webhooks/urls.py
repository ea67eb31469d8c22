"""Provider-facing routes: the four public paths the consoles point at, and the step URLs the app
hands out in its own XML and REST requests (they carry ids, never secrets)."""

from __future__ import annotations

from django.urls import path

from . import legs, views

urlpatterns = [
    path("incoming", views.incoming, name="flow_incoming"),
    path("status", views.status, name="flow_status"),
    path("webrtc-incoming", views.webrtc_incoming, name="flow_webrtc_incoming"),
    path("sms/incoming", views.sms_incoming, name="flow_sms_incoming"),
    path("calls/<int:call_id>/language", views.language, name="flow_language"),
    path("calls/<int:call_id>/captcha", views.captcha, name="flow_captcha"),
    path("calls/<int:call_id>/wait", views.wait, name="flow_wait"),
    path("calls/<int:call_id>/hold-exit", views.hold_exit, name="flow_hold_exit"),
    path("calls/<int:call_id>/voicemail", views.voicemail, name="flow_voicemail"),
    path("calls/<int:call_id>/voicemail-saved", views.voicemail_saved, name="flow_voicemail_saved"),
    path("calls/<int:call_id>/recording", views.recording, name="flow_recording"),
    path("calls/<int:call_id>/bridged", views.bridged, name="flow_bridged"),
    path("legs/<int:leg_id>/answer", legs.leg_answer, name="flow_leg_answer"),
    path("legs/<int:leg_id>/accept", legs.leg_accept, name="flow_leg_accept"),
    path("legs/<int:leg_id>/status", legs.leg_status, name="flow_leg_status"),
    path("legs/<int:leg_id>/taken", legs.leg_taken, name="flow_leg_taken"),
    path("legs/<int:leg_id>/bridge-ended", legs.leg_bridge_ended, name="flow_leg_bridge_ended"),
    path("hold-music.wav", views.hold_music, name="flow_hold_music"),
    path("prompts/<uuid:public_id>", views.prompt_audio, name="flow_prompt_audio"),
]
