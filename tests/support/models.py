from __future__ import annotations

from django.db import models

from llamenos.crypto import EncryptedTextField


class SecretThing(models.Model):
    label = models.CharField(max_length=50)
    secret = EncryptedTextField(blank=True)
    other_secret = EncryptedTextField(blank=True)

    class Meta:
        app_label = "test_support"

    def __str__(self) -> str:
        return self.label
