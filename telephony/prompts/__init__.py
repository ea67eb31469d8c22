"""Everything callers and volunteers hear, one module per language.

``prompt(key, language)`` gives the neutral instruction to play: an admin-uploaded recording when
there is one for that prompt and language, otherwise text-to-speech of the module's wording.
"""

from __future__ import annotations

import functools
import importlib
from types import ModuleType

from django.conf import settings
from django.core.cache import cache

from ..instructions import Play, Say
from ..models import PromptRecording

LANGUAGES = ("en", "es")
DEFAULT_LANGUAGE = "en"
# Prompts that contain {placeholders} cannot be replaced by a fixed recording.
TEMPLATED_PROMPTS = frozenset({"language_option", "captcha", "volunteer_caller_language"})


@functools.cache
def _module(language: str) -> ModuleType:
    return importlib.import_module(f"{__name__}.{language if language in LANGUAGES else DEFAULT_LANGUAGE}")


PROMPT_KEYS = tuple(_module(DEFAULT_LANGUAGE).PROMPTS)
RECORDABLE_PROMPTS = tuple(key for key in PROMPT_KEYS if key not in TEMPLATED_PROMPTS)


def language_name(language: str) -> str:
    return _module(language).NAME


def language_name_in(language: str, spoken_in: str) -> str:
    """``language`` as a speaker of ``spoken_in`` calls it ("Spanish", "inglés")."""
    return _module(spoken_in).LANGUAGE_NAMES.get(language, language_name(language))


def voice_language(language: str) -> str:
    return _module(language).VOICE_LANGUAGE


def prompt_text(key: str, language: str, **values: str) -> str:
    return _module(language).PROMPTS[key].format(**values)


# In Django's cache (Redis in production, shared by every process): a few rows, read for every
# prompt spoken, and forgotten once a recording saved or removed is committed (call_flow.py).
RECORDINGS_CACHE_KEY = "telephony:prompt-recordings"


def recordings() -> dict[tuple[str, str], str]:
    """(prompt, language) -> public id of its uploaded recording."""
    return cache.get_or_set(RECORDINGS_CACHE_KEY, _recordings, timeout=None)


def _recordings() -> dict[tuple[str, str], str]:
    rows = PromptRecording.objects.values_list("prompt", "language", "public_id")
    return {(prompt, language): str(public_id) for prompt, language, public_id in rows}


def recordings_forget() -> None:
    cache.delete(RECORDINGS_CACHE_KEY)


def recording_url(key: str, language: str) -> str:
    """The uploaded recording for this prompt and language, or ""."""
    public_id = recordings().get((key, language))
    return f"{settings.PUBLIC_BASE_URL}/telephony/prompts/{public_id}" if public_id else ""


def prompt(key: str, language: str, **values: str) -> Say | Play:
    if key not in TEMPLATED_PROMPTS:
        url = recording_url(key, language)
        if url:
            return Play(url)
    return Say(prompt_text(key, language, **values), language=voice_language(language))
