"""``startup``: what installing the package costs a pytest run that never uses it.

Two clean virtual environments are built for each benchmark run, in a temporary directory,
with ``python -m venv`` (no system site-packages):

* **plugin**: the package's wheel, built from this checkout, installed with ``pip install``
  and so with its runtime dependencies only (no extra), exactly as a user installs it;
* **baseline**: the same pytest, at the same versions as the plugin venv resolved (pinned with
  that venv's ``pip freeze`` as constraints), and nothing else.

An unrelated project (one ``test_one.py`` holding ``def test_one(): pass``) is then run with
``python -m pytest -q`` from each venv, with no option at all: every plugin the install brings
(``pytest11`` entry points, listed in the notes) is loaded, and so is every cache. Rounds are
paired and interleaved (baseline then plugin, then plugin then baseline, ...), after a warm-up
run of each that also writes the bytecode of the test project.

Two modes, one row each:

* **bytecode cached**: as usually run (pip compiled each venv's modules at install time);
* **no bytecode cache**: every ``__pycache__`` of both venvs' site-packages is deleted and the
  runs use ``PYTHONDONTWRITEBYTECODE=1``, so every third-party module is compiled from source
  on every run (a fresh CI environment installed without compiling, say); the standard library
  keeps its bytecode on both sides.

The verdict is on the wall clock: the median of the paired differences (plugin minus baseline,
round by round) against the target of +20 ms, with its noise (a robust standard error); a miss
within twice that noise is ``UNSURE``. The same for CPU time (user + system of the child), which
moves less with the load of a shared machine, is shown beside it.
"""

from __future__ import annotations

import re
import resource
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

from benchmarks import venvs
from benchmarks.harness import Report, Row, Settings, below, fmt, log, median, median_se

TARGET_MS = 20.0
PACKAGE = "pytest-consul-events"
PLUGIN_MODULE = "pytest_consul_events.plugin"
TEST_SOURCE = "def test_one():\n    pass\n"

_PASSED = re.compile(r"^1 passed in ", re.MULTILINE)
_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|\s*(\S+)")


def _timed_run(python: Path, project: Path, env: Mapping[str, str]) -> tuple[float, float]:
    """Run ``python -m pytest -q test_one.py`` in ``project``: (wall ms, child CPU ms).

    Raises:
        RuntimeError: the run did not pass its one test, or printed a warning.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    completed = subprocess.run(
        [str(python), "-m", "pytest", "-q", "test_one.py"],
        cwd=project,
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
    )
    wall = (time.perf_counter() - start) * 1000.0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000.0
    output = completed.stdout + completed.stderr
    if completed.returncode != 0 or not _PASSED.search(completed.stdout) or "warning" in output:
        raise RuntimeError(f"the pytest run failed or warned ({python}):\n{output[-3000:]}")
    return wall, cpu


def _plugin_import_ms(python: Path) -> float:
    """Cumulative import time of the plugin module in the plugin venv, pytest already imported
    (median of 5 runs, ``-X importtime``); ``nan`` if not reported."""
    times = []
    for _ in range(5):
        completed = subprocess.run(
            [str(python), "-X", "importtime", "-c", f"import pytest, {PLUGIN_MODULE}"],
            capture_output=True,
            text=True,
            check=False,
            env=_environment(),
        )
        for line in completed.stderr.splitlines():
            found = _IMPORT_LINE.match(line)
            if found and found.group(3) == PLUGIN_MODULE:
                times.append(int(found.group(2)) / 1000.0)
    return median(times)


def _environment(**extra: str) -> dict[str, str]:
    """The parent's environment without what would change how pytest or Python runs."""
    return venvs.clean_environment(**extra)


def _measure(
    rounds: int, plugin: Path, baseline: Path, project: Path, env: Mapping[str, str]
) -> dict[str, list[tuple[float, float]]]:
    """Paired, interleaved rounds after one warm-up run of each; (wall, cpu) per run."""
    _timed_run(baseline, project, env)
    _timed_run(plugin, project, env)
    results: dict[str, list[tuple[float, float]]] = {"plugin": [], "baseline": []}
    for index in range(rounds):
        order = [("baseline", baseline), ("plugin", plugin)]
        for side, python in order if index % 2 == 0 else reversed(order):
            results[side].append(_timed_run(python, project, env))
    return results


