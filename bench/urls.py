"""The app's URLconf plus the bench's baseline view (bench settings only)."""

from __future__ import annotations

from django.urls import include, path

from . import views

urlpatterns = [
    path("bench/fixed-twiml", views.fixed_twiml, name="bench_fixed_twiml"),
    path("bench/pid", views.worker_pid, name="bench_worker_pid"),
    path("", include("llamenos.urls")),
]

handler403 = "llamenos.views.errors.permission_denied"
handler404 = "llamenos.views.errors.page_not_found"
handler500 = "llamenos.views.errors.server_error"
