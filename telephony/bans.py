"""Bans: numbers rejected before anything is spoken. Stored and matched as HMACs only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import phonenumbers
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from llamenos.audit import audit_record
from llamenos.crypto import number_hash, number_last4
from llamenos.models import User

from .models import Ban


class BanError(ValueError):
    """The number cannot be banned (invalid, or already banned); the message says why."""


def e164_or_error(raw: str, *, region: str | None = None) -> str:
    try:
        parsed = phonenumbers.parse(raw.strip(), region or settings.PHONENUMBER_DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise BanError("This is not a phone number.") from exc
    if not phonenumbers.is_possible_number(parsed) or not phonenumbers.is_valid_number(parsed):
        raise BanError("This is not a valid phone number.")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def bans_active(*, at: dt.datetime | None = None) -> QuerySet[Ban]:
    at = at or timezone.now()
    return Ban.objects.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=at))


def bans_expired(*, at: dt.datetime) -> QuerySet[Ban]:
    """The rest: bans that match nobody any more, and are renewed when the number is banned again."""
    return Ban.objects.filter(expires_at__lte=at)


def ban_add(
    *, actor: User, number: str, reason: str, expires_at: dt.datetime | None = None, request=None
) -> Ban:
    """Ban ``number``; a ban of it that has expired is renewed in place (the hash is unique)."""
    e164 = e164_or_error(number)
    hashed, now = number_hash(e164), timezone.now()
    values = {"reason": reason, "expires_at": expires_at, "created_by": actor, "created_at": now}
    try:
        with transaction.atomic():
            renewed = bool(bans_expired(at=now).filter(number_hash=hashed).update(**values))
            ban = (
                Ban.objects.get(number_hash=hashed)
                if renewed
                else Ban.objects.create(number_hash=hashed, number_last4=number_last4(e164), **values)
            )
    except IntegrityError as exc:
        raise BanError(f"The number ending in {number_last4(e164)} is already banned.") from exc
    audit_record(
        event="ban.added",
        actor=actor,
        target=f"ban {ban.pk}",
        details={"number_last4": ban.number_last4, "expires": bool(expires_at), "renewed": renewed},
        request=request,
    )
    return ban


def ban_remove(*, actor: User, ban: Ban, request=None) -> None:
    audit_record(
        event="ban.removed",
        actor=actor,
        target=f"ban {ban.pk}",
        details={"number_last4": ban.number_last4},
        request=request,
    )
    ban.delete()


@dataclass
class ImportSummary:
    added: list[str] = field(default_factory=list)  # last 4 digits of each added number
    renewed: int = 0  # of the added: numbers whose expired ban was renewed
    duplicates: list[int] = field(default_factory=list)  # line numbers
    invalid: list[tuple[int, str]] = field(default_factory=list)  # (line number, why)


def bans_import(
    *, actor: User, text: str, reason: str, expires_at: dt.datetime | None = None, request=None
) -> ImportSummary:
    """One number per line; every line is validated; blank lines are skipped. A number already
    banned is a duplicate; one whose ban expired is banned again (its row renewed)."""
    summary = ImportSummary()
    now = timezone.now()
    seen: set[str] = set()
    expired = set(bans_expired(at=now).values_list("number_hash", flat=True))
    active = set(bans_active(at=now).values_list("number_hash", flat=True))
    values = {"reason": reason, "expires_at": expires_at, "created_by": actor, "created_at": now}
    new_bans, renew = [], []
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            e164 = e164_or_error(line)
        except BanError as error:
            summary.invalid.append((line_number, str(error)))
            continue
        hashed = number_hash(e164)
        if hashed in active or hashed in seen:
            summary.duplicates.append(line_number)
            continue
        seen.add(hashed)
        summary.added.append(number_last4(e164))
        if hashed in expired:
            renew.append(hashed)
        else:
            new_bans.append(Ban(number_hash=hashed, number_last4=number_last4(e164), **values))
    summary.renewed = len(renew)
    with transaction.atomic():
        # Only rows still expired are renewed: a ban another admin made meanwhile is kept as is.
        bans_expired(at=now).filter(number_hash__in=renew).update(**values)
        Ban.objects.bulk_create(new_bans, ignore_conflicts=True)
    audit_record(
        event="ban.imported",
        actor=actor,
        target="ban list",
        details={
            "added_count": len(summary.added),
            "renewed_count": summary.renewed,
            "duplicate_count": len(summary.duplicates),
            "invalid_count": len(summary.invalid),
            "expires": bool(expires_at),
        },
        request=request,
    )
    return summary
