from __future__ import annotations

from django.shortcuts import render
from django.utils import timezone

from telephony.ringing import volunteers_to_ring
from volunteers.services import volunteer_for_user
from volunteers.shifts import volunteer_current_shift, volunteer_next_shift, volunteers_on_shift

from ..access import volunteer_required
from ..selectors import hotline_settings_get


@volunteer_required
def dashboard(request):
    now = timezone.now()
    volunteer = volunteer_for_user(user=request.user)
    context = {
        "volunteer": volunteer,
        "zone": hotline_settings_get().zone,
        "current_shift": volunteer_current_shift(volunteer=volunteer, at=now),
        "next_shift": volunteer_next_shift(volunteer=volunteer, at=now),
    }
    if request.user.is_admin:
        context["on_shift_now"] = volunteers_on_shift(at=now)
        context["would_ring"] = volunteers_to_ring(at=now)
    return render(request, "llamenos/dashboard.html", context)
