"""``startup``: what the installed but unused plugin adds to pytest's start-up.

pytest runs one empty test, with the plugin (the default: it is installed) and with
``-p no:consul_events`` (the baseline), in alternating rounds. The verdict uses the child's CPU
time (user + system, from ``getrusage``): the difference sought is a few milliseconds out of
several hundred, and on a shared machine the wall clock wanders by far more. Even so one run's
CPU time moves by tens of milliseconds, so the verdict uses the median of the paired
differences (round by round), shown with its noise (a robust standard error), and a miss within
twice that noise is ``UNSURE`` rather than ``FAIL``.

The notes give the precise part: the time pytest spends loading and registering the plugin's
entry point, measured inside pytest by ``-p bench_plugin_timer`` (on both sides), and the plugin
module's own import time (``-X importtime``, median of 5), plus the wall-clock medians.
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.harness import (
    Report,
    Row,
    Settings,
    alternate,
    below,
    fmt,
    log,
    median,
    median_se,
)
from benchmarks.pytest_runs import PLUGIN_TIMER, PytestRun, prepare_dir, run_pytest

TARGET_MS = 20.0
PLUGIN_NAME = "consul_events"
PLUGIN_MODULE = "pytest_consul_events.plugin"

_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|\s*(\S+)")


def _plugin_import_us() -> float:
    """Cumulative import time of the plugin module, pytest already imported (microseconds).

    ``nan`` if the line is missing. Measured in a fresh interpreter: pytest loads entry points
    with ``importlib.import_module``, whose imports ``-X importtime`` does not report.
    """
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import pytest, {PLUGIN_MODULE}"],
        capture_output=True,
        text=True,
        check=False,
    )
    for line in completed.stderr.splitlines():
        found = _IMPORT_LINE.match(line)
        if found and found.group(3) == PLUGIN_MODULE:
            return float(found.group(2))
    return math.nan


def run(settings: Settings) -> Report:
    """Pytest with the plugin vs with ``-p no:consul_events``; one row."""
    rounds = settings.pick(16, 3)
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        directory = Path(tmp)
        prepare_dir(directory)
        (directory / "test_one.py").write_text("def test_one():\n    pass\n")
        timer = ("-p", PLUGIN_TIMER)  # both sides: times the plugin's load inside pytest

        def with_plugin() -> PytestRun:
            return run_pytest(directory, "test_one.py", 1, *timer)

        def without_plugin() -> PytestRun:
            return run_pytest(directory, "test_one.py", 1, *timer, "-p", f"no:{PLUGIN_NAME}")

        fakes, baselines = alternate(rounds, with_plugin, without_plugin)
    log(f"  {rounds} rounds done")
    import_us = median([_plugin_import_us() for _ in range(5)])
    fake_cpu = median([r.cpu for r in fakes]) * 1000.0
    base_cpu = median([r.cpu for r in baselines]) * 1000.0
    paired = [(f.cpu - b.cpu) * 1000.0 for f, b in zip(fakes, baselines, strict=True)]
    delta, noise = median(paired), median_se(paired)
    passed, unsure = below(delta, TARGET_MS, noise)
    inside = median([r.plugin_load for r in fakes]) * 1000.0
    fake_wall = median([r.wall for r in fakes]) * 1000.0
    base_wall = median([r.wall for r in baselines]) * 1000.0
    report = Report()
    report.rows.append(
        Row(
            name="startup",
            fake=fake_cpu,
            baseline=base_cpu,
            unit="ms CPU",
            target=f"< +{TARGET_MS:.0f} ms",
            measured=f"{delta:+.1f} ± {noise:.0f} ms",
            passed=passed,
            unsure=unsure,
        )
    )
    imported = fmt(import_us / 1000.0, "ms")
    report.notes.append(
        f"startup: {rounds} rounds; wall clock {fmt(fake_wall, 'ms')} vs "
        f"{fmt(base_wall, 'ms')} ({fake_wall - base_wall:+.1f} ms); "
        f"inside pytest, loading and registering the plugin took {fmt(inside, 'ms')} (median); "
        f"import of {PLUGIN_MODULE} alone (-X importtime, pytest already imported): {imported}"
    )
    return report
