"""Which language to speak to a caller: the menu, then the number's country, then the default."""

from __future__ import annotations

import phonenumbers

from . import prompts

# Country calling code -> language, for callers who do not choose in the menu.
COUNTRY_CODE_LANGUAGES = {
    1: "en", 44: "en", 61: "en", 64: "en", 353: "en", 27: "en",
    34: "es", 52: "es", 54: "es", 56: "es", 57: "es", 58: "es", 51: "es", 53: "es", 591: "es",
    593: "es", 595: "es", 598: "es", 502: "es", 503: "es", 504: "es", 505: "es", 506: "es",
    507: "es", 240: "es",
}  # fmt: skip


def language_menu(entries: list[dict]) -> list[tuple[str, str]]:
    """[(language, digit)] in menu order, only languages that have prompts."""
    return [
        (entry["language"], entry["digit"]) for entry in entries if entry.get("language") in prompts.LANGUAGES
    ]


def language_from_number(e164: str) -> str:
    try:
        country = phonenumbers.parse(e164).country_code
    except phonenumbers.NumberParseException:
        return ""
    return COUNTRY_CODE_LANGUAGES.get(country, "")


def caller_language(*, digits: str, caller_e164: str, menu: list[tuple[str, str]], default: str) -> str:
    enabled = [language for language, _ in menu] or [default]
    chosen = {digit: language for language, digit in menu}.get(digits.strip()[:1]) if digits else None
    if chosen:
        return chosen
    guessed = language_from_number(caller_e164)
    if guessed in enabled:
        return guessed
    return default if default in enabled else enabled[0]
