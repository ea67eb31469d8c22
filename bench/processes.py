"""The server and worker the bench starts: gunicorn with deploy/gunicorn.conf.py (as the
deployment serves HTTP; daphne, Django's own ASGI handler in one process, for comparison) and a
Celery worker, both on loopback, both stopped on exit, Ctrl-C or error."""

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


SERVERS = ("gunicorn", "daphne")
GUNICORN_CONFIG = Path(__file__).resolve().parent.parent / "deploy" / "gunicorn.conf.py"


def server_argv(server: str, *, port: int, workers: int) -> list[str]:
    if server == "daphne":  # one process; it has no workers option
        return [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "llamenos.asgi:application"]
    return [
        str(BIN / "gunicorn"),
        "--config",
        str(GUNICORN_CONFIG),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--access-logfile",
        "/dev/null",
        "llamenos.wsgi",
    ]


def start_server(
    *, server: str, port: int, workers: int, env: dict[str, str], log_dir: Path, timeout: float = 30.0
) -> Process:
    """The web server as README.md's deployment table runs it, bound to loopback."""
    process = Process(server, server_argv(server, port=port, workers=workers), env=env, log_dir=log_dir)
    deadline = time.monotonic() + timeout
    answered: set[str] = set()
    while time.monotonic() < deadline:
        if not process.alive():
            raise process.fail("exited during start-up")
        try:
            response = requests.get(f"http://127.0.0.1:{port}/bench/pid", timeout=1)
            if response.status_code == 200:
                answered.add(response.text)
                # Every worker must be up, or the first calls would time the others' start-up.
                if server == "daphne" or len(answered) >= workers:
                    return process
                continue
        except requests.RequestException:
            pass
        time.sleep(0.05)
    process.stop()
    raise process.fail(f"not all {workers} workers answering within {timeout:.0f}s")


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


def _descendants(roots: list[int]) -> set[int]:
    """``roots`` and every process below them (gunicorn's workers are its children)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                # The command may hold spaces and parentheses: the fields start after the last ')'.
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found = {pid for pid in roots if pid in parents}
    grew = True
    while grew:
        below = {pid for pid, parent in parents.items() if parent in found} - found
        grew = bool(below)
        found |= below
    return found


def thread_schedstats(roots: list[int]) -> dict[int, tuple[int, int]] | None:
    """Per thread of ``roots``' process trees: (ns run on a core, ns runnable but waiting for one),
    from /proc/<pid>/task/<tid>/schedstat; None where the kernel does not keep them."""
    if not Path("/proc/self/schedstat").exists():
        return None
    stats: dict[int, tuple[int, int]] = {}
    for pid in _descendants(roots):
        try:
            tasks = list(Path(f"/proc/{pid}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                ran, waited, _slices = (task / "schedstat").read_text().split()
            except (OSError, ValueError):
                continue
            stats[int(task.name)] = (int(ran), int(waited))
    return stats


def run_queue_note(before, after, seconds: float) -> str:
    """How much the app's threads ran, and waited for a core while ready to run, over a phase."""
    if before is None or after is None or seconds <= 0:
        return "run queue: not known on this system"
    both = before.keys() & after.keys()  # threads that lived through the phase
    ran = sum(after[tid][0] - before[tid][0] for tid in both) / 1e9 / seconds
    waited = sum(after[tid][1] - before[tid][1] for tid in both) / 1e9 / seconds
    return (
        f"the app's threads ran {100 * ran:.0f}% of one core's time and waited, ready to run, "
        f"{100 * waited:.0f}% for a free one"
    )
