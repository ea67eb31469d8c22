"""Provider accounts: selectors and services. Every change is audited, never with a secret."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest

from llamenos.audit import audit_record
from llamenos.models import User

from .models import ProviderAccount
from .providers import ProviderError, provider_for

SECRET_FIELDS = ("auth_token", "api_key_secret")
EDITABLE_FIELDS = (
    "provider",
    "label",
    "enabled",
    "hotline_number",
    "account_id",
    "auth_token",
    "api_key_sid",
    "api_key_secret",
    "twiml_app_sid",
    "plivo_app_id",
)


def provider_account_list() -> list[ProviderAccount]:
    return list(ProviderAccount.objects.all())


def provider_account_get(*, account_pk: int) -> ProviderAccount | None:
    return ProviderAccount.objects.filter(pk=account_pk).first()


def provider_account_enabled_list() -> list[ProviderAccount]:
    return list(ProviderAccount.objects.filter(enabled=True))


def _target(account: ProviderAccount) -> str:
    # The label is free text an admin typed; it could hold a number, so audit rows use the id.
    return f"{account.provider} account #{account.pk}"


@transaction.atomic
def provider_account_create(
    *,
    actor: User | None,
    request: HttpRequest | None = None,
    event: str = "telephony.account_created",
    **fields,
) -> ProviderAccount:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"not provider account fields: {sorted(unknown)}")
    account = ProviderAccount(**{name: value for name, value in fields.items() if value is not None})
    account.full_clean()
    account.save()
    audit_record(
        event=event,
        actor=actor,
        target=_target(account),
        details={
            "provider": account.provider,
            "enabled": account.enabled,
        },
        request=request,
    )
    return account


@transaction.atomic
def provider_account_update(
    *,
    account: ProviderAccount,
    actor: User | None,
    request: HttpRequest | None = None,
    event: str = "telephony.account_updated",
    **fields,
) -> list[str]:
    """Apply ``fields``; a secret given as None keeps the stored value, "" clears it.

    Returns the names of the fields that changed (audited by name only).
    """
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"not provider account fields: {sorted(unknown)}")
    changed = []
    for name, value in fields.items():
        if value is None and name in SECRET_FIELDS:
            continue
        if getattr(account, name) != value:
            setattr(account, name, value)
            changed.append(name)
    if changed:
        account.full_clean()
        account.save()
        audit_record(
            event=event,
            actor=actor,
            target=_target(account),
            details={"changed": sorted(changed)},
            request=request,
        )
    return sorted(changed)


@transaction.atomic
def provider_account_set_enabled(
    *, account: ProviderAccount, enabled: bool, actor: User, request: HttpRequest | None = None
) -> None:
    if account.enabled == enabled:
        return
    account.enabled = enabled
    account.save(update_fields=["enabled", "updated_at"])
    audit_record(
        event="telephony.account_enabled" if enabled else "telephony.account_disabled",
        actor=actor,
        target=_target(account),
        request=request,
    )


@transaction.atomic
def provider_account_delete(
    *, account: ProviderAccount, actor: User, request: HttpRequest | None = None
) -> None:
    target = _target(account)
    provider = account.provider
    account.delete()
    audit_record(
        event="telephony.account_deleted",
        actor=actor,
        target=target,
        details={"provider": provider},
        request=request,
    )


def provider_account_check(
    *, account: ProviderAccount, actor: User, request: HttpRequest | None = None
) -> tuple[bool, str]:
    """Ask the provider's account endpoint with the stored credentials.

    Returns (ok, text): the account's name on success, the provider's error message (already
    scrubbed of numbers, never containing the secret) on failure.
    """
    try:
        name = provider_for(account).check_credentials()
    except ProviderError as exc:
        ok, text = False, exc.message
        for secret in (account.auth_token, account.api_key_secret):
            if secret:  # belt and braces: no provider should echo it, but never show it if one does
                text = text.replace(secret, "[secret]")
    else:
        ok, text = True, name
    audit_record(
        event="telephony.account_checked",
        actor=actor,
        target=_target(account),
        details={"ok": ok},
        request=request,
    )
    return ok, text
