"""Running pytest in a subprocess from a scratch directory, timed from inside and outside.

The scratch directory holds its own ``pytest.ini`` so the project's settings (``testpaths``,
``filterwarnings = error``, ...) are not picked up, and a ``conftest.py`` that records the
session's wall-clock and CPU time (from ``pytest_sessionstart`` to the end of
``pytest_sessionfinish``, so collection, every test and the session fixtures' teardown count).
The conftest also defines ``bench_noop``, a do-nothing function fixture (it takes nothing and
returns ``None``): pytest's own floor for a function fixture.

Every run is a user's run: pytest with ``-q`` and nothing disabled. Every installed plugin loads
(Hypothesis', pytest-xdist's, pytest-asyncio's, pytest-httpserver's...) and every cache works, on
both sides of each comparison alike.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

BASE_ARGS = ("-q",)
"""Every run's options: quiet output, as a suite of thousands of tests is usually run."""

_TIMER_CONFTEST = '''\
"""Records session and per-test times for the benchmark that started pytest."""

import json
import os
import statistics
import time

import pytest

_START = {}
_ITEMS = []
_GROUPS = {}


@pytest.fixture
def bench_noop():
    """A function fixture doing nothing: pytest's floor for a fixture."""
    return None


def pytest_sessionstart(session):
    _START["wall"] = time.perf_counter()
    _START["cpu"] = time.process_time()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    start = time.process_time()
    yield
    spent = time.process_time() - start
    _ITEMS.append(spent)
    group = item.name.rsplit("_", 1)[-1]
    if group.isalpha():  # interleaved modules name tests test_<n>_<group>
        _GROUPS.setdefault(group, []).append(spent)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    path = os.environ.get("BENCH_TIMINGS")
    if path:
        with open(path, "w") as out:
            json.dump(
                {
                    "wall": time.perf_counter() - _START["wall"],
                    "cpu": time.process_time() - _START["cpu"],
                    "item_cpu_median": statistics.median(_ITEMS) if _ITEMS else 0.0,
                    "first_item_cpu": _ITEMS[0] if _ITEMS else 0.0,
                    "group_cpu_medians": {
                        group: statistics.median(times) for group, times in _GROUPS.items()
                    },
                },
                out,
            )
'''

_SUMMARY = re.compile(r"(\d+) passed")


@dataclasses.dataclass(frozen=True)
class PytestRun:
    """Timings of one pytest subprocess, in seconds.

    ``wall`` and ``cpu`` are the whole process as the parent saw it (start-up included; CPU is
    user + system from ``getrusage``); ``session_wall`` and ``session_cpu`` are measured inside
    pytest by the scratch ``conftest.py``, as is ``item_cpu_median``, the median CPU time of one
    test's run protocol (setup, call, teardown, reporting), robust to pauses and preemption,
    and ``group_cpu_medians``, the same per group of an interleaved module whose tests are named
    ``test_<n>_<group>``.
    """

    wall: float
    cpu: float
    session_wall: float
    session_cpu: float
    item_cpu_median: float
    group_cpu_medians: dict[str, float]
    first_item_cpu: float = 0.0
    """The first test's CPU time: with :attr:`item_cpu_median`, what first use costs once."""


def prepare_dir(path: Path) -> None:
    """Write the scratch ``pytest.ini`` and timing ``conftest.py`` into ``path``."""
    ini = ["[pytest]"]
    if importlib.util.find_spec("pytest_asyncio") is not None:
        # pytest-asyncio warns about an unset loop scope in some versions; set it explicitly.
        ini.append("asyncio_default_fixture_loop_scope = function")
    (path / "pytest.ini").write_text("\n".join(ini) + "\n")
    (path / "conftest.py").write_text(_TIMER_CONFTEST)


def run_pytest(directory: Path, test_file: str, expect_passed: int, *extra: str) -> PytestRun:
    """Run ``python -m pytest -q ... test_file`` in ``directory``; check every test passed.

    Raises:
        RuntimeError: pytest failed, or did not report ``expect_passed`` passing tests.
    """
    timings = directory / "timings.json"
    timings.unlink(missing_ok=True)
    env = dict(os.environ, BENCH_TIMINGS=str(timings))
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("PYTEST_PLUGINS", None)
    # A user's Python writes bytecode caches; a machine set up not to (as some CI images are)
    # would have every run compile the package again and count it as the fixtures' cost.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    command = [sys.executable, "-m", "pytest", *BASE_ARGS, *extra, test_file]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    completed = subprocess.run(
        command, cwd=directory, env=env, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    output = completed.stdout + completed.stderr
    found = _SUMMARY.search(output)
    if completed.returncode != 0 or found is None or int(found.group(1)) != expect_passed:
        raise RuntimeError(
            f"pytest run failed ({' '.join(command)} in {directory}, exit "
            f"{completed.returncode}):\n{output[-3000:]}"
        )
    if "warning" in output.lower():
        raise RuntimeError(f"pytest run warned, the timings would include it:\n{output[-3000:]}")
    inner = json.loads(timings.read_text())
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return PytestRun(
        wall,
        cpu,
        float(inner["wall"]),
        float(inner["cpu"]),
        float(inner["item_cpu_median"]),
        {str(group): float(value) for group, value in inner["group_cpu_medians"].items()},
        float(inner["first_item_cpu"]),
    )
