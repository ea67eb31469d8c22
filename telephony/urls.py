from __future__ import annotations

from django.urls import path

from .views import accounts

urlpatterns = [
    path("settings/", accounts.telephony_settings, name="telephony_settings"),
    path("settings/add/", accounts.account_add, name="telephony_account_add"),
    path("settings/<int:pk>/edit/", accounts.account_edit, name="telephony_account_edit"),
    path("settings/<int:pk>/toggle/", accounts.account_toggle, name="telephony_account_toggle"),
    path("settings/<int:pk>/check/", accounts.account_check, name="telephony_account_check"),
    path("settings/<int:pk>/delete/", accounts.account_delete, name="telephony_account_delete"),
]
