"""Parsing the TwiML / Plivo XML the app returns into verbs the call engine walks."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field


class BadDocument(Exception):
    pass


@dataclass
class Verb:
    name: str
    attrs: dict[str, str]
    text: str = ""
    children: list[Verb] = field(default_factory=list)

    def attr(self, name: str, default: str = "") -> str:
        return self.attrs.get(name, default)

    def int_attr(self, name: str, default: int) -> int:
        try:
            return int(float(self.attrs.get(name, default)))
        except (TypeError, ValueError):
            return default

    def bool_attr(self, name: str, default: bool) -> bool:
        value = self.attrs.get(name)
        return default if value is None else value.strip().lower() == "true"


def _verb(el: ET.Element) -> Verb:
    tag = el.tag.split("}")[-1]
    return Verb(
        name=tag, attrs=dict(el.attrib), text=(el.text or "").strip(), children=[_verb(c) for c in el]
    )


def parse_document(text: str) -> list[Verb]:
    """The verbs inside <Response>; an empty body is an empty document."""
    if not text.strip():
        return []
    try:
        root = ET.fromstring(text.encode("utf-8"))  # noqa: S314
    except ET.ParseError as exc:
        raise BadDocument(f"not XML: {exc}") from exc
    if root.tag.split("}")[-1] != "Response":
        raise BadDocument(f"root element is <{root.tag}>, not <Response>")
    return [_verb(c) for c in root]
