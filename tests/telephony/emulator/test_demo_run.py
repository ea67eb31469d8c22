"""The demo as `make run` serves it: the development settings on a SQLite file of its own, the
in-process channel layer, eager Celery tasks and the carrier emulator inside the app, in a server
started by the Makefile on a free port. A call is driven over HTTP through the emulator console's
endpoints (what the console page posts), for both demo providers, with the CAPTCHA on; then once on
the console page itself, in a browser."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from telephony.prompts import LANGUAGES, prompt_text

ROOT = Path(__file__).resolve().parents[3]
START_TIMEOUT = 60  # migrations on a new SQLite file, the demo data, the server's start
STEP_TIMEOUT = 15
LOG_TAIL_LINES = 150
# A person's shell passes these to `make run`; nothing else of the test run (its settings module,
# DATABASE_URL, REDIS_URL, make's own flags) may leak into the demo.
PASSED_THROUGH = ("PATH", "HOME", "USER", "LANG", "LC_ALL", "TMPDIR")
CALLERS = {"twilio": "+15551230001", "plivo": "+15551230002"}
LINE_LABELS = {"twilio": "Twilio", "plivo": "Plivo"}
# What the caller and the volunteers hear, from the app's own wording (the demo keeps the default
# hotline name; a volunteer hears the offer in their own language).
HOTLINE = "Llámenos"
MENU_ENGLISH = prompt_text("language_option", "en", digit="1")
_CAPTCHA_BEFORE, _CAPTCHA_AFTER = prompt_text("captcha", "en", digits="|").split("|")
CAPTCHA = re.compile(re.escape(_CAPTCHA_BEFORE) + r"([\d, ]+)" + re.escape(_CAPTCHA_AFTER))
OFFERS = [prompt_text("volunteer_offer", language, hotline=HOTLINE) for language in LANGUAGES]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- what the pages show ---------------------------------------------------------------------


@dataclass
class ConsoleCall:
    sid: str
    heading: str = ""
    state: str = ""
    transcript: list[str] = field(default_factory=list)
    listening: bool = False  # the keypad and the keys field are shown

    @property
    def heard(self) -> str:
        return " | ".join(self.transcript)


class ConsoleState(HTMLParser):
    """The console's state fragment (templates/telephony/emulator/_state.html) read as a person
    reads it: each call's heading, state badge, transcript and keypad, and the ringing phones."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.calls: dict[str, ConsoleCall] = {}
        self.ringing: dict[str, str] = {}  # leg sid -> "<number> is ringing (<Provider> leg)"
        self.notice = ""
        self._call: ConsoleCall | None = None
        self._ringing_text: list[str] | None = None
        self._in: set[str] = set()
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        classes = (attr.get("class") or "").split()
        if tag == "p" and "message" in classes:
            self._in.add("notice")
        elif tag == "section" and "emu-call" in classes:
            self._call = self.calls.setdefault(attr["data-sid"], ConsoleCall(attr["data-sid"]))
        elif tag == "div" and "emu-ringing" in classes:
            self._ringing_text = []
        elif tag == "button" and self._ringing_text is not None and '"sid"' in (attr.get("hx-vals") or ""):
            sid = re.search(r'"sid": "([^"]+)"', attr["hx-vals"]).group(1)
            self.ringing.setdefault(sid, " ".join("".join(self._ringing_text).split()))  # before any button
        elif self._call is not None:
            if tag == "form" and "emu-keys" in classes:
                self._call.listening = True
            elif tag in ("h2", "li") or (tag == "span" and "badge" in classes):
                self._in.add("badge" if tag == "span" else tag)
                if tag == "li":
                    self._call.transcript.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self._in.discard("notice")
        elif tag == "section":
            self._call = None
        elif tag == "div":
            self._ringing_text = None
        self._in.discard("badge" if tag == "span" else tag)

    def handle_data(self, data: str) -> None:
        if "notice" in self._in:
            self.notice += data.strip()
        if self._ringing_text is not None:
            self._ringing_text.append(data)
        if self._call is None:
            return
        if "badge" in self._in:
            self._call.state += data.strip()
        elif "h2" in self._in:
            self._call.heading = " ".join(f"{self._call.heading} {data}".split())
        elif "li" in self._in:
            self._call.transcript[-1] = " ".join(f"{self._call.transcript[-1]} {data}".split())


