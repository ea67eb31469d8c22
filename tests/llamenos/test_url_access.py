"""Walk the whole URLconf: every view must say who may open it, and admin views must hold.

New pages are covered without touching this file: a view without an access mark fails here.
"""

from __future__ import annotations

import re
import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

SAMPLE_VALUES = {
    "int": "1",
    "str": "sample",
    "slug": "sample",
    "uuid": str(uuid.uuid4()),
    "path": "sample",
}
CONVERTER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def _fill(route: str) -> str:
    return CONVERTER.sub(lambda match: SAMPLE_VALUES.get(match["converter"] or "str", "1"), route)


def walk(patterns=None, prefix: str = ""):
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, prefix + route)
        elif isinstance(entry, URLPattern):
            yield "/" + _fill(prefix + route).lstrip("^").rstrip("$"), entry


ALL_URLS = list(walk())
ADMIN_URLS = [url for url, entry in ALL_URLS if getattr(entry.callback, "access", None) == "admin"]
LOGIN_URLS = [url for url, entry in ALL_URLS if getattr(entry.callback, "access", None) == "login"]


def test_every_view_declares_who_may_open_it():
    unmarked = [
        f"{url} -> {entry.lookup_str}"
        for url, entry in ALL_URLS
        if getattr(entry.callback, "access", None) not in ("admin", "login", "public")
    ]
    assert unmarked == [], "views without admin_required / volunteer_required / public(...)"


def test_the_walk_finds_the_known_admin_pages():
    assert {"/settings/", "/audit/"} <= set(ADMIN_URLS)


@pytest.mark.django_db
@pytest.mark.parametrize("url", ADMIN_URLS)
def test_admin_url_refuses_a_volunteer(volunteer_client, url):
    assert volunteer_client.get(url).status_code == 403
    assert volunteer_client.post(url, {}).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("url", ADMIN_URLS + LOGIN_URLS)
def test_protected_url_sends_anonymous_to_login(client, url):
    for response in (client.get(url), client.post(url, {})):
        assert response.status_code == 302
        assert response.url.startswith("/login/?next=")
