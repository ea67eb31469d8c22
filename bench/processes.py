"""The server and worker the bench starts: daphne (as production serves the app) and a Celery
worker, both on loopback, both stopped on exit, Ctrl-C or error."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Process:
    """One child process with its output in a log file (read back when it fails to start)."""

    def __init__(self, name: str, argv: list[str], *, env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("wb")
        # Its own session: a Ctrl-C in the terminal reaches the bench only, which stops the
        # children in order instead of leaving half-stopped ones.
        self.proc = subprocess.Popen(
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        self._log.flush()
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def fail(self, why: str) -> RuntimeError:
        return RuntimeError(f"{self.name}: {why}\n--- last lines of {self.log_path} ---\n{self.log_tail()}")

    def stop(self, timeout: float = 10.0) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._log.close()


def child_env(extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    env["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start_server(*, port: int, env: dict[str, str], log_dir: Path, timeout: float = 30.0) -> Process:
    """``daphne`` exactly as README.md's deployment table runs it, bound to loopback."""
    argv = [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "llamenos.asgi:application"]
    server = Process("daphne", argv, env=env, log_dir=log_dir)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not server.alive():
            raise server.fail("exited during start-up")
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.1)
    server.stop()
    raise server.fail(f"not answering /healthz within {timeout:.0f}s")


def start_worker(*, env: dict[str, str], log_dir: Path, concurrency: int, timeout: float = 30.0) -> Process:
    """``celery -A llamenos worker`` on the bench's Redis, threads pool; ready once it answers a ping."""
    from llamenos.celery import app

    node = f"bench-{os.getpid()}@127.0.0.1"
    argv = [
        str(BIN / "celery"),
        "-A",
        "llamenos",
        "worker",
        "--pool",
        "threads",
        "--concurrency",
        str(concurrency),
        "--loglevel",
        "WARNING",
        "--without-gossip",
        "--without-mingle",
        "-n",
        node,
    ]
    worker = Process("celery", argv, env=env, log_dir=log_dir)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not worker.alive():
            raise worker.fail("exited during start-up")
        if app.control.ping(destination=[node], timeout=0.5):
            return worker
    worker.stop()
    raise worker.fail(f"not answering a ping within {timeout:.0f}s")
