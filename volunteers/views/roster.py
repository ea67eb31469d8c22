"""Admin roster: add, edit, deactivate/reactivate, promote/demote, delete, reveal a phone."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from llamenos.access import admin_required
from llamenos.crypto import number_mask
from llamenos.models import Role, User

from .. import services
from ..forms import VolunteerCreateForm, VolunteerEditForm
from ..invites import invite_create, invite_pending_for
from .invites import invite_created_page


@admin_required
def volunteer_list(request):
    rows = []
    for person in services.roster_list():
        volunteer = getattr(person, "volunteer", None)
        phone = str(volunteer.phone) if volunteer and volunteer.phone else ""
        rows.append({"user": person, "volunteer": volunteer, "masked_phone": number_mask(phone, visible=2)})
    return render(request, "volunteers/roster.html", {"rows": rows})


@admin_required
def volunteer_create(request):
    form = VolunteerCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        person = services.volunteer_create(actor=request.user, request=request, **data)
        # A new account has no password: hand the admin a one-time link to pass on.
        invite, token = invite_create(
            actor=request.user,
            request=request,
            first_name=person.first_name,
            last_name=person.last_name,
            role=person.role,
            user=person,
        )
        return invite_created_page(request, invite, token)
    return render(request, "volunteers/volunteer_form.html", {"form": form, "creating": True})


@admin_required
def volunteer_edit(request, pk: int):
    person = get_object_or_404(User, pk=pk)
    volunteer = services.volunteer_for_user(user=person)
    initial = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "spoken_languages": volunteer.spoken_languages,
        "call_preference": volunteer.call_preference,
        "in_fallback_group": volunteer.in_fallback_group,
    }
    masked = number_mask(str(volunteer.phone), visible=2) if volunteer.phone else ""
    form = VolunteerEditForm(request.POST or None, initial=initial, user=person, masked_phone=masked)
    if request.method == "POST" and form.is_valid():
        services.volunteer_update(actor=request.user, request=request, user=person, **form.changes())
        messages.success(request, f"Saved {person.display_name}.")
        return redirect("volunteer_list")
    context = {"form": form, "person": person, "pending_invite": invite_pending_for(user=person)}
    return render(request, "volunteers/volunteer_form.html", context)


def _roster_action(request, pk: int, action, done: str):
    person = get_object_or_404(User, pk=pk)
    try:
        action(person)
    except services.RosterError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done.format(name=person.display_name))
    return redirect("volunteer_list")


@admin_required
@require_POST
def volunteer_set_active(request, pk: int, active: bool):
    return _roster_action(
        request,
        pk,
        lambda person: services.volunteer_set_active(
            actor=request.user, request=request, user=person, active=active
        ),
        "{name} is active again." if active else "{name} is deactivated and logged out everywhere.",
    )


@admin_required
@require_POST
def volunteer_set_role(request, pk: int, role: str):
    return _roster_action(
        request,
        pk,
        lambda person: services.volunteer_set_role(
            actor=request.user, request=request, user=person, role=role
        ),
        "{name} is now an admin." if role == Role.ADMIN else "{name} is now a volunteer.",
    )


@admin_required
def volunteer_delete(request, pk: int):
    person = get_object_or_404(User, pk=pk)
    if request.method == "POST":
        name = person.display_name
        try:
            services.volunteer_delete(actor=request.user, request=request, user=person)
        except services.RosterError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"Deleted {name}.")
        return redirect("volunteer_list")
    return render(request, "volunteers/volunteer_delete.html", {"person": person})


@admin_required
@require_POST
def volunteer_phone_reveal(request, pk: int):
    person = get_object_or_404(User, pk=pk)
    phone = services.volunteer_phone_reveal(actor=request.user, request=request, user=person)
    template = "volunteers/phone_revealed.html" if request.htmx else "volunteers/phone_revealed_page.html"
    return render(request, template, {"person": person, "phone": phone})
