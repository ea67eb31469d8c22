"""The provider registry: the only place that maps a provider's name to its class."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import PUBLIC_WEBHOOK_PATHS, Provider, ProviderEvent
from .errors import ProviderError
from .plivo import PlivoProvider
from .twilio import TwilioProvider

if TYPE_CHECKING:
    from ..models import ProviderAccount

PROVIDERS: dict[str, type[Provider]] = {"twilio": TwilioProvider, "plivo": PlivoProvider}


def provider_class(name: str) -> type[Provider]:
    try:
        return PROVIDERS[name]
    except KeyError:
        raise ProviderError(f"unknown provider {name!r}", permanent=True) from None


def provider_for(account: ProviderAccount) -> Provider:
    """An instance bound to ``account`` (``provider.account``)."""
    return provider_class(account.provider)(account)


__all__ = [
    "PROVIDERS",
    "PUBLIC_WEBHOOK_PATHS",
    "PlivoProvider",
    "Provider",
    "ProviderError",
    "ProviderEvent",
    "TwilioProvider",
    "provider_class",
    "provider_for",
]
