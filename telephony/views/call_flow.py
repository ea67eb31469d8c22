"""Admin settings section "Call flow": the IVR's knobs (language menu, CAPTCHA, hold, voicemail,
repeated calls)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render

from llamenos.access import admin_required

from ..call_flow import call_flow_settings_get, call_flow_settings_update
from ..forms import CallFlowSettingsForm


@admin_required
def call_flow_settings(request):
    form = CallFlowSettingsForm(request.POST or None, instance=call_flow_settings_get())
    if request.method == "POST" and form.is_valid():
        call_flow_settings_update(actor=request.user, form=form, request=request)
        messages.success(request, "Call flow settings saved.")
        return redirect("settings_calls")
    return render(request, "telephony/call_flow.html", {"form": form, "section": "calls"})
