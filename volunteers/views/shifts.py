"""Admin shift pages: list, create, edit, delete, the week view and the fallback group."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render

from llamenos.access import admin_required
from llamenos.selectors import hotline_settings_get

from .. import shift_services
from ..forms import FallbackGroupForm, ShiftForm
from ..models import Shift, Volunteer
from ..services import fallback_group_set
from ..shifts import week_coverage


@admin_required
def shift_list(request):
    shifts = Shift.objects.prefetch_related("volunteers__user")
    fallback = Volunteer.objects.filter(in_fallback_group=True).select_related("user")
    context = {"shifts": shifts, "fallback": fallback, "zone": hotline_settings_get().time_zone}
    return render(request, "volunteers/shifts.html", context)


def _shift_form_page(request, form: ShiftForm, shift: Shift | None = None):
    context = {"form": form, "shift": shift, "zone": hotline_settings_get().time_zone}
    return render(request, "volunteers/shift_form.html", context)


@admin_required
def shift_create(request):
    form = ShiftForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        shift = shift_services.shift_create(actor=request.user, request=request, **form.cleaned_data)
        messages.success(request, f"Shift “{shift.name}” created.")
        return redirect("shift_list")
    return _shift_form_page(request, form)


@admin_required
def shift_edit(request, pk: int):
    shift = get_object_or_404(Shift, pk=pk)
    initial = {
        "name": shift.name,
        "days": shift.days,
        "start_time": shift.start_time,
        "end_time": shift.end_time,
        "volunteers": list(shift.volunteers.all()),
    }
    form = ShiftForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        shift_services.shift_update(actor=request.user, request=request, shift=shift, **form.cleaned_data)
        messages.success(request, f"Shift “{shift.name}” saved.")
        return redirect("shift_list")
    return _shift_form_page(request, form, shift)


@admin_required
def shift_delete(request, pk: int):
    shift = get_object_or_404(Shift, pk=pk)
    if request.method == "POST":
        shift_services.shift_delete(actor=request.user, request=request, shift=shift)
        messages.success(request, f"Shift “{shift.name}” deleted.")
        return redirect("shift_list")
    return render(request, "volunteers/shift_delete.html", {"shift": shift})


@admin_required
def shift_week(request):
    days = week_coverage()
    rows = [(hour, [day.cells[hour] for day in days]) for hour in range(24)]
    context = {"days": days, "rows": rows, "zone": hotline_settings_get().time_zone}
    return render(request, "volunteers/week.html", context)


@admin_required
def fallback_group(request):
    members = list(Volunteer.objects.filter(in_fallback_group=True))
    form = FallbackGroupForm(request.POST or None, initial={"volunteers": members})
    if request.method == "POST" and form.is_valid():
        fallback_group_set(
            actor=request.user, request=request, volunteers=list(form.cleaned_data["volunteers"])
        )
        messages.success(request, "Fallback group saved.")
        return redirect("shift_list")
    return render(request, "volunteers/fallback.html", {"form": form})
