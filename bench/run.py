"""``python -m bench``: start the app under gunicorn (or daphne), a Celery worker and the carrier
emulator on loopback, drive calls, print the table, stop everything.

Rows:
- incoming answer: the carrier's signed POST /telephony/incoming going out to its XML read back
  (3 volunteers on shift, so every call is queued and rung), under three loads:
  - 1 call at a time: each call and its ringing end before the next (the idle latency);
  - 20 calls live: 20 callers, each on hold for 5 to 15 s while its volunteers' phones ring,
    then hanging up and dialling again, so 20 calls are on the line at once and about two new
    ones arrive every second (the issue's "20 concurrent calls"; the target row);
  - 20 live, short holds: the same with holds of 1.5 to 4.5 s, about six new calls a second;
  - 20 back to back: the same 20 callers hanging up as soon as they are on hold, so 20 webhooks
    are in flight all the time (saturation: it shows capacity, calls/s, not a latency to meet).
- fixed TwiML baseline: the same carrier request to a bare view (bench/views.py) on the same
  server: what the server + Django + middleware cost with no work at all.
- first / all legs requested: one call at a time with 1, 10 and 50 volunteers on shift; from
  the incoming webhook going out to the carrier holding the REST create of the first / last leg.

Before the timed rows, a few calls per provider warm the server up (not timed).

Beside the table: the machine's speed (a fixed loop, before and after), the cores' time the host
took (steal), and for each held row how long the server's and worker's threads ran and how long
they were ready to run but waited for a free core (/proc schedstat): on a virtual machine whose
idle cores halt, that wait, not the app's own CPU, is most of a slow webhook's time.
"""

from __future__ import annotations

import argparse
import gc
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
from .processes import (
    SERVERS,
    child_env,
    free_port,
    run_queue_note,
    start_server,
    start_worker,
    thread_schedstats,
)
from .report import Target, row, summary, table
from .scenarios import Callers, answer_times, fanout_times, quiet

