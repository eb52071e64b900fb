"""What every benchmark shares: settings, alternating rounds, statistics, rows and the table."""

from __future__ import annotations

import dataclasses
import math
import os
import platform
import statistics
import sys
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Settings:
    """How hard to measure: the full run, or ``--quick`` for a smoke run."""

    quick: bool = False

    def pick(self, full: T, quick: T) -> T:
        """``full`` normally, ``quick`` under ``--quick``."""
        return quick if self.quick else full


@dataclasses.dataclass(frozen=True)
class Row:
    """One line of the result table.

    ``fake`` and ``baseline`` are medians in ``unit``; ``ratio`` is ``fake / baseline``.
    ``measured`` is the quantity the target is checked against, already formatted (an overhead,
    a ratio, a median), and ``passed`` the verdict, ``None`` when there is no target. ``unsure``
    marks a miss that is within the measurement's noise (see :func:`below`). A ``soft`` target
    only flags: it reads ``ok`` or ``FLAG`` and never fails the run.
    """

    name: str
    fake: float
    baseline: float
    unit: str
    target: str = "-"
    measured: str = "-"
    passed: bool | None = None
    unsure: bool = False
    soft: bool = False

    @property
    def ratio(self) -> float:
        """``fake / baseline`` (``nan`` when the baseline is zero)."""
        return self.fake / self.baseline if self.baseline else math.nan

    @property
    def verdict(self) -> str:
        """``PASS``, ``FAIL``, ``UNSURE`` (a miss within noise), or ``-`` without a target;
        ``ok`` or ``FLAG`` for a soft one."""
        if self.passed is None:
            return "-"
        if self.soft:
            return "ok" if self.passed else "FLAG"
        if self.passed:
            return "PASS"
        return "UNSURE" if self.unsure else "FAIL"

    @property
    def failed(self) -> bool:
        """Whether the target was missed by more than the noise (soft targets never fail)."""
        return self.passed is False and not self.unsure and not self.soft


@dataclasses.dataclass(frozen=True)
class Table:
    """A small table of its own printed under the main one (a growth grid, say)."""

    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    footer: str = ""
    """A line printed under the table (a fit, a reading guide)."""


@dataclasses.dataclass
class Report:
    """What one benchmark produced: rows for the table, extra tables, and free-text notes."""

    rows: list[Row] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)
    tables: list[Table] = dataclasses.field(default_factory=list)


def log(message: str) -> None:
    """Progress goes to stderr, so ``--markdown`` output on stdout stays clean."""
    print(message, file=sys.stderr, flush=True)


def alternate(
    rounds: int, fake: Callable[[], T], baseline: Callable[[], T], *, warmup: bool = True
) -> tuple[list[T], list[T]]:
    """Run ``fake`` and ``baseline`` in alternating rounds (A B A B ...); return both lists.

    With ``warmup``, each is run once first and that result is dropped (imports, connections,
    caches). Alternating spreads the machine's drift over both sides instead of one.
    """
    if warmup:
        fake()
        baseline()
    fakes: list[T] = []
    baselines: list[T] = []
    for _ in range(rounds):
        fakes.append(fake())
        baselines.append(baseline())
    return fakes, baselines


def median(values: Sequence[float]) -> float:
    """The median (``nan`` for no values)."""
    return statistics.median(values) if values else math.nan


