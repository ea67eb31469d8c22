"""Signed provider callbacks sent straight to the live server, as the carrier sends them, for
tests that choose their order (tests/telephony/flow/test_races.py, tests/telephony/test_sweep.py)."""

from __future__ import annotations

from django.conf import settings

from telephony.emulator.webhooks import webhook_send
from telephony.models import Call, CallLeg


class Webhooks:
    """Signed webhooks of one provider, with the fields that provider sends for each event."""

    def __init__(self, hotline):
        self.hotline = hotline
        self.twilio = hotline.provider == "twilio"

    def post(self, path: str, fields: dict[str, str]):
        hook = webhook_send(
            self.hotline.carrier,
            account=self.hotline.account,
            kind="race",
            url=settings.PUBLIC_BASE_URL + path,
            fields=fields,
        )
        assert hook.status and hook.status < 500, (path, hook.status, hook.error)
        return hook

    def ids(self, call_id: str, **fields) -> dict[str, str]:
        key = "CallSid" if self.twilio else "CallUUID"
        base = {key: call_id}
        if self.twilio:
            base["AccountSid"] = self.hotline.account.account_id
        return {**base, **fields}

    def caller_hung_up(self, call: Call) -> None:
        """What the carrier sends when the caller hangs up on hold (Twilio: the <Enqueue>
        action first, then the status callback)."""
        if self.twilio:
            self.post(
                f"/telephony/calls/{call.pk}/hold-exit",
                self.ids(call.provider_call_id, QueueResult="hangup", QueueTime="4", CallStatus="completed"),
            )
            fields = self.ids(call.provider_call_id, CallStatus="completed", CallDuration="9")
        else:
            fields = self.ids(call.provider_call_id, CallStatus="completed", Duration="9", Event="Hangup")
        self.post("/telephony/status", {**fields, "Direction": "inbound"})

    def press(self, leg: CallLeg, digits: str = "1"):
        return self.post(
            f"/telephony/legs/{leg.pk}/accept",
            self.ids(leg.provider_call_id, Digits=digits, CallStatus="in-progress"),
        )

    def leg_ended(self, leg: CallLeg) -> None:
        duration = {"CallDuration": "6"} if self.twilio else {"Duration": "6", "Event": "Hangup"}
        self.post(
            f"/telephony/legs/{leg.pk}/status",
            self.ids(leg.provider_call_id, CallStatus="completed", **duration),
        )