class PostForm(HTMLParser):
    """The fields a browser submits from a page's own post form (the one without an action; the
    log-out form in the header has one)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._inside = False
        self._select: str | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {name: value or "" for name, value in attrs}
        kind = attr.get("type", "text")
        if tag == "form":
            self._inside = attr.get("method", "").lower() == "post" and not attr.get("action")
        elif not self._inside:
            return
        elif tag == "input" and attr.get("name") and kind not in ("submit", "button"):
            if kind not in ("checkbox", "radio") or "checked" in attr:
                self.fields[attr["name"]] = attr.get("value", "on" if kind == "checkbox" else "")
        elif tag == "select":
            self._select = attr["name"]
        # An option: the first one, unless one is marked selected.
        elif tag == "option" and self._select and (self._select not in self.fields or "selected" in attr):
            self.fields[self._select] = attr.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False
        elif tag == "select":
            self._select = None


# --- the demo server -------------------------------------------------------------------------


class Demo:
    def __init__(self, workdir: Path) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "make-run.log"
        env = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
        env["DATABASE_URL"] = f"sqlite:///{workdir / 'demo.sqlite3'}"
        env["MEDIA_ROOT"] = str(workdir / "media")
        make = shutil.which("make")
        assert make, "`make` is not installed; the demo is started the way a person starts it"
        # -o: the suite's own run installed the venv and node_modules; a test never reinstalls them.
        # PUBLIC_BASE_URL is left to the Makefile, which makes it follow PORT.
        command = [make, "--no-print-directory", "-o", ".venv/.installed", "-o", "node_modules/.installed"]
        command += ["run", f"PY={sys.executable}", "HOST=127.0.0.1", f"PORT={self.port}"]
        command += ["RUNSERVER_ARGS=--noreload"]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.http = requests.Session()

    def log(self, since: int = 0) -> str:
        """The server's output (from byte ``since``), without the access lines of the console's polling."""
        with self.log_path.open("rb") as log:
            log.seek(since)
            text = log.read().decode(errors="replace")
        lines = [line for line in text.splitlines() if "GET /dev/emulator/state/ 200" not in line]
        return "\n".join(lines[-LOG_TAIL_LINES:])

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    @contextmanager
    def log_on_failure(self) -> Iterator[None]:
        try:
            yield
        except Exception as exc:
            raise AssertionError(f"{exc}\n\n--- make run's log (last lines) ---\n{self.log()}") from exc

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def wait_until_serving(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"make run exited with status {self.process.returncode}")
            try:
                if requests.get(self.base + "/login/", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"make run did not serve {self.base}/login/ within {START_TIMEOUT}s")

    def _until(self, probe: Callable[[], object], what: str, timeout: float = STEP_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = probe()
            if result:
                return result
            time.sleep(0.1)
        raise AssertionError(f"no {what} within {timeout}s")

    # pages, as the admin ----------------------------------------------------------------------

    def get(self, path: str) -> str:
        response = self.http.get(self.base + path, timeout=10, allow_redirects=False)
        assert response.status_code == 200, f"GET {path} answered {response.status_code}"
        return response.text

    def wait_page(self, path: str, text: str, what: str) -> str:
        def probe() -> str | None:
            page = self.get(path)
            return page if text in page else None

        return self._until(probe, what)

    def submit(self, path: str, **changes: str) -> requests.Response:
        fields = PostForm(self.get(path)).fields | changes
        return self.http.post(self.base + path, data=fields, timeout=10, allow_redirects=False)

    def log_in_as_admin(self) -> None:
        found = re.search(r"^\s*admin\s+admin\s+(\S+)\s*$", self.log_path.read_text(), re.MULTILINE)
        assert found, "demo_data printed no admin account"
        response = self.submit("/login/", username="admin", password=found.group(1))
        assert response.status_code == 302, f"the demo admin's log-in answered {response.status_code}"

    def enable_captcha(self) -> None:
        response = self.submit("/settings/telephony/call-flow/", captcha_enabled="on")
        assert response.status_code == 302, f"saving the call flow settings answered {response.status_code}"
        assert PostForm(self.get("/settings/telephony/call-flow/")).fields.get("captcha_enabled") == "on"

    # the emulator console ---------------------------------------------------------------------

    def console_post(self, path: str, *, expect_notice: str = "", **fields: str) -> None:
        """What the console's buttons and forms send (htmx, with the page's CSRF token)."""
        headers = {"X-CSRFToken": self.http.cookies.get("csrftoken", ""), "HX-Request": "true"}
        response = self.http.post(
            f"{self.base}/dev/emulator/{path}", data=fields, headers=headers, timeout=10
        )
        assert response.status_code == 200, f"POST /dev/emulator/{path} answered {response.status_code}"
        notice = ConsoleState(response.text).notice
        assert notice.startswith(expect_notice) if expect_notice else not notice, f"{fields}: {notice!r}"

    def console(self) -> ConsoleState:
        return ConsoleState(self.get("/dev/emulator/state/"))

    def dial(self, provider: str, caller: str) -> str:
        options = re.findall(r'<option value="((twilio|plivo):[^"]+)">', self.get("/dev/emulator/"))
        accounts = {name: value for value, name in options}
        assert provider in accounts, f"the console offers no {provider} account: {options}"
        self.console_post("dial/", expect_notice="Calling", account=accounts[provider], from_number=caller)
        calls = self._until(
            lambda: [c for c in self.console().calls.values() if c.heading.startswith(f"Caller {caller} ")],
            f"call from {caller} on the console",
        )
        return calls[0].sid

    def wait_call(self, sid: str, check: Callable[[ConsoleCall], bool], what: str) -> ConsoleCall:
        def probe() -> ConsoleCall | None:
            call = self.console().calls.get(sid)
            if call is not None and call.state in ("failed", "completed") and not check(call):
                raise AssertionError(f"the call ended ({call.state}) before {what}; it heard: {call.heard}")
            return call if call is not None and check(call) else None

        try:
            return self._until(probe, what)
        except AssertionError as exc:
            call = self.console().calls.get(sid)
            raise AssertionError(f"{exc}; the console shows {call}") from None

    def press(self, sid: str, keys: str) -> None:
        self.console_post(f"calls/{sid}/", action="press", digits=keys)

    def answer_ringing_phone(self, provider: str) -> str:
        label = f"({LINE_LABELS[provider]} leg)"
        ringing = self._until(
            lambda: [sid for sid, text in self.console().ringing.items() if text.endswith(label)],
            f"volunteer phone ringing on {provider}",
        )
        self.console_post("phones/", sid=ringing[0], action="answer")
        return ringing[0]


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Iterator[Demo]:
    demo = Demo(tmp_path_factory.mktemp("demo-run"))
    try:
        with demo.log_on_failure():
            demo.wait_until_serving()
            demo.log_in_as_admin()
            demo.enable_captcha()
        yield demo
    finally:
        demo.stop()


# --- the call --------------------------------------------------------------------------------


def _history_detail_path(demo: Demo, provider: str, caller: str) -> str:
    rows = re.findall(r"<tr>(.*?)</tr>", demo.get("/calls/"), re.DOTALL)
    mine = [row for row in rows if f"…{caller[-4:]}" in row and LINE_LABELS[provider] in row]
    assert len(mine) == 1, f"the call history should list the {provider} call once: {rows}"
    return re.search(r'href="(/calls/\d+/)"', mine[0]).group(1)


def _timeline_states(detail: str) -> list[str]:
    timeline = detail.split("<h2>Timeline</h2>", 1)[1]
    return re.findall(r"→ (\w+)</td>", timeline)


def _legs(detail: str) -> dict[str, tuple[str, str]]:
    """Volunteer -> (outcome, answered at) from the call page's "Volunteers rung" table."""
    table = detail.split("<h2>Volunteers rung</h2>", 1)[1].split("<h2>Timeline</h2>", 1)[0]
    rows = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td>\s*<td>[^<]*</td><td>([^<]*)</td>", table)
    return {volunteer: (outcome, answered) for volunteer, outcome, answered in rows}


