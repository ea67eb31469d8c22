"""A signed webhook's form fields, checked once on arrival and read by name.

The checks are the same for every provider, keyed by the field names the carriers use; each
provider's ``event_from`` only says which field means what. A field the app will not take is a
MalformedWebhook (answered 400 by verification.verified_webhook), never a 500 or a bad row.
views call ``webhook_event(request, provider)`` for the event in neutral names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.http import HttpRequest, QueryDict

from ..providers import Provider, ProviderEvent


class MalformedWebhook(ValueError):
    """A signed webhook carries a field the app will not take (answered 400, never a 500).

    The message names the field, never its value, so it can be logged and sent back as is.
    """


# Carrier ids: Twilio's 34-character SIDs, Plivo's UUIDs; the database keeps 64 characters.
PROVIDER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# C0 controls but tab and line breaks (an SMS may hold those), and DEL. PostgreSQL refuses NUL.
CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
INTEGER = re.compile(r"-?[0-9]+")
KEYPAD = re.compile(r"[0-9*#]{1,32}")
FIELD_NAME = re.compile(r"[A-Za-z0-9_]{1,40}")
MAX_SECONDS = 2**31 - 1  # an integer column
MAX_NUMBER_LENGTH = 128  # E.164 needs 16; SIP and client addresses need more, not more than this
MAX_RECORDING_URL_LENGTH = 500  # Call.voicemail_url and Call.recording_url
recording_url_validator = URLValidator(schemes=["http", "https"])

ID_FIELDS = frozenset(
    {
        "AccountSid",
        "CallSid",
        "ParentCallSid",
        "DialCallSid",
        "MessageSid",
        "SmsSid",
        "SmsMessageSid",
        "CallUUID",
        "RequestUUID",
        "ALegUUID",
        "ALegRequestUUID",
        "MessageUUID",
    }
)
SECONDS_FIELDS = frozenset(
    {"CallDuration", "DialCallDuration", "Duration", "BillDuration", "RecordingDuration", "QueueTime"}
)
NUMBER_FIELDS = frozenset({"From", "To", "Caller", "Called"})
RECORDING_URL_FIELDS = frozenset({"RecordingUrl", "RecordUrl"})


def _label(name: str) -> str:
    # A field name comes from the request too: repeat it only when it is a plain word.
    return name if FIELD_NAME.fullmatch(name) else "A field"


def _check_id(name: str, value: str) -> None:
    if value and not PROVIDER_ID.fullmatch(value):
        raise MalformedWebhook(f"{name} is not an id of at most 64 letters, digits, '.', '_' or '-'.")


def _integer(value: str) -> int | None:
    """A plain decimal integer, or None. Past 10 digits it is read as just out of range, so
    Python's limit on converting long digit strings is never reached."""
    if not INTEGER.fullmatch(value):
        return None
    magnitude = value.lstrip("-").lstrip("0") or "0"
    number = int(magnitude) if len(magnitude) <= 10 else MAX_SECONDS + 1
    return -number if value.startswith("-") else number


def _check_seconds(name: str, value: str) -> None:
    # A value that is no number at all is read as unknown (None); a number must fit the column.
    number = _integer(value)
    if number is not None and not 0 <= number <= MAX_SECONDS:
        raise MalformedWebhook(f"{name} is not a number of seconds from 0 to {MAX_SECONDS}.")


def _check_number(name: str, value: str) -> None:
    if len(value) > MAX_NUMBER_LENGTH:
        raise MalformedWebhook(f"{name} is longer than {MAX_NUMBER_LENGTH} characters.")


def _check_recording_url(name: str, value: str) -> None:
    if not value:
        return
    if len(value) > MAX_RECORDING_URL_LENGTH:
        raise MalformedWebhook(f"{name} is longer than {MAX_RECORDING_URL_LENGTH} characters.")
    try:
        recording_url_validator(value)
    except ValidationError:
        raise MalformedWebhook(f"{name} is not an http(s) URL.") from None


FIELD_CHECKS = {
    **dict.fromkeys(ID_FIELDS, _check_id),
    **dict.fromkeys(SECONDS_FIELDS, _check_seconds),
    **dict.fromkeys(NUMBER_FIELDS, _check_number),
    **dict.fromkeys(RECORDING_URL_FIELDS, _check_recording_url),
}


class WebhookFields:
    """A webhook's form fields, every one checked on arrival (MalformedWebhook), read by name.

    The checks are the same for every provider, keyed by the field names the carriers use; each
    provider's ``event_from`` only says which field means what.
    """

    def __init__(self, data: QueryDict):
        for name, values in data.lists():
            if CONTROL_CHARACTER.search(name):
                raise MalformedWebhook("A field name holds a control character.")
            if any(CONTROL_CHARACTER.search(value) for value in values):
                raise MalformedWebhook(f"{_label(name)} holds a control character.")
            check = FIELD_CHECKS.get(name)
            if check is not None:
                for value in values:
                    check(name, value)
        self.data = data

    def text(self, name: str) -> str:
        return self.data.get(name, "")

    def seconds(self, *names: str) -> int | None:
        """The first of ``names`` that holds a number (all of them are checked already)."""
        for name in names:
            number = _integer(self.text(name))
            if number is not None:
                return number
        return None

    def digits(self, name: str) -> str:
        """Keys pressed; anything else ("hangup" after a recording, other scripts' digits) is none."""
        value = self.text(name)
        return value if KEYPAD.fullmatch(value) else ""

    def choice(self, name: str, meanings: Mapping[str, str], *, unknown: str = "") -> str:
        """A carrier's word (any case) in neutral terms; a word not in ``meanings`` is ``unknown``."""
        value = self.text(name)
        return meanings.get(value.lower(), unknown) if value else ""


def webhook_event(request: HttpRequest, provider: Provider) -> ProviderEvent:
    """The request's fields as ``provider``'s neutral event, checked (MalformedWebhook), read once.

    verified_webhook parses before the view runs; the event is kept on the request, so the view
    and its decorators asking again get the same event.
    """
    cached = getattr(request, "_provider_event", None)
    if cached is not None and cached[0] == provider.name:
        return cached[1]
    event = provider.event_from(WebhookFields(request.POST))
    request._provider_event = (provider.name, event)
    return event