def _row(name: str, results: dict[str, list[tuple[float, float]]]) -> tuple[Row, str]:
    plugin_wall = [wall for wall, _ in results["plugin"]]
    base_wall = [wall for wall, _ in results["baseline"]]
    paired = [p - b for p, b in zip(plugin_wall, base_wall, strict=True)]
    paired_cpu = [
        p - b for (_, p), (_, b) in zip(results["plugin"], results["baseline"], strict=True)
    ]
    delta, noise = median(paired), median_se(paired)
    passed, unsure = below(delta, TARGET_MS, noise)
    row = Row(
        name=name,
        fake=median(plugin_wall),
        baseline=median(base_wall),
        unit="ms",
        target=f"<= +{TARGET_MS:.0f} ms",
        measured=(
            f"{delta:+.1f} ± {noise:.1f} ms wall, {median(paired_cpu):+.1f} ± "
            f"{median_se(paired_cpu):.1f} ms CPU"
        ),
        passed=passed,
        unsure=unsure,
    )
    note = (
        f"{name}: {len(paired)} paired rounds; wall {fmt(median(plugin_wall), 'ms')} with the "
        f"package vs {fmt(median(base_wall), 'ms')} without (ratio "
        f"{median(plugin_wall) / median(base_wall):.3f}), paired difference {delta:+.1f} ± "
        f"{noise:.1f} ms; CPU {fmt(median([c for _, c in results['plugin']]), 'ms')} vs "
        f"{fmt(median([c for _, c in results['baseline']]), 'ms')}, paired difference "
        f"{median(paired_cpu):+.1f} ± {median_se(paired_cpu):.1f} ms"
    )
    return row, note


def run(settings: Settings) -> Report:
    """Pytest start-up in a venv with the package's runtime install vs one without; two rows."""
    rounds = settings.pick(20, 4)
    report = Report()
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        directory = Path(tmp)
        wheel = venvs.build_wheel(directory)
        plugin_venv = venvs.create(directory / "venv-plugin", str(wheel))
        frozen = [
            line
            for line in plugin_venv.freeze()
            if not line.lower().startswith(("pytest-consul-events", "pytest_consul_events"))
            and " @ " not in line
        ]
        constraints = directory / "constraints.txt"
        constraints.write_text("\n".join(frozen) + "\n")
        base_venv = venvs.create(directory / "venv-baseline", "pytest", constraints=constraints)
        extra_dists = sorted(set(frozen) - set(base_venv.freeze()))
        plugins = plugin_venv.pytest_plugins()
        base_plugins = base_venv.pytest_plugins()
        project = directory / "project"
        project.mkdir()
        (project / "test_one.py").write_text(TEST_SOURCE)

        log(f"  {rounds} paired rounds, bytecode cached")
        cached = _measure(rounds, plugin_venv.python, base_venv.python, project, _environment())
        import_ms = _plugin_import_ms(plugin_venv.python)

        removed = sum(venvs.remove_bytecode(v.site_packages()) for v in (plugin_venv, base_venv))
        venvs.remove_bytecode(project)
        log(f"  {rounds} paired rounds, no bytecode cache ({removed} __pycache__ removed)")
        uncached = _measure(
            rounds,
            plugin_venv.python,
            base_venv.python,
            project,
            _environment(PYTHONDONTWRITEBYTECODE="1"),
        )

    for name, results in (("startup", cached), ("startup[no bytecode cache]", uncached)):
        row, note = _row(name, results)
        report.rows.append(row)
        report.notes.append(note)
    report.notes.append(
        f"startup: the plugin venv has {PACKAGE} ({wheel.name}) and its runtime dependencies, "
        f"{len(extra_dists)} distributions more than the baseline ({', '.join(extra_dists)}); "
        f"pytest11 plugins loaded in every run: {'; '.join(plugins) or 'none'} (baseline: "
        f"{'; '.join(base_plugins) or 'none'}); import of {PLUGIN_MODULE} alone, pytest already "
        f"imported (-X importtime): {fmt(import_ms, 'ms')}"
    )
    return report
