from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection

from llamenos.crypto import DecryptionError, number_hash, number_last4, number_mask
from tests.support.models import SecretThing

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


def raw_column(thing: SecretThing, column: str = "secret") -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM test_support_secretthing WHERE id = %s", [thing.pk])  # noqa: S608
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_encrypted_field_round_trips_and_stores_no_plaintext(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    thing = SecretThing.objects.create(label="a", secret="auth-token-abc123")

    assert SecretThing.objects.get(pk=thing.pk).secret == "auth-token-abc123"
    stored = raw_column(thing)
    assert "auth-token-abc123" not in stored
    assert Fernet(OLD_KEY).decrypt(stored.encode()) == b"auth-token-abc123"


@pytest.mark.django_db
def test_empty_value_stays_empty(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    thing = SecretThing.objects.create(label="a", secret="")
    assert raw_column(thing) == ""
    assert SecretThing.objects.get(pk=thing.pk).secret == ""


@pytest.mark.django_db
def test_wrong_key_raises_instead_of_returning_ciphertext(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    thing = SecretThing.objects.create(label="a", secret="s3cret")
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]

    with pytest.raises(DecryptionError):
        SecretThing.objects.get(pk=thing.pk)


@pytest.mark.django_db
def test_rotation_reencrypts_every_field_with_the_newest_key(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    first = SecretThing.objects.create(label="a", secret="one", other_secret="two")
    second = SecretThing.objects.create(label="b", secret="three")

    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    call_command("rotate_encryption_keys", verbosity=0)

    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]  # the old key is gone: everything must still read
    assert SecretThing.objects.get(pk=first.pk).secret == "one"
    assert SecretThing.objects.get(pk=first.pk).other_secret == "two"
    assert SecretThing.objects.get(pk=second.pk).secret == "three"
    assert Fernet(NEW_KEY).decrypt(raw_column(first).encode()) == b"one"
    assert raw_column(second, "other_secret") == ""


def test_missing_or_malformed_keys_are_a_clear_configuration_error(settings):
    from llamenos.crypto import encrypt

    settings.FIELD_ENCRYPTION_KEYS = []
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEYS is empty"):
        encrypt("x")
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, "not-a-key"]
    with pytest.raises(ImproperlyConfigured, match="entry 2"):
        encrypt("x")


def test_number_hash_is_stable_and_depends_on_the_pepper(settings):
    settings.NUMBER_HASH_PEPPER = "pepper-one"
    first = number_hash("+14155552671")
    assert first == number_hash("+14155552671")
    assert len(first) == 64
    assert first != number_hash("+14155552672")

    settings.NUMBER_HASH_PEPPER = "pepper-two"
    assert number_hash("+14155552671") != first


def test_number_hash_refuses_without_pepper(settings):
    settings.NUMBER_HASH_PEPPER = ""
    with pytest.raises(ImproperlyConfigured):
        number_hash("+14155552671")


def test_masking_keeps_country_code_and_last_digits():
    assert number_last4("+14155552671") == "2671"
    assert number_mask("+14155552671") == "+1••••••2671"
    assert number_mask("+34612345678", visible=2) == "+34•••••••78"
