from __future__ import annotations

from django.conf import settings
from django.urls import include, path

from .views import audit, auth, dashboard, health
from .views import settings as settings_views

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("login/", auth.login, name="login"),
    path("logout/", auth.logout, name="logout"),
    path("settings/", settings_views.settings_hotline, name="settings"),
    path("audit/", audit.audit_log, name="audit_log"),
    path("healthz", health.healthz, name="healthz"),
    path("", include("volunteers.urls")),
    path("", include("telephony.urls")),
    path("telephony/", include("telephony.webhooks.urls")),
]

if settings.TELEPHONY_EMULATOR_ENABLED:
    urlpatterns.append(path("dev/emulator/", include("telephony.emulator.urls")))

handler403 = "llamenos.views.errors.permission_denied"
handler404 = "llamenos.views.errors.page_not_found"
handler500 = "llamenos.views.errors.server_error"
