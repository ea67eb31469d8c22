"""Hold music the project makes itself: a slow, quiet arpeggio, rendered once per process.

Nothing is downloaded; the WAV is 8 kHz mono 16-bit (what phone networks carry anyway).
"""

from __future__ import annotations

import io
import math
import wave
from functools import cache

SAMPLE_RATE = 8000
NOTE_SECONDS = 0.6
# Two bars each of C major, A minor, F major and G major, as gentle broken chords (Hz).
CHORDS = [
    (261.63, 329.63, 392.00, 523.25),
    (220.00, 261.63, 329.63, 440.00),
    (174.61, 220.00, 261.63, 349.23),
    (196.00, 246.94, 293.66, 392.00),
]


def _note(frequency: float) -> list[float]:
    count = int(SAMPLE_RATE * NOTE_SECONDS)
    samples = []
    for index in range(count):
        t = index / SAMPLE_RATE
        envelope = min(1.0, t / 0.03) * math.exp(-3.0 * t)  # soft attack, bell-like decay
        tone = math.sin(2 * math.pi * frequency * t) + 0.3 * math.sin(4 * math.pi * frequency * t)
        samples.append(envelope * tone)
    return samples


@cache
def hold_music_wav() -> bytes:
    frames = bytearray()
    for _ in range(2):
        for chord in CHORDS:
            for frequency in (*chord, *reversed(chord[1:-1])):
                for sample in _note(frequency):
                    frames += int(max(-1.0, min(1.0, sample * 0.35)) * 32767).to_bytes(
                        2, "little", signed=True
                    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(bytes(frames))
    return buffer.getvalue()
