"""Re-encrypt every encrypted field with the newest key in FIELD_ENCRYPTION_KEYS.

Put the new key first, keep the old ones after it, run this, then drop the old keys.
"""

from __future__ import annotations

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from llamenos.audit import audit_record
from llamenos.crypto import EncryptedTextField, reencrypt


def encrypted_columns():
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
                yield model, field


class Command(BaseCommand):
    help = "Re-encrypt all encrypted fields with the newest FIELD_ENCRYPTION_KEYS key."

    @transaction.atomic
    def handle(self, *args, **options):
        total = 0
        for model, field in encrypted_columns():
            table = connection.ops.quote_name(model._meta.db_table)
            column = connection.ops.quote_name(field.column)
            pk_column = connection.ops.quote_name(model._meta.pk.column)
            with connection.cursor() as cursor:
                # Raw SQL on purpose: rotation works on tokens and never needs the plaintext.
                # Identifiers come from model metadata and are quoted.
                select = f"SELECT {pk_column}, {column} FROM {table} WHERE {column} <> ''"  # noqa: S608
                cursor.execute(select)
                rows = cursor.fetchall()
                for pk, token in rows:
                    cursor.execute(
                        f"UPDATE {table} SET {column} = %s WHERE {pk_column} = %s",  # noqa: S608
                        [reencrypt(token), pk],
                    )
            total += len(rows)
            self.stdout.write(f"{model._meta.label}.{field.name}: {len(rows)} value(s) re-encrypted")
        audit_record(event="secrets.keys_rotated", details={"value_count": total})
        self.stdout.write(self.style.SUCCESS(f"Done: {total} value(s) now use the newest key."))
