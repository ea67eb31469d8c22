"""Call-flow settings and prompt recordings: selectors and services for the settings pages."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import QuerySet

from llamenos.audit import audit_record
from llamenos.models import User

from .call_models import Call, CallFlowSettings, PromptRecording
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


def calls_list(
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    state: str = "",
    volunteer=None,
    zone: dt.tzinfo,
) -> QuerySet[Call]:
    calls = Call.objects.select_related("answered_by__user", "provider_account")
    if start:
        calls = calls.filter(started_at__gte=dt.datetime.combine(start, dt.time.min, tzinfo=zone))
    if end:
        calls = calls.filter(
            started_at__lt=dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
        )
    if state:
        calls = calls.filter(state=state)
    if volunteer:
        calls = calls.filter(answered_by=volunteer)
    return calls
