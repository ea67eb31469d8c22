"""Audio the emulator serves for recordings: a short soft tone, made here."""

from __future__ import annotations

import io
import math
import wave
from functools import cache

RATE = 8000


@cache
def recording_wav(seconds: float = 1.0, frequency: float = 440.0) -> bytes:
    frames = b"".join(
        int(8000 * math.sin(2 * math.pi * frequency * index / RATE)).to_bytes(2, "little", signed=True)
        for index in range(int(RATE * seconds))
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(frames)
    return buffer.getvalue()