def percentile(values: Sequence[float], pct: float) -> float:
    """The ``pct`` percentile by linear interpolation between closest ranks."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * pct / 100.0
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median_se(values: Sequence[float]) -> float:
    """A robust standard error of the median: ``1.2533 * 1.4826 * MAD / sqrt(n)``."""
    if len(values) < 2:
        return math.nan
    center = statistics.median(values)
    mad = statistics.median(abs(value - center) for value in values)
    return 1.2533 * 1.4826 * mad / math.sqrt(len(values))


def linear_fit(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float, float]:
    """Least-squares ``y = intercept + slope * x``; returns ``(intercept, slope, r_squared)``.

    ``r_squared`` is ``1 - SS_res / SS_tot`` (``nan`` with fewer than 3 points or constant
    ``x`` or ``y``).
    """
    if len(xs) != len(ys) or len(xs) < 3:
        return math.nan, math.nan, math.nan
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mean_x) ** 2 for x in xs)
    syy = sum((y - mean_y) ** 2 for y in ys)
    if not sxx or not syy:
        return math.nan, math.nan, math.nan
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    slope = sxy / sxx
    intercept = mean_y - slope * mean_x
    residual = sum((y - intercept - slope * x) ** 2 for x, y in zip(xs, ys, strict=True))
    return intercept, slope, 1.0 - residual / syy


def below(value: float, limit: float, noise: float) -> tuple[bool, bool]:
    """Judge ``value < limit`` when ``value`` is only known to about ``noise`` (a standard error).

    Returns ``(passed, unsure)``: passed when ``value < limit``; a miss is certain only when
    ``value - 2 * noise >= limit``, otherwise it is unsure (within noise).
    """
    if value < limit:
        return True, False
    return False, not (value - 2 * noise >= limit)


def fmt(value: float, unit: str) -> str:
    """``value`` with three significant digits (no exponent below a million) and its unit."""
    if math.isnan(value):
        return "n/a"
    magnitude = abs(value)
    if magnitude >= 1000:
        text = f"{value:,.0f}"
    elif magnitude >= 100:
        text = f"{value:.0f}"
    elif magnitude >= 10:
        text = f"{value:.1f}"
    elif magnitude >= 1:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3f}"
    return f"{text} {unit}".rstrip()


def fmt_ratio(ratio: float) -> str:
    """A ratio with three significant digits (thousands separated above 1,000)."""
    if math.isnan(ratio):
        return "n/a"
    if ratio >= 1000:
        return f"{ratio:,.0f}x"
    return f"{ratio:.3g}x"


HEADERS = ("benchmark", "fake", "baseline", "ratio", "target", "measured", "result")


def _cells(row: Row) -> tuple[str, ...]:
    return (
        row.name,
        fmt(row.fake, row.unit),
        fmt(row.baseline, row.unit),
        fmt_ratio(row.ratio),
        row.target,
        row.measured,
        row.verdict,
    )


def _grid_text(headers: Sequence[str], body: Sequence[Sequence[str]]) -> str:
    table = [tuple(headers), *(tuple(line) for line in body)]
    widths = [max(len(line[i]) for line in table) for i in range(len(headers))]
    lines = []
    for index, line in enumerate(table):
        lines.append(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _grid_markdown(headers: Sequence[str], body: Sequence[Sequence[str]]) -> str:
    lines = [
        "| " + " | ".join(headers) + " |",
        "| " + " | ".join("---" for _ in headers) + " |",
    ]
    for line in body:
        cells = (cell.replace("|", "\\|") for cell in line)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render_text(rows: Sequence[Row]) -> str:
    """The table as aligned plain text."""
    return _grid_text(HEADERS, [_cells(row) for row in rows])


def render_markdown(rows: Sequence[Row]) -> str:
    """The table as GitHub-flavoured Markdown."""
    return _grid_markdown(HEADERS, [_cells(row) for row in rows])


def render_table(table: Table, *, markdown: bool = False) -> str:
    """An extra table with its title and footer, as plain text or Markdown."""
    grid = (_grid_markdown if markdown else _grid_text)(table.headers, table.rows)
    title = f"**{table.title}**" if markdown else table.title
    parts = [title, "", grid]
    if table.footer:
        parts.extend(["", table.footer])
    return "\n".join(parts)


def cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo`` (``platform.processor()`` elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
            for line in info:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Hardware", "cpu model") and value.strip():
                    return " ".join(value.split())
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine_info() -> str:
    """One line describing the machine: cores, CPU model, Python, platform, load."""
    try:
        load = "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:  # pragma: no cover - not on every platform
        load = "load n/a"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"nproc {cores}, {cpu_model()}, Python {platform.python_version()} "
        f"({platform.python_implementation()}), {platform.system()} {platform.release()} "
        f"{platform.machine()}, {load}"
    )
