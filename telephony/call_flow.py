"""Call-flow settings (the IVR's knobs) and prompt recordings: selectors and services for their
settings pages."""

from __future__ import annotations

from django.db import transaction

from llamenos.audit import audit_record
from llamenos.models import User

from .models import CallFlowSettings, PromptRecording
from .prompts import recordings_forget


def call_flow_settings_get() -> CallFlowSettings:
    """The call-flow settings row (django-solo: cached in Django's cache, renewed on save)."""
    return CallFlowSettings.get_solo()


@transaction.atomic
def call_flow_settings_update(*, actor: User, form, request=None) -> CallFlowSettings:
    changed = sorted(form.changed_data)
    row = form.save()
    if changed:
        audit_record(
            event="settings.call_flow_updated",
            actor=actor,
            target="call flow settings",
            details={"changed": changed},
            request=request,
        )
    return row


@transaction.atomic
def prompt_recording_save(
    *, actor: User, prompt: str, language: str, upload, request=None
) -> PromptRecording:
    old = PromptRecording.objects.filter(prompt=prompt, language=language).first()
    if old:
        old.audio.delete(save=False)
        old.delete()
    recording = PromptRecording(
        prompt=prompt, language=language, content_type=upload.detected_type, uploaded_by=actor
    )
    recording.audio.save(upload.name, upload, save=False)
    recording.save()
    transaction.on_commit(recordings_forget)
    audit_record(
        event="prompt.uploaded",
        actor=actor,
        target=f"{prompt} ({language})",
        details={"replaced": bool(old), "size_bytes": upload.size},
        request=request,
    )
    return recording


@transaction.atomic
def prompt_recording_delete(*, actor: User, recording: PromptRecording, request=None) -> None:
    audit_record(
        event="prompt.removed",
        actor=actor,
        target=f"{recording.prompt} ({recording.language})",
        request=request,
    )
    recording.audio.delete(save=False)
    recording.delete()
    transaction.on_commit(recordings_forget)
