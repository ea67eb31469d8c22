from __future__ import annotations

from django.shortcuts import render

from ..access import volunteer_required


@volunteer_required
def dashboard(request):
    return render(request, "llamenos/dashboard.html")
