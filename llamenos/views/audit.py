from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render

from ..access import admin_required
from ..forms import AuditFilterForm
from ..selectors import audit_events_list, audit_filter_choices

PAGE_SIZE = 50


@admin_required
def audit_log(request):
    actors, events = audit_filter_choices()
    form = AuditFilterForm(request.GET or None, actors=actors, events=events)
    filters = form.cleaned_data if form.is_valid() else {}
    page = Paginator(audit_events_list(**filters), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "llamenos/audit_log.html",
        {"form": form, "page": page, "filter_query": query.urlencode()},
    )
