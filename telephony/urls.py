"""Telephony's admin pages. The provider-facing routes under /telephony/ are webhooks/urls.py."""

from __future__ import annotations

from django.urls import path
from django.views.generic import RedirectView

from llamenos.access import public

from .views import accounts, bans, call_flow, calls, prompts


def moved(to: str):
    """A permanent redirect from where a page used to be (bookmarks); the new page checks access."""
    return public("an old address of a page that moved; only redirects")(
        RedirectView.as_view(url=to, permanent=True, query_string=True)
    )


urlpatterns = [
    path("settings/telephony/", accounts.telephony_settings, name="telephony_settings"),
    path("settings/telephony/add/", accounts.account_add, name="telephony_account_add"),
    path("settings/telephony/<int:pk>/edit/", accounts.account_edit, name="telephony_account_edit"),
    path("settings/telephony/<int:pk>/toggle/", accounts.account_toggle, name="telephony_account_toggle"),
    path("settings/telephony/<int:pk>/check/", accounts.account_check, name="telephony_account_check"),
    path("settings/telephony/<int:pk>/delete/", accounts.account_delete, name="telephony_account_delete"),
    path("settings/telephony/call-flow/", call_flow.call_flow_settings, name="settings_calls"),
    path("settings/telephony/prompts/", prompts.prompt_list, name="settings_prompts"),
    path(
        "settings/telephony/prompts/<int:recording_id>/remove/", prompts.prompt_delete, name="prompt_delete"
    ),
    path("calls/", calls.call_history, name="call_history"),
    path("calls/<int:call_id>/", calls.call_detail, name="call_detail"),
    path("calls/<int:call_id>/recording/<slug:kind>", calls.call_recording, name="call_recording"),
    path("bans/", bans.ban_list, name="ban_list"),
    path("bans/import/", bans.ban_import, name="ban_import"),
    path("bans/<int:ban_id>/remove/", bans.ban_delete, name="ban_delete"),
    # Where the pages were before they left the public /telephony/ webhook prefix.
    path("telephony/settings/", moved("/settings/telephony/")),
    path("telephony/settings/add/", moved("/settings/telephony/add/")),
    path("telephony/settings/<int:pk>/edit/", moved("/settings/telephony/%(pk)s/edit/")),
    path("telephony/settings/<int:pk>/delete/", moved("/settings/telephony/%(pk)s/delete/")),
    path("settings/calls/", moved("/settings/telephony/call-flow/")),
    path("settings/prompts/", moved("/settings/telephony/prompts/")),
]
