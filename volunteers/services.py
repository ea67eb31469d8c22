"""Roster and profile services: every admin change is audited; phone numbers never reach the log."""

from __future__ import annotations

from django.contrib.auth import update_session_auth_hash
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from llamenos.audit import audit_record
from llamenos.crypto import number_last4
from llamenos.events import ADMINS_GROUP, event_send
from llamenos.models import Role, User

from .models import Volunteer


class RosterError(Exception):
    """An admin action that would leave the hotline in a bad state (e.g. with no admin)."""


def volunteer_for_user(*, user: User) -> Volunteer:
    """Every account has a profile; accounts made before this app (createadmin) get one lazily."""
    volunteer, _ = Volunteer.objects.get_or_create(user=user)
    return volunteer


def roster_list() -> QuerySet[User]:
    return User.objects.select_related("volunteer").order_by("-is_active", "first_name", "username")


def _target(user: User) -> str:
    return f"user {user.pk} ({user.username})"


def _phone_details(phone) -> dict:
    return {"phone_last4": number_last4(str(phone))} if phone else {}


@transaction.atomic
def volunteer_create(
    *,
    actor: User,
    request: HttpRequest | None = None,
    username: str,
    first_name: str,
    last_name: str = "",
    phone: str = "",
    role: str = Role.VOLUNTEER,
    spoken_languages: list[str] | None = None,
) -> User:
    """Add someone to the roster. They have no password until they follow an invite link."""
    user = User(username=username, first_name=first_name, last_name=last_name, role=role)
    user.set_unusable_password()
    user.save()
    Volunteer.objects.create(user=user, phone=phone or "", spoken_languages=spoken_languages or [])
    audit_record(
        event="volunteer.created",
        actor=actor,
        target=_target(user),
        details={"role": role, "languages": ",".join(spoken_languages or []), **_phone_details(phone)},
        request=request,
    )
    return user


@transaction.atomic
def volunteer_update(*, actor: User, request: HttpRequest | None = None, user: User, **fields) -> User:
    """Admin edit of names, phone, languages, call preference and fallback membership."""
    volunteer = volunteer_for_user(user=user)
    if "phone" in fields:
        fields["phone"] = fields["phone"] or ""
    changed = []
    for row, names in (
        (user, ("first_name", "last_name")),
        (volunteer, ("phone", "spoken_languages", "call_preference", "in_fallback_group")),
    ):
        for name in names:
            if name in fields and getattr(row, name) != fields[name]:
                setattr(row, name, fields[name])
                changed.append(name)
    user.save()
    volunteer.save()
    if changed:
        audit_record(
            event="volunteer.updated",
            actor=actor,
            target=_target(user),
            details={"changed": sorted(changed)},
            request=request,
        )
    return user


def _admins_left_without(user: User) -> bool:
    return not User.objects.filter(role=Role.ADMIN, is_active=True).exclude(pk=user.pk).exists()


def user_sessions_end(*, user: User) -> int:
    """Delete every database session that belongs to ``user``: they are logged out everywhere."""
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            session.delete()
            ended += 1
    return ended


@transaction.atomic
def volunteer_set_active(
    *, actor: User, request: HttpRequest | None = None, user: User, active: bool
) -> User:
    if not active and user.pk == actor.pk:
        raise RosterError("You cannot deactivate your own account.")
    if not active and user.role == Role.ADMIN and _admins_left_without(user):
        raise RosterError("This is the last active admin; promote someone else first.")
    if user.is_active == active:
        return user
    user.is_active = active
    user.save(update_fields=["is_active"])
    details = {}
    if not active:
        details["sessions_ended_count"] = user_sessions_end(user=user)
    audit_record(
        event="volunteer.reactivated" if active else "volunteer.deactivated",
        actor=actor,
        target=_target(user),
        details=details,
        request=request,
    )
    return user