ANSWER_TARGET = Target("p99", 50)  # with 20 calls live
# How long each caller of the live rows stays on hold, ringing volunteers, before hanging up.
LIVE_HOLD_SECONDS = (5.0, 15.0)  # 20 calls live -> about 2 new calls a second, 120 a minute
SHORT_HOLD_SECONDS = (1.5, 4.5)  # 20 calls live -> about 6 new calls a second
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
    parser.add_argument("--server", choices=SERVERS, default="gunicorn", help="web server (default gunicorn)")
    parser.add_argument(
        "--web-workers",
        type=int,
        default=2 * (os.cpu_count() or 1),
        help="gunicorn processes (default: two per core, as deploy/gunicorn.conf.py; daphne: one)",
    )
    parser.add_argument(
        "--db-pool",
        type=int,
        default=16,
        help="psycopg pool size per process, as prod.py's DB_POOL_MAX_SIZE (default 16; 0: no pool)",
    )
    parser.add_argument(
        "--conn-max-age",
        type=int,
        default=0,
        help="CONN_MAX_AGE for the server and worker when --db-pool 0 (default 0, as prod.py)",
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
    if unknown or args.calls < 1 or args.reps < 1 or args.concurrency < 1 or args.web_workers < 1:
        parser.error(f"unknown providers or rows: {sorted(unknown)}" if unknown else "counts must be >= 1")
    if args.db_pool and args.conn_max_age:
        parser.error("--conn-max-age needs --db-pool 0: pooled connections are never kept per thread")
    if args.server == "daphne":
        args.web_workers = 1
    # Phase deadlines keep the whole run near six minutes whatever the machine does; each
    # row's n says how many calls fit. The target row ("live") runs longest: a p99 read off 85
    # calls is the slowest call or the one before it, so one hiccup of the machine decided it;
    # 100 s fits the 200 calls --calls allows, which puts it between the second and third slowest.
    args.answer_limits = (
        {"idle": 5.0, "live": 8.0, "short": 5.0, "saturated": 5.0, "baseline": 5.0}
        if args.quick
        else {"idle": 10.0, "live": 100.0, "short": 20.0, "saturated": 10.0, "baseline": 10.0}
    )
    args.fanout_limit = 10.0 if args.quick else 15.0
    return args


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def speed_probe_ms() -> float:
    """A fixed pure-Python loop, best of three, in ms: this machine's speed right now.

    Shared machines change speed from hour to hour (here, by more than half within one day);
    runs are comparable only at similar probe times.
    """
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for number in range(2_000_000):
            total += number
        best = min(best, time.perf_counter() - started)
    return best * 1000


def cpu_ticks() -> tuple[int, int] | None:
    """(ticks stolen, all ticks) of every core since boot, from /proc/stat; None off Linux.

    Steal is the time a virtual machine's cores were ready to run but the host ran something
    else: on a shared host it slows every process of the run at once, app and carrier alike.
    """
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    if fields[0] != "cpu" or len(fields) < 9:
        return None
    ticks = [int(value) for value in fields[1:9]]  # user nice system idle iowait irq softirq steal
    return ticks[7], sum(ticks)


def stolen_line(before: tuple[int, int] | None, after: tuple[int, int] | None) -> str:
    if before is None or after is None or after[1] <= before[1]:
        return "cpu stolen by the host: not known on this system"
    share = 100 * (after[0] - before[0]) / (after[1] - before[1])
    return f"cpu stolen by the host: {share:.1f}% of the cores' time during the run (0 when not shared)"


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
    connections = (
        f"psycopg pool of {args.db_pool} per process" if args.db_pool else f"CONN_MAX_AGE={args.conn_max_age}"
    )
    return [
        f"machine: {os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}",
        f"python {platform.python_version()}, Django {django.get_version()}; "
        f"{args.server} x{args.web_workers}; Celery worker: threads pool x{args.workers}; {connections}; "
        "PostgreSQL + Redis on loopback; carrier emulator in the bench process",
    ]


def run_phases(
    args, carrier, volunteers, notes: list[str], app_pids: list[int]
) -> tuple[list[list[str]], list[dict], int]:
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
        # The carrier stands in for the provider: its own collector pausing this process would
        # be timed as the app's latency, so its start-up heap is frozen (the harness's, not the
        # app's); the records of a phase are not.
        gc.collect()
        gc.freeze()

    on_shift_set(volunteers, ANSWER_VOLUNTEERS)
    limits = args.answer_limits
    many = args.concurrency
    live_hold, short_hold = (
        ((0.5, 1.5), (0.3, 0.6)) if args.quick else (LIVE_HOLD_SECONDS, SHORT_HOLD_SECONDS)
    )
    loads = [  # (kind, callers, hold, load column)
        ("idle", 1, None, "1 call at a time"),
        ("live", many, live_hold, f"{many} calls live"),
        ("short", many, short_hold, f"{many} live, short holds"),
        ("saturated", many, None, f"{many} back to back"),
    ]
    runs = [
        (ACCOUNTS[name], "incoming answer", kind, callers, hold, load)
        for name in args.providers
        if "answer" in args.only
        for kind, callers, hold, load in loads
    ]
    if "baseline" in args.only:
        runs += [
            (BASELINE, "fixed TwiML baseline", "baseline", callers, None, load)
            for _kind, callers, hold, load in loads
            if hold is None  # the baseline hangs up at once: nobody stays on hold
        ]
    # Not timed: the first calls in each web worker pay once for what a running server has long
    # loaded (the first database connections of its threads, the broker connection, the
    # provider's XML code paths); the idle row's p99 was those two calls.
    warm_up = 2 * args.web_workers
    for account in dict.fromkeys(run[0] for run in runs):
        settle()
        warm = answer_times(
            carrier,
            account,
            name="warm-up",
            calls=warm_up,
            concurrency=warm_up,
            time_limit=10.0,
            callers=callers,
            hold=(0.3, 0.6),
        )
        if warm.errors:
            print(f"  warm-up ({account.provider}): {warm.errors[0]}", file=sys.stderr)
    if runs:
        notes.append(f"warm-up: {warm_up} calls per provider before the timed rows, not timed")
    for account, label, kind, concurrency, hold, load in runs:
        settle()
        threads_before, phase_started = thread_schedstats(app_pids), time.monotonic()
        result = answer_times(
            carrier,
            account,
            name=label,
            calls=args.calls,
            concurrency=concurrency,
            time_limit=limits[kind if label == "incoming answer" else "baseline"],
            callers=callers,
            hold=hold,
        )
        result.load = load
        add(result, ANSWER_TARGET if kind == "live" and concurrency == 20 else None)
        if hold:
            run_queue = run_queue_note(
                threads_before, thread_schedstats(app_pids), time.monotonic() - phase_started
            )
            notes.append(
                f"{load} ({account.provider}): median {results[-1]['live_calls_median']:.0f} calls on the "
                f"line, {result.throughput:.1f} new calls/s; {run_queue}"
            )
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
    os.environ["BENCH_DB_POOL_MAX_SIZE"] = str(args.db_pool)
    started = time.monotonic()
    speed_before = speed_probe_ms()
    ticks_before = cpu_ticks()
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
        server = start_server(
            server=args.server, port=port, workers=args.web_workers, env=env, log_dir=log_dir
        )
        stack.callback(server.stop)
        worker = start_worker(env=env, log_dir=log_dir, concurrency=args.workers)
        stack.callback(worker.stop)
        # Hang up what is still live while the app can still take the status callbacks.
        stack.callback(carrier.stop)
        print(
            f"bench: database {name}, app {app_url}, carrier {carrier.base_url}, logs {log_dir}", flush=True
        )

        notes: list[str] = []
        app_pids = [server.proc.pid, worker.proc.pid]
        rows, results, errors = run_phases(args, carrier, volunteers, notes, app_pids)
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
        f"machine speed: a fixed Python loop took {speed_before:.0f} ms before the run and "
        f"{speed_probe_ms():.0f} ms after (lower is faster; compare runs at similar speeds)",
        stolen_line(ticks_before, cpu_ticks()),
    ]
    print("\n".join(lines), flush=True)
    if args.json:
        args.json.write_text(json.dumps({"context": lines[:2], "results": results}, indent=2, default=str))
    return 1 if errors else 0
