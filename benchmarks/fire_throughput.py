"""``fire_throughput``: in-process ``Agent.fire`` calls per second on one agent.

Fake: :meth:`pytest_consul_events.model.agent.Agent.fire` on a fresh model agent each round (no
HTTP). Baseline: appending the very event objects those fires returned to a
``collections.deque(maxlen=256)`` under a ``threading.Lock``, the least a thread-safe 256-event
ring buffer can do. No target: the ratio says how much of a fire is bookkeeping beyond storing.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from benchmarks.harness import Report, Row, Settings, alternate, log, median
from pytest_consul_events.model.agent import Agent
from pytest_consul_events.model.event import UserEvent

PAYLOAD = b'{"service": "web", "version": "1.4.2"}'


def run(settings: Settings) -> Report:
    """Fires per second vs locked deque appends per second; one row."""
    rounds = settings.pick(5, 2)
    count = settings.pick(20_000, 4_000)
    sample = Agent()
    events: list[UserEvent] = [sample.fire("deploy", PAYLOAD) for _ in range(count)]

    def fires() -> float:
        agent = Agent()
        fire = agent.fire
        start = time.perf_counter()
        for _ in range(count):
            fire("deploy", PAYLOAD)
        return count / (time.perf_counter() - start)

    def appends() -> float:
        buffer: deque[UserEvent] = deque(maxlen=256)
        lock = threading.Lock()
        append = buffer.append
        start = time.perf_counter()
        for event in events:
            with lock:
                append(event)
        return count / (time.perf_counter() - start)

    fakes, baselines = alternate(rounds, fires, appends)
    log(f"  {rounds} rounds of {count} done")
    report = Report()
    report.rows.append(
        Row(
            name="fire_throughput",
            fake=median(fakes),
            baseline=median(baselines),
            unit="ops/s",
        )
    )
    fake_us = 1e6 / median(fakes)
    report.notes.append(
        f"fire_throughput: {count} fires x {rounds} rounds; {fake_us:.1f} us per Agent.fire "
        f"vs {1e6 / median(baselines):.2f} us per locked deque append"
    )
    return report