@transaction.atomic
def volunteer_set_role(*, actor: User, request: HttpRequest | None = None, user: User, role: str) -> User:
    if role not in Role.values:
        raise RosterError("Unknown role.")
    if role != Role.ADMIN and user.role == Role.ADMIN:
        if user.pk == actor.pk:
            raise RosterError("You cannot remove your own admin role.")
        if _admins_left_without(user):
            raise RosterError("This is the last active admin; promote someone else first.")
    if user.role == role:
        return user
    previous = user.role
    user.role = role
    user.save(update_fields=["role"])
    audit_record(
        event="volunteer.promoted" if role == Role.ADMIN else "volunteer.demoted",
        actor=actor,
        target=_target(user),
        details={"old_role": previous, "new_role": role},
        request=request,
    )
    return user


@transaction.atomic
def volunteer_delete(*, actor: User, request: HttpRequest | None = None, user: User) -> None:
    if user.pk == actor.pk:
        raise RosterError("You cannot delete your own account.")
    if user.role == Role.ADMIN and user.is_active and _admins_left_without(user):
        raise RosterError("This is the last active admin; promote someone else first.")
    target = _target(user)
    user_sessions_end(user=user)
    user.delete()
    audit_record(event="volunteer.deleted", actor=actor, target=target, request=request)


def volunteer_phone_reveal(*, actor: User, request: HttpRequest | None = None, user: User) -> str:
    """The full number, for an admin who asked for it; the asking is what gets audited."""
    volunteer = volunteer_for_user(user=user)
    audit_record(
        event="volunteer.phone_revealed",
        actor=actor,
        target=_target(user),
        details=_phone_details(volunteer.phone),
        request=request,
    )
    return str(volunteer.phone) if volunteer.phone else ""


@transaction.atomic
def fallback_group_set(
    *, actor: User, request: HttpRequest | None = None, volunteers: list[Volunteer]
) -> None:
    wanted = {volunteer.pk for volunteer in volunteers}
    current = set(Volunteer.objects.filter(in_fallback_group=True).values_list("pk", flat=True))
    if wanted == current:
        return
    added = sorted(Volunteer.objects.filter(pk__in=wanted - current).values_list("user_id", flat=True))
    removed = sorted(Volunteer.objects.filter(pk__in=current - wanted).values_list("user_id", flat=True))
    Volunteer.objects.filter(pk__in=current - wanted).update(in_fallback_group=False)
    Volunteer.objects.filter(pk__in=wanted - current).update(in_fallback_group=True)
    audit_record(
        event="fallback_group.updated",
        actor=actor,
        target="fallback group",
        details={"added_user_ids": added, "removed_user_ids": removed, "members_count": len(wanted)},
        request=request,
    )


# --- A volunteer's own profile ---------------------------------------------------------------


@transaction.atomic
def profile_update(*, user: User, request: HttpRequest | None = None, **fields) -> Volunteer:
    volunteer = volunteer_for_user(user=user)
    user.first_name = fields["first_name"]
    user.last_name = fields.get("last_name", "")
    user.save(update_fields=["first_name", "last_name"])
    volunteer.phone = fields.get("phone") or ""
    volunteer.spoken_languages = fields.get("spoken_languages") or []
    volunteer.call_preference = fields["call_preference"]
    volunteer.save()
    audit_record(event="profile.updated", actor=user, target=_target(user), request=request)
    return volunteer


def profile_password_change(*, user: User, request: HttpRequest, password: str) -> None:
    user.set_password(password)
    user.save(update_fields=["password"])
    update_session_auth_hash(request, user)  # keep this session; others end (hash changed)
    audit_record(event="profile.password_changed", actor=user, target=_target(user), request=request)


@transaction.atomic
def volunteer_break_set(*, user: User, request: HttpRequest | None = None, on_break: bool) -> Volunteer:
    volunteer = volunteer_for_user(user=user)
    if volunteer.on_break != on_break:
        volunteer.on_break = on_break
        volunteer.save(update_fields=["on_break", "updated_at"])
        audit_record(
            event="volunteer.break_started" if on_break else "volunteer.break_ended",
            actor=user,
            target=_target(user),
            request=request,
        )
        event_send(group=ADMINS_GROUP, event_type="presence", user_id=user.pk, on_break=on_break)
    return volunteer
