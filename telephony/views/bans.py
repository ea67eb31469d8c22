"""Admin pages for banned numbers: list and add, import a list, remove."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from llamenos.access import admin_required

from ..bans import BanError, ban_add, ban_remove, bans_import
from ..forms import BanForm, BanImportForm
from ..models import Ban


def _bans_page(request, *, form: BanForm, import_form: BanImportForm, summary=None):
    return render(
        request,
        "telephony/bans.html",
        {
            "form": form,
            "import_form": import_form,
            "summary": summary,
            "bans": Ban.objects.select_related("created_by"),
        },
    )


@admin_required
def ban_list(request):
    form = BanForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ban_add(actor=request.user, request=request, **form.cleaned_data)
        except BanError as error:
            form.add_error("number", str(error))
        else:
            messages.success(request, "The number is banned.")
            return redirect("ban_list")
    return _bans_page(request, form=form, import_form=BanImportForm())


@admin_required
@require_POST
def ban_import(request):
    form = BanImportForm(request.POST)
    summary = None
    if form.is_valid():
        summary = bans_import(
            actor=request.user,
            request=request,
            text=form.cleaned_data["numbers"],
            reason=form.cleaned_data["reason"],
            expires_at=form.cleaned_data["expires_at"],
        )
    return _bans_page(request, form=BanForm(), import_form=form, summary=summary)


@admin_required
@require_POST
def ban_delete(request, ban_id: int):
    ban_remove(actor=request.user, ban=get_object_or_404(Ban, pk=ban_id), request=request)
    messages.success(request, "The ban was removed.")
    return redirect("ban_list")
