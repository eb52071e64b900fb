"""``memory_per_agent``: what an agent with a full event buffer holds in memory.

Fake: ``tracemalloc``'s count of the bytes still allocated after making a model
:class:`~pytest_consul_events.model.agent.Agent` and firing 256 events with fresh 400-byte
payloads into it (the payloads count: the agent keeps them). Baseline: the raw bytes of those
payloads and of the 36-character event IDs. Also measured, in the notes: the same IDs and
payloads kept as ``(id, payload)`` tuples in a ``deque(maxlen=256)``, the least Python can hold
them in. No target.
"""

from __future__ import annotations

import gc
import os
import tracemalloc
from collections import deque
from collections.abc import Callable

from benchmarks.harness import Report, Row, Settings, alternate, fmt, log, median
from pytest_consul_events.model.agent import Agent

EVENTS = 256
PAYLOAD_SIZE = 400


def _traced(build: Callable[[], object]) -> tuple[int, object]:
    """Bytes still allocated by ``build()`` once it returns (its result kept alive)."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = build()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return after - before, kept


def _full_agent() -> Agent:
    agent = Agent()
    for _ in range(EVENTS):
        agent.fire("deploy", os.urandom(PAYLOAD_SIZE))
    return agent


def _tuples() -> deque[tuple[str, bytes]]:
    kept: deque[tuple[str, bytes]] = deque(maxlen=EVENTS)
    for number in range(EVENTS):
        kept.append((f"{number:08x}-0000-0000-0000-000000000000", os.urandom(PAYLOAD_SIZE)))
    return kept


def run(settings: Settings) -> Report:
    """Bytes of a full agent vs the raw bytes it must hold; one row."""
    rounds = settings.pick(5, 2)
    _full_agent()  # imports and first-use caches, outside the measurement
    raw_sizes: list[int] = []

    def agent_bytes() -> int:
        used, agent = _traced(_full_agent)
        assert isinstance(agent, Agent)
        events = agent.events
        if len(events) != EVENTS:
            raise RuntimeError(f"the agent holds {len(events)} events, not {EVENTS}")
        raw_sizes.append(sum(len(e.id) + len(e.payload or b"") for e in events))
        return used

    def tuple_bytes() -> int:
        return _traced(_tuples)[0]

    fakes, tuples = alternate(rounds, agent_bytes, tuple_bytes, warmup=False)
    log(f"  {rounds} rounds done")
    fake, raw, tuple_median = median(fakes), median(raw_sizes), median(tuples)
    report = Report()
    report.rows.append(Row(name="memory_per_agent", fake=fake, baseline=raw, unit="B"))
    report.notes.append(
        f"memory_per_agent: {EVENTS} events x {PAYLOAD_SIZE}-byte payloads; "
        f"{fmt(fake / EVENTS, 'B')} per event vs {fmt(raw / EVENTS, 'B')} raw; a deque of "
        f"(id, payload) tuples takes {fmt(tuple_median, 'B')} (the agent: "
        f"{fake / tuple_median:.2f}x that)"
    )
    return report
