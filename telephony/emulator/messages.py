"""SMS: messages sent through the REST API (with their status callbacks) and inbound ones."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from .accounts import TWILIO, Account, plivo_number, plivo_uuid, twilio_sid
from .rest import rfc2822
from .webhooks import webhook_send

if TYPE_CHECKING:
    from .carrier import Carrier


class EmulatedMessage:
    def __init__(
        self,
        carrier: Carrier,
        account: Account,
        *,
        to: str,
        from_: str,
        body: str,
        status_url: str,
        direction: str = "outbound-api",
    ) -> None:
        self.carrier = carrier
        self.account = account
        self.sid = twilio_sid("SM") if account.provider == TWILIO else plivo_uuid()
        self.to = to
        self.from_ = from_
        self.body = body
        self.status_url = status_url
        self.direction = direction
        self.status = "queued"
        self.created_at = time.time()

    def __repr__(self) -> str:
        return f"<EmulatedMessage {self.sid} {self.status}>"

    def twilio_json(self) -> dict:
        acc = self.account.account_id
        return {
            "sid": self.sid,
            "account_sid": acc,
            "to": self.to,
            "from": self.from_,
            "body": self.body,
            "status": self.status,
            "direction": self.direction,
            "num_segments": "1",
            "num_media": "0",
            "api_version": "2010-04-01",
            "date_created": rfc2822(self.created_at),
            "date_sent": None,
            "date_updated": rfc2822(self.created_at),
            "error_code": None,
            "error_message": None,
            "price": None,
            "price_unit": "USD",
            "messaging_service_sid": None,
            "uri": f"/2010-04-01/Accounts/{acc}/Messages/{self.sid}.json",
            "subresource_uris": {},
        }

    def deliver(self) -> None:
        """Hand the text to the destination phone, then report sent and delivered (in a thread)."""
        self.carrier.phone(self.to)._add_message(self)
        threading.Thread(target=self._report, name=f"sms-{self.sid[:8]}", daemon=True).start()

    def _report(self) -> None:
        for status in ("sent", "delivered"):
            self.status = status
            if not self.status_url:
                continue
            if self.account.provider == TWILIO:
                fields = {
                    "MessageSid": self.sid,
                    "SmsSid": self.sid,
                    "MessageStatus": status,
                    "SmsStatus": status,
                    "AccountSid": self.account.account_id,
                    "From": self.from_,
                    "To": self.to,
                    "ApiVersion": "2010-04-01",
                }
            else:
                fields = {
                    "MessageUUID": self.sid,
                    "Status": status,
                    "From": plivo_number(self.from_),
                    "To": plivo_number(self.to),
                    "Units": "1",
                    "TotalAmount": "0.00500",
                    "TotalRate": "0.00500",
                    "MessageTime": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
                }
            webhook_send(
                self.carrier, account=self.account, kind="sms_status", url=self.status_url, fields=fields
            )
