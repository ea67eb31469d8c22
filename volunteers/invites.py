"""Invites: a one-time link valid for seven days. Only the SHA-256 of the token is kept."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from llamenos.audit import audit_record
from llamenos.models import Role, User

from .models import Invite, Volunteer

INVITE_VALID_FOR = dt.timedelta(days=7)


class InviteUnavailable(Exception):
    """The link cannot be used: ``state`` is "unknown", "accepted", "expired" or "revoked"."""

    def __init__(self, state: str):
        super().__init__(state)
        self.state = state


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite_state(invite: Invite, *, now: dt.datetime | None = None) -> str:
    now = now or timezone.now()
    if invite.accepted_at:
        return "accepted"
    if invite.revoked_at:
        return "revoked"
    if invite.expires_at <= now:
        return "expired"
    return "pending"


def invites_pending() -> QuerySet[Invite]:
    return Invite.objects.filter(
        accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).select_related("created_by", "user")


def invite_pending_for(*, user: User) -> Invite | None:
    return invites_pending().filter(user=user).first()


@transaction.atomic
def invite_create(
    *,
    actor: User,
    request: HttpRequest | None = None,
    first_name: str,
    last_name: str = "",
    phone: str = "",
    role: str = Role.VOLUNTEER,
    user: User | None = None,
) -> tuple[Invite, str]:
    """Returns the invite and the raw token; the token is not stored and cannot be shown again."""
    token = secrets.token_urlsafe(32)
    invite = Invite.objects.create(
        first_name=first_name,
        last_name=last_name,
        phone=phone or "",
        role=role,
        user=user,
        token_hash=token_hash(token),
        created_by=actor,
        expires_at=timezone.now() + INVITE_VALID_FOR,
    )
    audit_record(
        event="invite.created",
        actor=actor,
        target=f"invite {invite.pk} ({invite.display_name})",
        details={"role": role, **({"user_id": user.pk} if user else {})},
        request=request,
    )
    return invite, token


def invite_for_token(*, token: str, lock: bool = False) -> Invite:
    """The usable invite behind ``token``; raises InviteUnavailable saying why it is not."""
    invites = Invite.objects.select_for_update(of=("self",)) if lock else Invite.objects.all()
    invite = invites.select_related("user").filter(token_hash=token_hash(token)).first()
    if invite is None:
        raise InviteUnavailable("unknown")
    state = invite_state(invite)
    if state != "pending":
        raise InviteUnavailable(state)
    return invite


@transaction.atomic
def invite_accept(
    *, token: str, password: str, username: str = "", request: HttpRequest | None = None
) -> User:
    """Create (or finish) the account and spend the invite; the row lock makes it one-time."""
    invite = invite_for_token(token=token, lock=True)
    user = invite.user
    if user is None:
        user = User(
            username=username, first_name=invite.first_name, last_name=invite.last_name, role=invite.role
        )
    user.set_password(password)
    user.save()
    volunteer, _ = Volunteer.objects.get_or_create(user=user)
    if invite.phone and not volunteer.phone and not Volunteer.objects.filter(phone=invite.phone).exists():
        volunteer.phone = invite.phone
        volunteer.save(update_fields=["phone"])
    invite.user = user
    invite.accepted_at = timezone.now()
    invite.save(update_fields=["user", "accepted_at"])
    audit_record(
        event="invite.accepted",
        actor=user,
        target=f"invite {invite.pk} ({invite.display_name})",
        details={"user_id": user.pk},
        request=request,
    )
    return user


@transaction.atomic
def invite_revoke(*, actor: User, request: HttpRequest | None = None, invite: Invite) -> Invite:
    if invite_state(invite) != "pending":
        return invite
    invite.revoked_at = timezone.now()
    invite.save(update_fields=["revoked_at"])
    audit_record(
        event="invite.revoked",
        actor=actor,
        target=f"invite {invite.pk} ({invite.display_name})",
        request=request,
    )
    return invite
