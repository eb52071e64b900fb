"""The command line: ``python -m benchmarks [--quick] [--only NAME ...] [--markdown]``.

Benchmarks, in the order they run:

* ``fixture_overhead``: per-test cost of ``consul_agent`` / ``consul_client`` over an empty test,
  beside a do-nothing fixture and pytest-httpserver's ``httpserver``;
* ``fixture_overhead_cluster``: per-test cost of ``consul_cluster`` (3 agents served over HTTP);
* ``startup``: an unrelated one-test pytest run in a clean venv with the package's runtime
  install vs an identical venv without it, with and without bytecode caching;
* ``pyconsul_calls``: py-consul fire/list calls per second, fake vs a canned keep-alive server;
* ``wake_latency``: a fire to a blocked client's answer vs a plain list round trip;
* ``wake_100``: 100 blocked clients answered by one fire vs 100 concurrent plain lists;
* ``fire_throughput``: ``Agent.fire`` per second vs appends to a locked deque;
* ``cluster_scale``: 1,000 events gossiped to 100 agents (CPU) vs 100 locked deques, and a
  growth grid over agents x events with a linear fit;
* ``cluster_hostile``: the same with unordered, and with lossy and duplicating, gossip;
* ``memory_per_agent``: bytes of an agent with a full buffer vs the raw payload and ID bytes;
* ``hostile``: a standalone server's peak memory and CPU under hostile input vs the same bytes
  of benign traffic, and its resident size after many more requests.

Progress goes to stderr. The table, then any extra tables (such as the growth grid) and the
notes, go to stdout, as plain text, or with ``--markdown`` as Markdown (the plain table then
also goes to stderr). The exit status is 1 if a target was missed by more than the noise
(``FAIL``; ``UNSURE`` rows and soft targets, shown ``ok`` or ``FLAG``, do not count).
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable, Sequence

from benchmarks import (
    cluster,
    fire_throughput,
    fixture_overhead,
    hostile,
    memory_per_agent,
    pyconsul_calls,
    startup,
    wake,
)
from benchmarks.harness import (
    Report,
    Settings,
    log,
    machine_info,
    render_markdown,
    render_table,
    render_text,
)

BENCHMARKS: dict[str, Callable[[Settings], Report]] = {
    "fixture_overhead": fixture_overhead.run,
    "fixture_overhead_cluster": fixture_overhead.run_cluster,
    "startup": startup.run,
    "pyconsul_calls": pyconsul_calls.run,
    "wake_latency": wake.run_latency,
    "wake_100": wake.run_100,
    "fire_throughput": fire_throughput.run,
    "cluster_scale": cluster.run_scale,
    "cluster_hostile": cluster.run_hostile,
    "memory_per_agent": memory_per_agent.run,
    "hostile": hostile.run,
}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Benchmark the fake Consul agent against baselines measured in the same run.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="fewer rounds and smaller sizes: a smoke run"
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(BENCHMARKS),
        metavar="NAME",
        help=f"run only this benchmark (repeatable); one of: {', '.join(BENCHMARKS)}",
    )
    parser.add_argument(
        "--markdown", action="store_true", help="print the table as Markdown on stdout"
    )
    return parser.parse_args(argv)


def _leftover_threads() -> list[str]:
    """Threads other than the main one still alive a moment after the benchmarks."""
    deadline = time.monotonic() + 2.0
    while True:
        alive = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.01)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen benchmarks, print the table; 1 if a target was missed, else 0."""
    args = parse_args(argv)
    settings = Settings(quick=args.quick)
    names = [name for name in BENCHMARKS if not args.only or name in args.only]
    log(f"machine: {machine_info()}")
    log(f"mode: {'quick' if settings.quick else 'full'}; benchmarks: {', '.join(names)}")
    combined = Report()
    started = time.perf_counter()
    for name in names:
        log(f"{name} ...")
        begin = time.perf_counter()
        report = BENCHMARKS[name](settings)
        log(f"{name}: {time.perf_counter() - begin:.1f} s")
        combined.rows.extend(report.rows)
        combined.notes.extend(report.notes)
        combined.tables.extend(report.tables)
    elapsed = time.perf_counter() - started
    leftovers = _leftover_threads()
    if leftovers:
        combined.notes.append(f"WARNING: threads still alive at the end: {leftovers}")
    else:
        combined.notes.append("every server, client and thread was closed")
    combined.notes.append(f"total {elapsed:.1f} s; machine: {machine_info()}")

    text = render_text(combined.rows)
    notes = "\n".join(f"- {note}" for note in combined.notes)
    tables = [render_table(table, markdown=args.markdown) for table in combined.tables]
    if args.markdown:
        log("\n" + text)
        print(render_markdown(combined.rows))
    else:
        log("")
        print(text)
    for table in tables:
        print()
        print(table)
    print()
    print(notes)
    failed = [row.name for row in combined.rows if row.failed]
    return 1 if failed else 0
