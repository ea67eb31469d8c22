from __future__ import annotations

from django.apps import AppConfig


class TelephonyConfig(AppConfig):
    name = "telephony"

    def ready(self) -> None:
        from llamenos.singletons import singleton_register

        from .call_models import CallFlowSettings

        singleton_register(CallFlowSettings)
