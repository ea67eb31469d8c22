"""Admin invite list and the invitee's one-time sign-up page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.db import IntegrityError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from llamenos.access import admin_required, public

from ..forms import InviteAcceptForm, InviteForm
from ..invites import (
    InviteUnavailable,
    invite_accept,
    invite_create,
    invite_for_token,
    invite_revoke,
    invites_pending,
)
from ..models import Invite

UNAVAILABLE_STATUS = {"unknown": 404, "accepted": 410, "expired": 410, "revoked": 410}


def invite_created_page(request, invite: Invite, token: str):
    """Shown once, right after creation: the raw token exists nowhere else."""
    link = request.build_absolute_uri(reverse("invite_accept", args=[token]))
    return render(request, "volunteers/invite_created.html", {"invite": invite, "link": link})


@admin_required
def invite_list(request):
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        invite, token = invite_create(actor=request.user, request=request, **form.cleaned_data)
        return invite_created_page(request, invite, token)
    return render(request, "volunteers/invites.html", {"form": form, "invites": invites_pending()})


@admin_required
@require_POST
def invite_revoke_view(request, pk: int):
    invite = get_object_or_404(Invite, pk=pk)
    invite_revoke(actor=request.user, request=request, invite=invite)
    messages.success(request, f"The invite for {invite.display_name} is revoked; its link no longer works.")
    return redirect("invite_list")


def _unavailable(request, state: str):
    return render(
        request, "volunteers/invite_unavailable.html", {"state": state}, status=UNAVAILABLE_STATUS[state]
    )


@public("invite link: the token in the URL is the credential")
@never_cache
def invite_accept_view(request, token: str):
    try:
        invite = invite_for_token(token=token)
    except InviteUnavailable as unavailable:
        return _unavailable(request, unavailable.state)
    form = InviteAcceptForm(request.POST or None, invite=invite)
    if request.method == "POST" and form.is_valid():
        try:
            user = invite_accept(
                token=token,
                username=form.cleaned_data.get("username", ""),
                password=form.cleaned_data["password1"],
                request=request,
            )
        except InviteUnavailable as unavailable:  # spent by a parallel request a moment ago
            return _unavailable(request, unavailable.state)
        except IntegrityError:  # someone took the username a moment ago
            form.add_error("username", "That username is taken; choose another.")
            return render(request, "volunteers/invite_accept.html", {"form": form, "invite": invite})
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Welcome! Your account is ready. Check your profile below.")
        return redirect("profile")
    return render(request, "volunteers/invite_accept.html", {"form": form, "invite": invite})
