"""Admin settings section "Telephony": provider accounts and the URLs for the provider consoles."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from llamenos.access import admin_required

from ..accounts import (
    provider_account_check,
    provider_account_create,
    provider_account_delete,
    provider_account_get,
    provider_account_list,
    provider_account_set_enabled,
    provider_account_update,
)
from ..forms import ProviderAccountForm
from ..providers import provider_for


def _account_or_404(pk: int):
    account = provider_account_get(account_pk=pk)
    if account is None:
        raise Http404("No such provider account.")
    return account


def _row(account) -> dict:
    # An instance, not the class: templates call callables, and a class is one.
    provider = provider_for(account)
    return {
        "account": account,
        "provider": provider,
        "urls": provider.console_urls(),
        "console_template": provider.console_template,
        "webrtc_template": provider.webrtc_template,
    }


@admin_required
def telephony_settings(request):
    rows = [_row(account) for account in provider_account_list()]
    return render(request, "telephony/accounts/list.html", {"rows": rows, "section": "telephony"})


@admin_required
def account_add(request):
    form = ProviderAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        account = provider_account_create(actor=request.user, request=request, **form.account_fields())
        messages.success(request, f"Provider account “{account.label}” added.")
        return redirect("telephony_settings")
    return render(request, "telephony/accounts/form.html", {"form": form, "section": "telephony"})


@admin_required
def account_edit(request, pk: int):
    account = _account_or_404(pk)
    form = ProviderAccountForm(request.POST or None, instance=account)
    if request.method == "POST" and form.is_valid():
        # The form wrote its values onto ``account`` while validating; compare with the stored row.
        stored = _account_or_404(pk)
        changed = provider_account_update(
            account=stored, actor=request.user, request=request, **form.account_fields()
        )
        if changed:
            messages.success(request, f"Provider account “{stored.label}” saved.")
        else:
            messages.info(request, "Nothing changed.")
        return redirect("telephony_settings")
    return render(
        request,
        "telephony/accounts/form.html",
        {"form": form, "account": account, "section": "telephony"},
    )


@admin_required
@require_POST
def account_toggle(request, pk: int):
    account = _account_or_404(pk)
    enable = request.POST.get("enabled") == "1"
    provider_account_set_enabled(account=account, enabled=enable, actor=request.user, request=request)
    messages.success(request, f"“{account.label}” is now {'enabled' if enable else 'disabled'}.")
    return redirect("telephony_settings")


@admin_required
@require_POST
def account_check(request, pk: int):
    account = _account_or_404(pk)
    ok, text = provider_account_check(account=account, actor=request.user, request=request)
    if ok:
        messages.success(request, f"Connection to {account.get_provider_display()} works: account “{text}”.")
    else:
        messages.error(request, f"Connection to {account.get_provider_display()} failed: {text}")
    return redirect("telephony_settings")


@admin_required
def account_delete(request, pk: int):
    account = _account_or_404(pk)
    if request.method == "POST":
        label = account.label
        provider_account_delete(account=account, actor=request.user, request=request)
        messages.success(request, f"Provider account “{label}” deleted.")
        return redirect("telephony_settings")
    return render(request, "telephony/accounts/delete.html", {"account": account, "section": "telephony"})
