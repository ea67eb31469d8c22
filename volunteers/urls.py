from __future__ import annotations

from django.urls import path

from llamenos.models import Role

from .views import invites, profile, roster, shifts

urlpatterns = [
    path("volunteers/", roster.volunteer_list, name="volunteer_list"),
    path("volunteers/new/", roster.volunteer_create, name="volunteer_create"),
    path("volunteers/<int:pk>/edit/", roster.volunteer_edit, name="volunteer_edit"),
    path("volunteers/<int:pk>/delete/", roster.volunteer_delete, name="volunteer_delete"),
    path("volunteers/<int:pk>/phone/", roster.volunteer_phone_reveal, name="volunteer_phone_reveal"),
    path(
        "volunteers/<int:pk>/deactivate/",
        roster.volunteer_set_active,
        {"active": False},
        name="volunteer_deactivate",
    ),
    path(
        "volunteers/<int:pk>/reactivate/",
        roster.volunteer_set_active,
        {"active": True},
        name="volunteer_reactivate",
    ),
    path(
        "volunteers/<int:pk>/promote/",
        roster.volunteer_set_role,
        {"role": Role.ADMIN},
        name="volunteer_promote",
    ),
    path(
        "volunteers/<int:pk>/demote/",
        roster.volunteer_set_role,
        {"role": Role.VOLUNTEER},
        name="volunteer_demote",
    ),
    path("invites/", invites.invite_list, name="invite_list"),
    path("invites/<int:pk>/revoke/", invites.invite_revoke_view, name="invite_revoke"),
    path("invite/<str:token>/", invites.invite_accept_view, name="invite_accept"),
    path("shifts/", shifts.shift_list, name="shift_list"),
    path("shifts/new/", shifts.shift_create, name="shift_create"),
    path("shifts/week/", shifts.shift_week, name="shift_week"),
    path("shifts/fallback/", shifts.fallback_group, name="fallback_group"),
    path("shifts/<int:pk>/edit/", shifts.shift_edit, name="shift_edit"),
    path("shifts/<int:pk>/delete/", shifts.shift_delete, name="shift_delete"),
    path("profile/", profile.profile, name="profile"),
    path("profile/password/", profile.profile_password, name="profile_password"),
    path("profile/break/", profile.break_toggle, name="break_toggle"),
]
