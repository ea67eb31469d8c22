"""Provider-neutral call instructions.

``flow.py`` decides what a call does next as a list of these; each provider class renders the list
to its own XML (TwiML, Plivo XML). Nothing here knows a provider's names or quirks.
URLs are absolute (built from PUBLIC_BASE_URL) and carry ids, never secrets.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Say:
    """Text to speech in ``language`` (a BCP-47 tag such as "en-US" or "es-MX")."""

    text: str
    language: str = "en-US"
    loop: int = 1


@dataclass(frozen=True)
class Play:
    """Play an audio file (an admin-uploaded prompt, hold music). ``loop=0`` means forever."""

    url: str
    loop: int = 1


@dataclass(frozen=True)
class Pause:
    seconds: int = 1


@dataclass(frozen=True)
class Gather:
    """Collect DTMF digits while ``prompts`` play, then POST them (``Digits``) to ``action_url``.

    With no input the provider goes on to the next instruction after the Gather.
    """

    action_url: str
    num_digits: int = 1
    timeout_seconds: int = 8
    prompts: tuple[Say | Play | Pause, ...] = ()


@dataclass(frozen=True)
class Redirect:
    url: str


@dataclass(frozen=True)
class Hold:
    """Put the caller on hold in ``room`` until a volunteer is bridged in.

    ``wait_url`` returns what plays while waiting (hold music). Twilio: <Enqueue>, whose
    ``action_url`` is asked what comes next when the caller leaves the hold (bridge ended, hung
    up, or left); Plivo: <Conference> that waits for the volunteer, where the caller's end comes
    by the status callback and ``action_url`` is not used.
    """

    room: str
    wait_url: str
    action_url: str


@dataclass(frozen=True)
class Bridge:
    """Join the answering volunteer to the caller waiting in ``room``.

    Twilio: <Dial><Queue>room</Queue></Dial>; Plivo: <Conference> that starts on enter and ends
    when the volunteer leaves. With ``record`` the bridged conversation is recorded and the
    recording is reported to ``recording_url``. Twilio asks ``action_url`` what comes next when
    the bridge ends; on Plivo the conference ending ends the leg, and it is not used.
    ``connected_url`` is told when the carrier connects the two (Twilio: the <Queue> url, run on
    the caller just before the bridge; Plivo: the conference's callbackUrl, when the volunteer
    enters), so a winner who hangs up before that does not leave the caller on hold.
    """

    room: str
    action_url: str = ""
    connected_url: str = ""
    record: bool = False
    recording_url: str = ""


@dataclass(frozen=True)
class Record:
    """Record a message (voicemail) of at most ``max_length_seconds``; the recording's URL and
    duration are POSTed to ``action_url``. ``#`` ends the recording."""

    action_url: str
    max_length_seconds: int = 120
    play_beep: bool = True
    timeout_seconds: int = 5


@dataclass(frozen=True)
class Reject:
    """Refuse the call before it is answered (no speech, no charge where the provider allows)."""

    reason: str = "rejected"


@dataclass(frozen=True)
class Hangup:
    pass


Instruction = Say | Play | Pause | Gather | Redirect | Hold | Bridge | Record | Reject | Hangup


@dataclass(frozen=True)
class Script:
    """What a webhook answers: instructions in order."""

    instructions: tuple[Instruction, ...] = field(default_factory=tuple)

    @classmethod
    def of(cls, *instructions: Instruction) -> Script:
        return cls(tuple(instructions))
