"""Percentiles and the printed table."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from .scenarios import Result


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default); ``q`` in 0..100."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class Target:
    """A goal for one row: ``stat`` (p99, max, ...) under ``limit_ms``."""

    stat: str
    limit_ms: float

    def describe(self) -> str:
        return f"{self.stat} < {self.limit_ms:g} ms"


def summary(result: Result) -> dict:
    ms = [s * 1000 for s in result.samples]
    return {
        "name": result.name,
        "provider": result.provider,
        "concurrency": result.concurrency,
        "volunteers": result.volunteers,
        "planned": result.planned,
        "load": result.load,
        "live_calls_median": statistics.median(result.live_calls) if result.live_calls else math.nan,
        "count": len(ms),
        "errors": len(result.errors),
        "error_examples": result.errors[:3],
        "p50": percentile(ms, 50),
        "p95": percentile(ms, 95),
        "p99": percentile(ms, 99),
        "max": max(ms, default=math.nan),
        "mean": statistics.fmean(ms) if ms else math.nan,
        "throughput": result.throughput,
        "wall_seconds": result.wall_seconds,
    }


COLUMNS = [
    ("measurement", "<"),
    ("provider", "<"),
    ("load", "<"),
    ("n", ">"),
    ("err", ">"),
    ("p50 ms", ">"),
    ("p95 ms", ">"),
    ("p99 ms", ">"),
    ("max ms", ">"),
    ("mean ms", ">"),
    ("calls/s", ">"),
    ("target", "<"),
    ("", "<"),
]


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1f}"


def row(row_summary: dict, target: Target | None = None, *, throughput: bool = True) -> list[str]:
    load = row_summary["load"] or (
        f"{row_summary['volunteers']} on shift"
        if row_summary["volunteers"]
        else f"{row_summary['concurrency']} concurrent"
    )
    verdict = ""
    if target is not None:
        value = row_summary[target.stat]
        verdict = "met" if row_summary["count"] and value < target.limit_ms else "MISSED"
        row_summary["target"] = {"describe": target.describe(), "met": verdict == "met"}
    return [
        row_summary["name"],
        row_summary["provider"],
        load,
        str(row_summary["count"]),
        str(row_summary["errors"]),
        _ms(row_summary["p50"]),
        _ms(row_summary["p95"]),
        _ms(row_summary["p99"]),
        _ms(row_summary["max"]),
        _ms(row_summary["mean"]),
        f"{row_summary['throughput']:.1f}" if throughput and row_summary["throughput"] else "-",
        target.describe() if target else "",
        verdict,
    ]


def table(rows: list[list[str]]) -> str:
    header = [name for name, _ in COLUMNS]
    widths = [max(len(cells[i]) for cells in [header, *rows]) for i in range(len(COLUMNS))]

    def line(cells: list[str]) -> str:
        parts = [
            cell.ljust(width) if align == "<" else cell.rjust(width)
            for cell, width, (_, align) in zip(cells, widths, COLUMNS, strict=True)
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * width for width in widths).rstrip()
    return "\n".join([line(header), rule, *(line(cells) for cells in rows)])