@pytest.mark.parametrize("provider", ["twilio", "plivo"])
def test_demo_call_through_the_console_reaches_a_volunteer_and_shows_in_the_history(demo, provider):
    caller = CALLERS[provider]
    log_start = demo.log_size()
    with demo.log_on_failure():
        sid = demo.dial(provider, caller)
        demo.wait_call(sid, lambda c: c.listening and MENU_ENGLISH in c.heard, "language menu")
        demo.press(sid, "1")  # one key, as the keypad's buttons send it

        menu = demo.wait_call(sid, lambda c: c.listening and bool(CAPTCHA.search(c.heard)), "CAPTCHA")
        digits = CAPTCHA.search(menu.heard).group(1).replace(", ", "")
        assert len(digits) == 4, menu.heard
        demo.console_post(f"calls/{sid}/", expect_notice="Type phone keys only", action="press", digits="4x")
        demo.press(sid, digits)  # every digit in one answer, as the keys field sends them
        demo.wait_call(sid, lambda c: c.state == "queued", "hold")

        leg = demo.answer_ringing_phone(provider)
        demo.wait_call(leg, lambda c: c.listening and any(offer in c.heard for offer in OFFERS), "offer")
        demo.press(leg, "1")
        demo.wait_call(sid, lambda c: c.state == "bridged", "bridge on the caller's side")
        demo.wait_call(leg, lambda c: c.state == "bridged", "bridge on the volunteer's side")

        demo.console_post(f"calls/{sid}/", action="hangup")
        demo.wait_call(sid, lambda c: c.state == "completed", "caller's hang-up")
        demo.wait_call(leg, lambda c: c.state == "completed", "end of the volunteer's leg")

        path = _history_detail_path(demo, provider, caller)
        detail = demo.wait_page(path, '<span class="badge">Completed</span>', "completed call in the history")
        assert "<dt>Language</dt><dd>en</dd>" in detail
        answered_by = re.search(r"<dt>Answered by</dt><dd>([^<]+?) at \d", detail)
        assert answered_by, "the call page names no volunteer who answered"
        legs = _legs(detail)
        assert legs.get(answered_by.group(1), ("", "—"))[1] != "—", legs  # the leg that pressed 1
        states = iter(_timeline_states(detail))  # in this order, whatever comes between
        assert all(state in states for state in ("queued", "answered", "completed")), _timeline_states(detail)
        # The demo runs tasks eagerly and swallows their failures; none may have happened.
        assert "Traceback" not in demo.log(since=log_start), "the server logged an error during the call"


