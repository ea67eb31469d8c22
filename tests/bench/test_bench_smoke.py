"""The load harness (bench/) runs end to end in --quick mode, so it cannot rot unnoticed.

It runs as `make bench` does, in its own process with its own server, worker and database
(named after DATABASE_URL's, plus "_bench_smoke"). Nothing here asserts on timings.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def _smoke_database_url() -> str:
    parts = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/llamenos"))
    name = parts.path.lstrip("/") or "llamenos"
    return urlunsplit(parts._replace(path=f"/{name}_bench_smoke"))


@pytest.mark.timeout(150)
def test_quick_run_measures_every_row(tmp_path):
    results_path = tmp_path / "bench.json"
    env = {
        **os.environ,
        "BENCH_DATABASE_URL": _smoke_database_url(),
        "BENCH_REDIS_URL": settings.REDIS_URL,
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--json", str(results_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=140,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]

    results = json.loads(results_path.read_text())["results"]
    answers = {(r["name"], r["provider"], r["load"]) for r in results if r["load"]}
    fanouts = {(r["name"], r["provider"], r["volunteers"]) for r in results if not r["load"]}
    for provider in ("twilio", "plivo"):
        for load in ("1 call at a time", "5 calls live", "5 back to back"):
            assert ("incoming answer", provider, load) in answers
        for volunteers in (1, 10, 50):
            assert ("first leg requested", provider, volunteers) in fanouts
            assert ("all legs requested", provider, volunteers) in fanouts
    assert ("fixed TwiML baseline", "twilio", "5 back to back") in answers
    live = next(r for r in results if r["load"] == "5 calls live")
    assert live["live_calls_median"] >= 1  # callers really stayed on the line together
    for result in results:
        assert result["errors"] == 0, result
        assert result["count"] >= 1, result
    # The fan-out target is printed next to its row, met or not (the answer-time one needs 20 calls).
    assert "max < 500 ms" in run.stdout
    assert "machine speed: a fixed Python loop took" in run.stdout
    assert re.search(r"cpu stolen by the host: \d+\.\d% of the cores' time", run.stdout), run.stdout[-2000:]
    # Each held row says how long the app's threads ran, and waited for a core while ready to run.
    held = re.search(
        r"calls live \(twilio\).*the app's threads ran (\d+)% of one core's time and waited, ready to run, "
        r"\d+% for a free one",
        run.stdout,
    )
    assert held and int(held.group(1)) > 0, run.stdout[-2000:]  # the server and worker did run
    assert "peak" in run.stdout and "connections" in run.stdout


def test_harness_refuses_a_database_without_bench_in_its_name(tmp_path):
    env = {**os.environ, "BENCH_DATABASE_URL": "postgres://postgres@127.0.0.1:5432/llamenos_real"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode != 0
    assert "refusing to use database 'llamenos_real'" in run.stderr
