"""Admin settings section "Prompts": recordings that replace the spoken text of a prompt."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from llamenos.access import admin_required

from .. import prompts
from ..call_flow import prompt_recording_delete, prompt_recording_save
from ..forms import PromptRecordingForm
from ..models import PromptRecording


def _prompt_rows() -> list[dict]:
    """Each recordable prompt with, per language, its spoken text and the recording if any."""
    recordings = {(r.prompt, r.language): r for r in PromptRecording.objects.all()}
    return [
        {
            "key": key,
            "cells": [
                (language, prompts.prompt_text(key, language, hotline="…"), recordings.get((key, language)))
                for language in prompts.LANGUAGES
            ],
        }
        for key in prompts.RECORDABLE_PROMPTS
    ]


@admin_required
def prompt_list(request):
    form = PromptRecordingForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        prompt_recording_save(
            actor=request.user,
            prompt=form.cleaned_data["prompt"],
            language=form.cleaned_data["language"],
            upload=form.cleaned_data["audio"],
            request=request,
        )
        messages.success(request, "Recording saved; callers now hear it instead of the spoken text.")
        return redirect("settings_prompts")
    return render(
        request,
        "telephony/prompts.html",
        {"form": form, "rows": _prompt_rows(), "languages": prompts.LANGUAGES, "section": "prompts"},
    )


@admin_required
@require_POST
def prompt_delete(request, recording_id: int):
    recording = get_object_or_404(PromptRecording, pk=recording_id)
    prompt_recording_delete(actor=request.user, recording=recording, request=request)
    messages.success(request, "Recording removed; callers hear the spoken text again.")
    return redirect("settings_prompts")