def test_demo_console_page_takes_the_captcha_as_one_answer_and_bridges(demo, page):
    """The same call in a browser, on the console page as a person uses it."""
    caller_number = "+15551230003"
    # The console is for admins: the browser carries the demo admin's session.
    page.context.add_cookies(
        [{"name": n, "value": v, "url": demo.base} for n, v in demo.http.cookies.items()]
    )
    with demo.log_on_failure():
        page.goto(demo.base + "/dev/emulator/")
        account = page.locator("select[name=account] option", has_text="Twilio").get_attribute("value")
        page.select_option("select[name=account]", account)
        page.fill("input[name=from_number]", caller_number)
        page.click("button:text-is('Call')")
        caller = page.locator(".emu-call", has_text=f"Caller {caller_number}")
        caller.get_by_text(MENU_ENGLISH).wait_for()
        caller.locator("button:text-is('1')").click()

        prompt = caller.locator("li", has_text=CAPTCHA)
        digits = CAPTCHA.search(prompt.inner_text()).group(1).replace(", ", "")
        keys = caller.locator(".emu-keys input")
        keys.press_sequentially(digits[:2])
        page.wait_for_timeout(2500)  # the console redraws every second; what was typed must stay
        keys.press_sequentially(digits[2:])
        expect(keys).to_have_value(digits)
        caller.locator(".emu-keys button:text-is('Send')").click()
        expect(caller.locator(".badge")).to_have_text("queued")

        answer = page.locator(".emu-ringing", has_text="(Twilio leg)").first.locator(
            "button:text-is('Answer')"
        )
        leg_sid = re.search(r'"sid": "([^"]+)"', answer.get_attribute("hx-vals")).group(1)
        answer.click()
        leg = page.locator(f".emu-call[data-sid='{leg_sid}']")
        leg.locator(".emu-keys").wait_for()
        assert any(offer in leg.locator(".emu-transcript").inner_text() for offer in OFFERS)
        leg.locator("button:text-is('1')").click()
        expect(caller.locator(".badge")).to_have_text("bridged")
        expect(leg.locator(".badge")).to_have_text("bridged")

        caller.locator("button:text-is('Hang up')").click()
        expect(caller.locator(".badge")).to_have_text("completed")
        expect(leg.locator(".badge")).to_have_text("completed")
