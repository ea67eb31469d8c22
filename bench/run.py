"""``python -m bench``: start the app under daphne, a Celery worker and the carrier emulator on
loopback, drive calls, print the table, stop everything.

Rows:
- incoming answer: the carrier's signed POST /telephony/incoming going out to its XML read back,
  with 1 and with 20 callers dialling back to back (3 volunteers on shift, so every call is
  queued and rung; each caller hangs up once on hold, so ringing and cancelling run alongside).
- fixed TwiML baseline: the same carrier request to a bare view (bench/views.py) on the same
  server: what daphne + Django + middleware cost with no work at all.
- first / all legs requested: one call at a time with 1, 10 and 50 volunteers on shift; from
  the incoming webhook going out to the carrier holding the REST create of the first / last leg.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import signal
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from .hotline import (
    ACCOUNTS,
    BASELINE,
    ConnectionPeak,
    database_prepare,
    hotline_populate,
    on_shift_set,
    redis_empty,
)
from .processes import child_env, free_port, start_server, start_worker
from .report import Target, row, summary, table
from .scenarios import Callers, answer_times, fanout_times, quiet

ANSWER_TARGET = Target("p99", 50)  # at 20 concurrent calls
FANOUT_TARGET = Target("max", 500)  # 50 legs all requested
ANSWER_VOLUNTEERS = 3
FANOUT_SIZES = (1, 10, 50)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200, help="calls per answer-time run (default 200)")
    parser.add_argument("--concurrency", type=int, default=20, help="callers at once (default 20)")
    parser.add_argument("--reps", type=int, default=5, help="calls per fan-out size (default 5)")
    parser.add_argument("--providers", default="twilio,plivo", help="comma-separated (default both)")
    parser.add_argument("--quick", action="store_true", help="small counts: a smoke run of every row")
    parser.add_argument("--workers", type=int, default=8, help="Celery worker threads (default 8)")
    parser.add_argument(
        "--conn-max-age",
        type=int,
        default=0,
        help="CONN_MAX_AGE for the server and worker (default 0; prod.py's default is 60)",
    )
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument(
        "--only", default="answer,baseline,fanout", help="rows to run: answer, baseline, fanout (default all)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.calls, args.reps, args.concurrency = 6, 1, min(args.concurrency, 5)
    args.providers = [name.strip() for name in args.providers.split(",") if name.strip()]
    args.only = {name.strip() for name in args.only.split(",") if name.strip()}
    unknown = (set(args.providers) - set(ACCOUNTS)) | (args.only - {"answer", "baseline", "fanout"})
    if unknown or args.calls < 1 or args.reps < 1 or args.concurrency < 1:
        parser.error(f"unknown providers or rows: {sorted(unknown)}" if unknown else "counts must be >= 1")
    # Phase deadlines keep the whole run near three minutes whatever the machine does.
    # The first provider gets the larger share; each row's n says how many calls fit.
    args.answer_limits = (10.0, 10.0, 10.0) if args.quick else (25.0, 12.0, 10.0)  # first, others, baseline
    args.fanout_limit = 10.0 if args.quick else 15.0
    return args


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def context_lines(args) -> list[str]:
    import django

    cpu = (
        next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor() or "?",
        )
        if Path("/proc/cpuinfo").exists()
        else platform.processor()
    )
    return [
        f"machine: {os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}",
        f"python {platform.python_version()}, Django {django.get_version()}; one daphne process; "
        f"Celery worker: threads pool x{args.workers}; CONN_MAX_AGE={args.conn_max_age}; "
        "PostgreSQL + Redis on loopback; carrier emulator in the bench process",
    ]


def run_phases(args, carrier, volunteers, notes: list[str]) -> tuple[list[list[str]], list[dict], int]:
    rows: list[list[str]] = []
    results: list[dict] = []
    errors = 0
    callers = Callers()

    def add(result, target=None, *, throughput=True):
        nonlocal errors
        data = summary(result)
        rows.append(row(data, target, throughput=throughput))
        results.append(data)
        errors += data["errors"]
        for example in data["error_examples"]:
            print(f"  error ({result.name}, {result.provider}): {example}", file=sys.stderr)

    def settle():
        quiet(carrier)
        carrier.reset()

    on_shift_set(volunteers, ANSWER_VOLUNTEERS)
    first, others, baseline = args.answer_limits
    runs = [
        (ACCOUNTS[name], "incoming answer", first if index == 0 else others)
        for index, name in enumerate(args.providers)
        if "answer" in args.only
    ]
    if "baseline" in args.only:
        runs.append((BASELINE, "fixed TwiML baseline", baseline))
    for account, label, time_limit in runs:
        for concurrency in sorted({1, args.concurrency}):
            settle()
            result = answer_times(
                carrier,
                account,
                name=label,
                calls=args.calls,
                concurrency=concurrency,
                time_limit=time_limit,
                callers=callers,
            )
            target = ANSWER_TARGET if label == "incoming answer" and concurrency == 20 else None
            add(result, target)
    for name in args.providers if "fanout" in args.only else ():
        for size in FANOUT_SIZES:
            on_shift_set(volunteers, size)
            settle()
            with ConnectionPeak() as connections:
                first, last = fanout_times(
                    carrier,
                    ACCOUNTS[name],
                    volunteers=size,
                    reps=args.reps,
                    time_limit=args.fanout_limit,
                    callers=callers,
                )
            notes.append(
                f"fan-out {name} x{size}: peak {connections.peak} connections to the bench database "
                f"({connections.server_peak} on the server, max_connections {connections.max_connections})"
            )
            add(first, throughput=False)
            add(last, FANOUT_TARGET if size == 50 else None, throughput=False)
    return rows, results, errors


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["BENCH_CONN_MAX_AGE"] = str(args.conn_max_age)
    started = time.monotonic()
    port = free_port()
    app_url = f"http://127.0.0.1:{port}"
    from telephony.emulator import Carrier

    with ExitStack() as stack:
        # The carrier signs for and delivers to the server's own loopback URL (no TLS proxy here).
        carrier = Carrier(app_url, app_url, [*ACCOUNTS.values(), BASELINE], webhook_timeout=10.0)
        carrier.start()
        stack.callback(carrier.stop)
        os.environ["BENCH_PUBLIC_BASE_URL"] = app_url
        os.environ["BENCH_CARRIER_URL"] = carrier.base_url

        import django

        django.setup()
        # The carrier's pool warns when more than 64 webhooks are in flight (a 50-leg fan-out
        # plus its callbacks); the extra connections are simply not kept.
        logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)
        name = database_prepare()
        redis_empty()
        volunteers = hotline_populate()

        log_dir = Path(tempfile.mkdtemp(prefix="llamenos-bench-"))
        env = child_env({"BENCH_PUBLIC_BASE_URL": app_url, "BENCH_CARRIER_URL": carrier.base_url})
        server = start_server(port=port, env=env, log_dir=log_dir)
        stack.callback(server.stop)
        worker = start_worker(env=env, log_dir=log_dir, concurrency=args.workers)
        stack.callback(worker.stop)
        # Hang up what is still live while the app can still take the status callbacks.
        stack.callback(carrier.stop)
        print(
            f"bench: database {name}, app {app_url}, carrier {carrier.base_url}, logs {log_dir}", flush=True
        )

        notes: list[str] = []
        rows, results, errors = run_phases(args, carrier, volunteers, notes)
        for process in (server, worker):
            if not process.alive():
                raise process.fail("died during the run")

    lines = [
        *context_lines(args),
        "",
        table(rows),
        "",
        f"answer-time runs: {ANSWER_VOLUNTEERS} volunteers on shift, each caller hangs up once on hold; "
        f"fan-out: {args.reps} call(s) per size, one at a time; total {time.monotonic() - started:.0f}s",
        *notes,
    ]
    print("\n".join(lines), flush=True)
    if args.json:
        args.json.write_text(json.dumps({"context": lines[:2], "results": results}, indent=2, default=str))
    return 1 if errors else 0
