from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured


@register()
def secrets_configured(app_configs, **kwargs):
    from .crypto import encryption_keys

    errors = []
    try:
        encryption_keys()
    except ImproperlyConfigured as exc:
        errors.append(Error(str(exc), id="llamenos.E001"))
    if not settings.NUMBER_HASH_PEPPER:
        errors.append(Error("NUMBER_HASH_PEPPER is not set.", id="llamenos.E002"))
    return errors
