"""Secrets at rest (MultiFernet) and caller-number privacy helpers.

``FIELD_ENCRYPTION_KEYS`` is a comma-separated list of Fernet keys, newest first: values are
encrypted with the first key and decrypted with any of them, so a new key can be put in front and
``manage.py rotate_encryption_keys`` run to re-encrypt everything with it.
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


class DecryptionError(Exception):
    """A stored value could not be decrypted with any configured key (wrong or missing key)."""


def encryption_keys() -> list[Fernet]:
    raw_keys = [key.strip() for key in settings.FIELD_ENCRYPTION_KEYS if key.strip()]
    if not raw_keys:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS is empty. Generate a key with "
            '`python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`.'
        )
    fernets = []
    for position, key in enumerate(raw_keys, start=1):
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError) as exc:
            raise ImproperlyConfigured(
                f"FIELD_ENCRYPTION_KEYS entry {position} is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes)."
            ) from exc
    return fernets


def _multifernet() -> MultiFernet:
    return MultiFernet(encryption_keys())


def encrypt(plaintext: str) -> str:
    return _multifernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _multifernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError(
            "A stored secret cannot be decrypted with FIELD_ENCRYPTION_KEYS; "
            "was the key that encrypted it removed?"
        ) from exc


def reencrypt(token: str) -> str:
    """Return ``token`` encrypted with the newest key (raises DecryptionError on a foreign token)."""
    try:
        return _multifernet().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("A stored secret cannot be decrypted with FIELD_ENCRYPTION_KEYS.") from exc


class EncryptedTextField(models.TextField):
    """A text column stored as a Fernet token. Empty stays empty, meaning "not set"."""

    description = "Text encrypted at rest with FIELD_ENCRYPTION_KEYS"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))


def _pepper() -> bytes:
    if not settings.NUMBER_HASH_PEPPER:
        raise ImproperlyConfigured("NUMBER_HASH_PEPPER is not set; caller numbers cannot be hashed.")
    return settings.NUMBER_HASH_PEPPER.encode()


def number_hash(e164: str) -> str:
    """HMAC-SHA256 of an E.164 number: stable for the same pepper, useless without it."""
    return hmac.new(_pepper(), e164.strip().encode(), hashlib.sha256).hexdigest()


def ip_hash(ip_address: str) -> str:
    """A keyed hash of an IP address, so audit rows can be correlated without storing the address."""
    return hmac.new(_pepper(), b"ip:" + ip_address.encode(), hashlib.sha256).hexdigest()


def number_last4(e164: str) -> str:
    digits = "".join(ch for ch in e164 if ch.isdigit())
    return digits[-4:]


def number_mask(e164: str, *, visible: int = 4) -> str:
    """``+14155552671`` -> ``+1•••••••2671``: the country code and the last digits only."""
    import phonenumbers

    digits = "".join(ch for ch in e164 if ch.isdigit())
    if not digits:
        return ""
    try:
        country = str(phonenumbers.parse(e164 if e164.startswith("+") else f"+{digits}").country_code)
    except phonenumbers.NumberParseException:
        country = ""
    national = digits[len(country) :]
    shown = national[-visible:] if visible else ""
    return f"+{country}" + "•" * (len(national) - len(shown)) + shown
