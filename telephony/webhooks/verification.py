"""Which provider account sent a webhook, proven by its signature; everything else gets 403.

The URL checked is PUBLIC_BASE_URL + the request's path and query (see providers.base.public_url),
so a TLS proxy that hands the app http://127.0.0.1:8000/... does not break the check, and a
signature made for some other host or for plain http does not pass.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponseBadRequest, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from llamenos.access import public

from ..models import ProviderAccount
from ..providers import PROVIDERS, Provider
from .parsing import MalformedWebhook, webhook_event

logger = logging.getLogger(__name__)


def _candidates(provider_name: str, request: HttpRequest) -> list[ProviderAccount]:
    """Enabled accounts of that provider, the likeliest first.

    The account id field (Twilio's AccountSid) and the hotline number (To on inbound calls, From
    on our outbound legs) pick the account that owns the number, which matters when one carrier
    account with one token holds several hotline numbers.
    """
    accounts = list(ProviderAccount.objects.filter(enabled=True, provider=provider_name))
    cls = PROVIDERS[provider_name]
    account_id = request.POST.get(cls.account_id_field, "") if cls.account_id_field else ""
    # Plivo sends numbers without the "+".
    numbers = {"+" + request.POST.get(name, "").lstrip("+") for name in ("To", "From")} - {"+"}

    def rank(account: ProviderAccount) -> tuple[int, int]:
        return (
            0 if str(account.hotline_number) in numbers else 1,
            0 if account_id and account.account_id == account_id else 1,
        )

    return sorted(accounts, key=rank)


def webhook_provider(request: HttpRequest) -> Provider | None:
    """The provider, bound to the enabled account whose credentials verify this request, or
    None. Accounts are read for every request: a token rotated or an account disabled in any
    process counts at once."""
    for name, cls in PROVIDERS.items():
        if not request.headers.get(cls.signature_header):
            continue
        for account in _candidates(name, request):
            provider = cls(account)
            if provider.verify(request):
                return provider
        return None
    return None


def verified_webhook(view: Callable) -> Callable:
    """For provider webhook views: POST only, no CSRF token, a valid provider signature, fields
    that pass the checks (parsing.WebhookFields), else 400.

    The view is called as ``view(request, provider, *args, **kwargs)``; ``provider.account`` is
    the ProviderAccount that signed the request, and ``webhook_event(request, provider)`` is already read.
    """

    @wraps(view)
    def inner(request: HttpRequest, *args, **kwargs):
        provider = webhook_provider(request)
        if provider is None:
            # No caller data in the log: only which provider header came and which path.
            sent = [cls.name for cls in PROVIDERS.values() if request.headers.get(cls.signature_header)]
            logger.warning(
                "webhook rejected: path=%s provider_header=%s", request.path, ",".join(sent) or "none"
            )
            return HttpResponseForbidden("Signature check failed.", content_type="text/plain")
        try:
            webhook_event(request, provider)  # before the view, so a malformed request writes nothing
        except MalformedWebhook as exc:
            # The reason names a field, never its value: no numbers or texts in the log.
            logger.warning(
                "webhook refused: path=%s provider=%s account=%s reason=%s",
                request.path,
                provider.name,
                provider.account.pk,
                exc,
            )
            return HttpResponseBadRequest(str(exc), content_type="text/plain")
        return view(request, provider, *args, **kwargs)

    return public("signed provider webhook")(csrf_exempt(require_POST(inner)))
