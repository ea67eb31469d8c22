"""A volunteer's own profile, password and break toggle. Only ever the logged-in user's own row."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.forms import PasswordChangeForm
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from llamenos.access import volunteer_required

from .. import services
from ..forms import ProfileForm


@volunteer_required
def profile(request):
    volunteer = services.volunteer_for_user(user=request.user)
    initial = {
        "first_name": request.user.first_name,
        "last_name": request.user.last_name,
        "phone": volunteer.phone,
        "spoken_languages": volunteer.spoken_languages,
        "call_preference": volunteer.call_preference,
    }
    form = ProfileForm(request.POST or None, initial=initial, user=request.user)
    if request.method == "POST" and form.is_valid():
        services.profile_update(user=request.user, request=request, **form.cleaned_data)
        messages.success(request, "Profile saved.")
        return redirect("profile")
    return render(request, "volunteers/profile.html", {"form": form, "volunteer": volunteer})


@volunteer_required
def profile_password(request):
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.profile_password_change(
            user=request.user, request=request, password=form.cleaned_data["new_password1"]
        )
        messages.success(request, "Password changed.")
        return redirect("profile")
    return render(request, "volunteers/password.html", {"form": form})


@volunteer_required
@require_POST
def break_toggle(request):
    on_break = request.POST.get("on_break") == "1"
    volunteer = services.volunteer_break_set(user=request.user, request=request, on_break=on_break)
    if request.htmx:
        return render(request, "volunteers/break_toggle.html", {"volunteer": volunteer})
    messages.success(request, "You are on a break: calls will not ring you." if on_break else "Welcome back.")
    return redirect("profile" if request.POST.get("next_page") == "profile" else "dashboard")
