"""Provider-facing routes: the four public paths the consoles point at, and the step URLs the app
hands out in its own XML and REST requests (they carry ids, never secrets)."""

from __future__ import annotations

from django.urls import path

from . import webhooks

urlpatterns = [
    path("incoming", webhooks.incoming, name="flow_incoming"),
    path("status", webhooks.status, name="flow_status"),
    path("webrtc-incoming", webhooks.webrtc_incoming, name="flow_webrtc_incoming"),
    path("sms/incoming", webhooks.sms_incoming, name="flow_sms_incoming"),
    path("calls/<int:call_id>/language", webhooks.language, name="flow_language"),
    path("calls/<int:call_id>/captcha", webhooks.captcha, name="flow_captcha"),
    path("calls/<int:call_id>/wait", webhooks.wait, name="flow_wait"),
    path("calls/<int:call_id>/hold-exit", webhooks.hold_exit, name="flow_hold_exit"),
    path("calls/<int:call_id>/voicemail", webhooks.voicemail, name="flow_voicemail"),
    path("calls/<int:call_id>/voicemail-saved", webhooks.voicemail_saved, name="flow_voicemail_saved"),
    path("calls/<int:call_id>/recording", webhooks.recording, name="flow_recording"),
    path("calls/<int:call_id>/bridged", webhooks.bridged, name="flow_bridged"),
    path("legs/<int:leg_id>/answer", webhooks.leg_answer, name="flow_leg_answer"),
    path("legs/<int:leg_id>/accept", webhooks.leg_accept, name="flow_leg_accept"),
    path("legs/<int:leg_id>/status", webhooks.leg_status, name="flow_leg_status"),
    path("legs/<int:leg_id>/taken", webhooks.leg_taken, name="flow_leg_taken"),
    path("legs/<int:leg_id>/bridge-ended", webhooks.leg_bridge_ended, name="flow_leg_bridge_ended"),
    path("hold-music.wav", webhooks.hold_music, name="flow_hold_music"),
    path("prompts/<uuid:public_id>", webhooks.prompt_audio, name="flow_prompt_audio"),
]
