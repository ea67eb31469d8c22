"""The emulated carrier: accounts, REST server, calls, phones, rooms and the records tests read."""

from __future__ import annotations

import re
import threading
import time
from typing import Any

import requests

from .accounts import PLIVO, TWILIO, Account, e164, plivo_number, plivo_uuid, twilio_sid
from .calls import EmulatedCall
from .messages import EmulatedMessage
from .phones import SimulatedPhone
from .rest import Failure, FailureBook, RestRequest
from .rooms import Queue, Room
from .server import RestServer
from .webhooks import Webhook, webhook_send

E164 = re.compile(r"^\+?[1-9]\d{6,14}$")


class Carrier:
    """A stateful fake Twilio + Plivo. See telephony/emulator/README.md for the whole API."""

    def __init__(
        self,
        app_base_url: str,
        public_base_url: str | None = None,
        accounts: list[Account] | tuple = (),
        *,
        time_scale: float = 1.0,
        webhook_timeout: float = 10.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.app_base_url = app_base_url.rstrip("/")
        self.public_base_url = (public_base_url or app_base_url).rstrip("/")
        self.accounts: list[Account] = list(accounts)
        self.time_scale = time_scale
        self.webhook_timeout = webhook_timeout
        self.requests: list[RestRequest] = []
        self.webhooks: list[Webhook] = []
        self.calls: list[EmulatedCall] = []
        self.messages: list[EmulatedMessage] = []
        self.started_at = time.time()
        self._failures = FailureBook()
        self._lost: set[tuple[str, str]] = set()  # (call sid or "*", webhook kind or "*")
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._phones: dict[str, SimulatedPhone] = {}
        self._queues: dict[tuple[str, str], Queue] = {}
        self._rooms: dict[tuple[str, str], Room] = {}
        self._http = requests.Session()
        # Many calls post at once; the default pool of 10 connections would be churned.
        self._http.mount("http://", requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=64))
        self._host, self._port = host, port
        self._server: RestServer | None = None
        self.rest_base_url = ""  # set by start(), or by the dev mount

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> Carrier:
        self._server = RestServer(self, self._host, self._port)
        self._server.start()
        self.rest_base_url = self._server.base_url
        return self

    def stop(self) -> None:
        for call in list(self.calls):
            if not call.is_final:
                call._push("hangup", status="completed", source="caller")
        for call in list(self.calls):
            if call._thread is not None:
                call._thread.join(timeout=2)
        if self._server is not None:
            self._server.stop()
            self._server = None
        self._http.close()

    def __enter__(self) -> Carrier:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return self.rest_base_url

    @property
    def twilio_api_base_url(self) -> str:
        return self.rest_base_url

    @property
    def plivo_api_base_url(self) -> str:
        return self.rest_base_url

    # --- accounts and lookups -----------------------------------------------------------------

    def add_account(self, account: Account) -> Account:
        with self._lock:
            self.accounts = [
                a
                for a in self.accounts
                if (a.provider, a.account_id) != (account.provider, account.account_id)
            ]
            self.accounts.append(account)
        return account

    def account(self, provider: str, account_id: str) -> Account | None:
        return next((a for a in self.accounts if a.provider == provider and a.account_id == account_id), None)

    def account_for(self, provider: str, hotline_number: str | None = None) -> Account:
        for acc in self.accounts:
            if acc.provider == provider and (
                hotline_number is None or e164(acc.hotline_number) == e164(hotline_number)
            ):
                return acc
        raise LookupError(f"no {provider} account" + (f" owns {hotline_number}" if hotline_number else ""))

    def call(self, sid: str) -> EmulatedCall | None:
        with self._lock:
            return next((c for c in self.calls if c.sid == sid), None)

    def call_by_request(self, request_uuid: str) -> EmulatedCall | None:
        """A Plivo outbound call by the request_uuid its create answered (not its CallUUID)."""
        with self._lock:
            return next((c for c in self.calls if c.request_uuid == request_uuid), None)

    def phone(self, number: str) -> SimulatedPhone:
        key = e164(number)
        with self._lock:
            if key not in self._phones:
                self._phones[key] = SimulatedPhone(key)
            return self._phones[key]

    @property
    def phones(self) -> list[SimulatedPhone]:
        with self._lock:
            return list(self._phones.values())

    def valid_number(self, number: str) -> bool:
        number = str(number).strip()
        return bool(E164.match(number)) or number.startswith(("sip:", "client:"))

    # --- what tests do ------------------------------------------------------------------------

    def place_call(
        self, provider: str = TWILIO, *, from_: str, to: str | None = None, account: Account | None = None
    ) -> EmulatedCall:
        """A caller dials the hotline: POST /telephony/incoming, then follow the XML in a thread."""
        account = account or self.account_for(provider, to)
        to = to or account.hotline_number
        sid = twilio_sid("CA") if account.provider == TWILIO else plivo_uuid()
        call = EmulatedCall(self, account, sid=sid, direction="inbound", from_=e164(from_), to=e164(to))
        with self._lock:
            self.calls.append(call)
        call._start(call.engine.run_inbound)
        return call

    def send_sms(
        self,
        provider: str = TWILIO,
        *,
        from_: str,
        body: str,
        to: str | None = None,
        account: Account | None = None,
    ) -> Webhook:
        """Someone texts the hotline: POST /telephony/sms/incoming (signed); returns the webhook record."""
        account = account or self.account_for(provider, to)
        to = to or account.hotline_number
        if account.provider == TWILIO:
            sid = twilio_sid("SM")
            fields = {
                "MessageSid": sid,
                "SmsSid": sid,
                "SmsMessageSid": sid,
                "AccountSid": account.account_id,
                "From": e164(from_),
                "To": e164(to),
                "Body": body,
                "NumMedia": "0",
                "NumSegments": "1",
                "SmsStatus": "received",
                "ApiVersion": "2010-04-01",
            }
        else:
            fields = {
                "MessageUUID": plivo_uuid(),
                "From": plivo_number(e164(from_)),
                "To": plivo_number(e164(to)),
                "Text": body,
                "Type": "sms",
                "TotalAmount": "0",
                "TotalRate": "0",
                "Units": "1",
            }
        return webhook_send(
            self, account=account, kind="sms", url=self.public_base_url + account.sms_path, fields=fields
        )

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int | None,
        body: Any = None,
        delay_seconds: float = 0,
        times: int = 1,
    ) -> None:
        """The next ``times`` REST requests matching method ("*" = any) and the path regex (searched)
        answer ``status`` with ``body`` (default: the provider's error body) after ``delay_seconds``.
        ``status=None`` only delays."""
        self._failures.add(
            Failure(method.upper(), re.compile(path_regex), status, body, delay_seconds, times)
        )

    def lose_webhooks(self, *kinds: str, call: EmulatedCall | None = None) -> None:
        """From now on, webhooks of ``kinds`` (every kind when none is named) of ``call`` (of every
        call when None) are lost on the way: recorded with an error, never delivered, as a
        callback the network dropped. A lost posted callback changes nothing for the call; a lost
        fetch ends it as an application error, as the carrier would."""
        with self._lock:
            self._lost.update((call.sid if call else "*", kind) for kind in kinds or ("*",))

    def deliver_webhooks(self) -> None:
        """Stop losing webhooks."""
        with self._lock:
            self._lost.clear()

    def wait_for_webhook(
        self, predicate=None, *, path: str | None = None, kind: str | None = None, timeout: float = 5
    ) -> Webhook:
        """First recorded webhook matching (``path`` is a prefix of path+query)."""

        def match(w: Webhook) -> bool:
            return (
                (path is None or w.path.startswith(path))
                and (kind is None or w.kind == kind)
                and (predicate is None or predicate(w))
                and (w.status or w.error)
            )

        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = next((w for w in self.webhooks if match(w)), None)
                if found:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [w.path for w in self.webhooks]
                    raise TimeoutError(f"no webhook path={path} kind={kind} within {timeout}s; got {seen}")
                self._cond.wait(min(remaining, 0.1))

    def reset(self) -> None:
        """Forget finished calls and old records (the dev page's "clear")."""
        with self._lock:
            self.calls = [c for c in self.calls if not c.is_final]
            self.requests.clear()
            self.webhooks.clear()
            self.messages.clear()

    # --- internals used by rest.py and the engines --------------------------------------------

    def _record_request(self, record: RestRequest) -> None:
        with self._lock:
            self.requests.append(record)

    def _webhook_lost(self, kind: str, call_sid: str) -> bool:
        with self._lock:
            return any((sid, name) in self._lost for sid in (call_sid or "-", "*") for name in (kind, "*"))

    def _record_webhook(self, record: Webhook) -> None:
        with self._cond:
            self.webhooks.append(record)
            self._cond.notify_all()

    def _outbound_call(self, account: Account, *, to: str, from_: str, **options: Any) -> EmulatedCall:
        sid = twilio_sid("CA") if account.provider == TWILIO else plivo_uuid()
        phone = self.phone(to)
        call = EmulatedCall(
            self,
            account,
            sid=sid,
            direction="outbound",
            from_=e164(from_),
            to=e164(to),
            phone=phone,
            options=options,
        )
        # Plivo answers a call create with a request_uuid; the call's own CallUUID is another id,
        # which the webhooks carry. Cancelling a ringing call takes the first, hanging up the second.
        call.request_uuid = plivo_uuid() if account.provider != TWILIO else sid
        with self._lock:
            self.calls.append(call)
        phone._add_call(call)
        return call  # the REST handler starts it once the "queued" answer is written

    def _outbound_message(
        self, account: Account, *, to: str, from_: str, body: str, status_url: str
    ) -> EmulatedMessage:
        message = EmulatedMessage(
            self, account, to=e164(to), from_=e164(from_) if from_ else "", body=body, status_url=status_url
        )
        with self._lock:
            self.messages.append(message)
        return message  # the REST handler delivers it once the "queued" answer is written

    def _queue(self, account: Account, name: str) -> Queue:
        with self._lock:
            return self._queues.setdefault((account.account_id, name), Queue(name))

    def _room(self, account: Account, name: str) -> Room:
        with self._lock:
            room = self._rooms.get((account.account_id, name))
            if room is None or room.ended:
                room = self._rooms[(account.account_id, name)] = Room(name)
            return room


__all__ = ["PLIVO", "TWILIO", "Account", "Carrier"]
