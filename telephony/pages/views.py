"""Admin pages for the call flow: history, call detail, bans, call-flow settings, prompts."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from llamenos.access import admin_required
from llamenos.audit import audit_record
from llamenos.selectors import hotline_settings_get

from .. import prompts
from ..bans import BanError, ban_add, ban_remove, bans_import
from ..call_models import Ban, Call, PromptRecording
from ..flow_settings import (
    call_flow_settings_get,
    call_flow_settings_update,
    calls_list,
    prompt_recording_delete,
    prompt_recording_save,
)
from ..providers import ProviderError, provider_for
from .forms import BanForm, BanImportForm, CallFlowSettingsForm, CallHistoryFilterForm, PromptRecordingForm

PAGE_SIZE = 50


@admin_required
def call_history(request):
    form = CallHistoryFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    calls = calls_list(zone=hotline_settings_get().zone, **{k: v for k, v in filters.items() if v})
    page = Paginator(calls, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "callflow/history.html", {"form": form, "page": page, "filter_query": query.urlencode()}
    )


@admin_required
def call_detail(request, call_id: int):
    call = get_object_or_404(Call.objects.select_related("answered_by__user", "provider_account"), pk=call_id)
    return render(
        request,
        "callflow/detail.html",
        {
            "call": call,
            "events": call.events.select_related("leg__volunteer__user"),
            "legs": call.legs.select_related("volunteer__user"),
        },
    )


RECORDING_FIELDS = {"voicemail": "voicemail_url", "call": "recording_url"}


@admin_required
def call_recording(request, call_id: int, kind: str):
    """Play a voicemail or call recording through the app, fetched with the account's credentials,
    so the provider can keep media behind HTTP auth and every listen is audited."""
    call = get_object_or_404(Call.objects.select_related("provider_account"), pk=call_id)
    url = getattr(call, RECORDING_FIELDS.get(kind, ""), "") if kind in RECORDING_FIELDS else ""
    if not url or call.provider_account is None:
        raise Http404("No such recording.")
    try:
        media = provider_for(call.provider_account).recording_fetch(url)
    except ProviderError as error:
        return render(
            request, "callflow/recording_error.html", {"call": call, "message": error.message}, status=502
        )
    audit_record(
        event="call.recording_played", actor=request.user, target=f"call {call.pk}", details={"kind": kind}
    )
    response = StreamingHttpResponse(
        media.iter_content(chunk_size=64 * 1024), content_type=media.headers.get("Content-Type", "audio/mpeg")
    )
    response["Cache-Control"] = "private, no-store"
    return response


@admin_required
def ban_list(request):
    form = BanForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ban_add(actor=request.user, request=request, **form.cleaned_data)
        except BanError as error:
            form.add_error("number", str(error))
        else:
            messages.success(request, "The number is banned.")
            return redirect("ban_list")
    return render(
        request,
        "callflow/bans.html",
        {"form": form, "import_form": BanImportForm(), "bans": Ban.objects.select_related("created_by")},
    )


@admin_required
@require_POST
def ban_import(request):
    form = BanImportForm(request.POST)
    summary = None
    if form.is_valid():
        summary = bans_import(
            actor=request.user,
            request=request,
            text=form.cleaned_data["numbers"],
            reason=form.cleaned_data["reason"],
            expires_at=form.cleaned_data["expires_at"],
        )
    return render(
        request,
        "callflow/bans.html",
        {
            "form": BanForm(),
            "import_form": form,
            "summary": summary,
            "bans": Ban.objects.select_related("created_by"),
        },
    )


@admin_required
@require_POST
def ban_delete(request, ban_id: int):
    ban_remove(actor=request.user, ban=get_object_or_404(Ban, pk=ban_id), request=request)
    messages.success(request, "The ban was removed.")
    return redirect("ban_list")


@admin_required
def settings_calls(request):
    form = CallFlowSettingsForm(request.POST or None, instance=call_flow_settings_get())
    if request.method == "POST" and form.is_valid():
        call_flow_settings_update(actor=request.user, form=form, request=request)
        messages.success(request, "Call flow settings saved.")
        return redirect("settings_calls")
    return render(request, "callflow/settings_calls.html", {"form": form, "section": "calls"})


@admin_required
def settings_prompts(request):
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
    recordings = {(r.prompt, r.language): r for r in PromptRecording.objects.all()}
    rows = [
        {
            "key": key,
            "cells": [
                (language, prompts.prompt_text(key, language, hotline="…"), recordings.get((key, language)))
                for language in prompts.LANGUAGES
            ],
        }
        for key in prompts.RECORDABLE_PROMPTS
    ]
    return render(
        request,
        "callflow/settings_prompts.html",
        {"form": form, "rows": rows, "languages": prompts.LANGUAGES, "section": "prompts"},
    )


@admin_required
@require_POST
def prompt_delete(request, recording_id: int):
    recording = get_object_or_404(PromptRecording, pk=recording_id)
    prompt_recording_delete(actor=request.user, recording=recording, request=request)
    messages.success(request, "Recording removed; callers hear the spoken text again.")
    return redirect("settings_prompts")
