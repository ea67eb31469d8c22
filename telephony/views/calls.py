"""Admin pages for calls: the history, one call's detail, and its recordings played back."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render

from llamenos.access import admin_required
from llamenos.audit import audit_record
from llamenos.selectors import hotline_settings_get

from ..call_history import calls_list
from ..forms import CallHistoryFilterForm
from ..models import Call
from ..providers import ProviderError, provider_for

PAGE_SIZE = 50
RECORDING_FIELDS = {"voicemail": "voicemail_url", "call": "recording_url"}


@admin_required
def call_history(request):
    form = CallHistoryFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    calls = calls_list(zone=hotline_settings_get().zone, **{k: v for k, v in filters.items() if v})
    page = Paginator(calls, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "telephony/calls/history.html",
        {"form": form, "page": page, "filter_query": query.urlencode()},
    )


@admin_required
def call_detail(request, call_id: int):
    call = get_object_or_404(Call.objects.select_related("answered_by__user", "provider_account"), pk=call_id)
    return render(
        request,
        "telephony/calls/detail.html",
        {
            "call": call,
            "events": call.events.select_related("leg__volunteer__user"),
            "legs": call.legs.select_related("volunteer__user"),
        },
    )


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
            request,
            "telephony/calls/recording_error.html",
            {"call": call, "message": error.message},
            status=502,
        )
    audit_record(
        event="call.recording_played", actor=request.user, target=f"call {call.pk}", details={"kind": kind}
    )
    response = StreamingHttpResponse(
        media.iter_content(chunk_size=64 * 1024), content_type=media.headers.get("Content-Type", "audio/mpeg")
    )
    response["Cache-Control"] = "private, no-store"
    return response
