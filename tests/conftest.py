from __future__ import annotations

import datetime as dt
import os

import pytest

# Playwright's sync API runs an event loop in the test thread; the ORM calls made from the same
# test (fixtures, assertions) are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TEST_PASSWORD = "correct horse battery staple 42"


@pytest.fixture(autouse=True)
def _clean_cache():
    """Rate limits, lockouts and cached rows live in Redis; every test starts from empty."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def make_user(db):
    from llamenos.models import Role, User

    def make(username: str = "vera", *, role: str = Role.VOLUNTEER, **fields) -> User:
        fields.setdefault("first_name", username.title())
        user = User(username=username, role=role, **fields)
        user.set_password(TEST_PASSWORD)
        user.save()
        return user

    return make


@pytest.fixture
def make_volunteer(make_user):
    from volunteers.models import Volunteer

    def make(username: str, *, phone: str = "", is_active: bool = True, **fields) -> Volunteer:
        user = make_user(username, is_active=is_active)
        return Volunteer.objects.create(user=user, phone=phone, **fields)

    return make


@pytest.fixture
def make_shift(db):
    from volunteers.models import Shift

    def make(
        name: str = "Shift",
        *,
        days: list[int] | None = None,
        start: str = "09:00",
        end: str = "17:00",
        volunteers=(),
    ) -> Shift:
        shift = Shift.objects.create(
            name=name,
            days=list(range(7)) if days is None else days,
            start_time=dt.time.fromisoformat(start),
            end_time=dt.time.fromisoformat(end),
        )
        shift.volunteers.set(volunteers)
        return shift

    return make


@pytest.fixture
def hotline_zone(db):
    """Set the hotline's time zone: ``hotline_zone("Europe/Madrid")``."""

    def set_zone(name: str) -> None:
        from llamenos.models import HotlineSettings

        HotlineSettings.objects.update_or_create(pk=1, defaults={"time_zone": name})

    return set_zone


@pytest.fixture
def admin_user(make_user):
    from llamenos.models import Role

    return make_user("ada", role=Role.ADMIN)


@pytest.fixture
def volunteer_user(make_user):
    return make_user("vera")


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def volunteer_client(client, volunteer_user):
    client.force_login(volunteer_user)
    return client


@pytest.fixture(scope="module")
def browser():
    """One chromium per test module. Not per session: Playwright's sync API keeps an event loop
    running in the main thread while it is open, which would break the async tests after it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()
