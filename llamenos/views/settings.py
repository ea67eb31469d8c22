from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render

from ..access import admin_required
from ..forms import HotlineSettingsForm
from ..selectors import hotline_settings_get
from ..services import hotline_settings_update


@admin_required
def settings_hotline(request):
    form = HotlineSettingsForm(request.POST or None, instance=hotline_settings_get())
    if request.method == "POST" and form.is_valid():
        hotline_settings_update(actor=request.user, request=request, **form.cleaned_data)
        messages.success(request, "Hotline settings saved.")
        return redirect("settings")
    return render(request, "llamenos/settings/hotline.html", {"form": form, "section": "hotline"})
