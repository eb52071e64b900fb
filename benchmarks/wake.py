"""``wake_latency`` and ``wake_100``: how fast a fire answers blocked list queries.

``wake_latency``: a py-consul client in its own thread blocks on ``event.list(index=...)``; once
:meth:`~pytest_consul_events.model.agent.Agent.wait_for_blocked` says it is parked, the test
thread fires and the latency is the time from just before ``agent.fire`` to the moment the
client holds its decoded answer. Baseline, alternating trial by trial: a plain (non-blocking)
``event.list`` round trip by the same client in the same thread, with the same events listed.
Target: median wake < 1 ms. The p99 has a row of its own, without a target.

``wake_100``: 100 threads, each with its own ``consul.Consul``, all blocked on the list; one
fire; the time until the last one holds its answer. Baseline, alternating round by round: the
same 100 clients released at once by an ``Event`` to make a plain list each (the cost of
answering 100 concurrent requests at all). Target: fake < 60 ms.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

from benchmarks.harness import Report, Row, Settings, alternate, log, median, percentile
from benchmarks.pyconsul_worker import close_client, make_client
from pytest_consul_events.fake import FakeConsulAgent

WAKE_TARGET_MS = 1.0
WAKE_100_TARGET_MS = 60.0
BUFFERED_EVENTS = 3
"""Events the agent holds before the waking fire."""
BLOCK_WAIT = "10s"
RESULT_TIMEOUT = 15.0

_Job = tuple[str, Any]
"""``("block", index)``, ``("plain", None)``, ``("burst", (ready, go))`` or ``("stop", None)``."""


class _ClientThread(threading.Thread):
    """A thread with its own py-consul client, running list calls it is sent one at a time.

    Results are ``perf_counter()`` when the answer arrived (``block``, ``burst``) or the round
    trip in seconds (``plain``); an exception is passed on as the result.
    """

    def __init__(self, agent: FakeConsulAgent, number: int) -> None:
        super().__init__(name=f"bench-client-{number}", daemon=True)
        self.client = make_client(agent.host, agent.port)
        self.jobs: queue.Queue[_Job] = queue.Queue()
        self.results: queue.Queue[float | BaseException] = queue.Queue()

    def run(self) -> None:
        try:
            while True:
                kind, argument = self.jobs.get()
                if kind == "stop":
                    return
                try:
                    self.results.put(self._do(kind, argument))
                except BaseException as exc:  # handed to the test thread
                    self.results.put(exc)
        finally:
            close_client(self.client)

    def _do(self, kind: str, argument: Any) -> float:
        event = self.client.event
        if kind == "block":
            index, events = event.list(index=argument, wait=BLOCK_WAIT)
            now = time.perf_counter()
            _check(index, events, argument)
            return now
        if kind == "plain":
            start = time.perf_counter()
            index, events = event.list()
            elapsed = time.perf_counter() - start
            _check(index, events, None)
            return elapsed
        if kind == "burst":
            ready, go = argument
            ready.release()
            go.wait()
            index, events = event.list()
            now = time.perf_counter()
            _check(index, events, None)
            return now
        raise ValueError(f"unknown job {kind!r}")

    def result(self) -> float:
        """The next result.

        Raises:
            RuntimeError: no answer within the timeout, or the call failed.
        """
        try:
            value = self.results.get(timeout=RESULT_TIMEOUT)
        except queue.Empty:
            raise RuntimeError(f"{self.name}: no answer in {RESULT_TIMEOUT}s") from None
        if isinstance(value, BaseException):
            raise RuntimeError(f"{self.name}: the call failed: {value!r}") from value
        return value


def _check(index: object, events: object, blocked_on: object) -> None:
    if not index or not isinstance(events, list) or len(events) < BUFFERED_EVENTS:
        raise RuntimeError(f"unexpected list answer: {index!r}, {events!r}")
    if blocked_on is not None and str(index) == str(blocked_on):
        raise RuntimeError("a blocked list came back without a new event (timed out?)")


def _prefill(agent: FakeConsulAgent) -> int:
    """Reset the agent, buffer a few events, and return the list index to block on."""
    agent.reset()
    for number in range(BUFFERED_EVENTS):
        agent.fire("deploy", f"v1.4.{number}")
    return agent.list_events().index


@contextlib.contextmanager
def _clients(agent: FakeConsulAgent, count: int) -> Iterator[list[_ClientThread]]:
    threads = [_ClientThread(agent, number) for number in range(count)]
    for thread in threads:
        thread.start()
    try:
        yield threads
    finally:
        for thread in threads:
            thread.jobs.put(("stop", None))
        for thread in threads:
            thread.join(RESULT_TIMEOUT)


def run_latency(settings: Settings) -> Report:
    """Wake latency of one blocked client vs a plain list round trip; two rows."""
    trials = settings.pick(200, 40)
    wakes: list[float] = []
    plains: list[float] = []
    with FakeConsulAgent() as agent, _clients(agent, 1) as (client,):

        def wake() -> float:
            index = _prefill(agent)
            client.jobs.put(("block", index))
            agent.wait_for_blocked(1, timeout=RESULT_TIMEOUT)
            start = time.perf_counter()
            agent.fire("wake", b"now")
            return client.result() - start

        def plain() -> float:
            client.jobs.put(("plain", None))
            return client.result()

        wakes, plains = alternate(trials, wake, plain)
    log(f"  {trials} trials done")
    report = Report()
    wake_median, plain_median = median(wakes) * 1000, median(plains) * 1000
    report.rows.append(
        Row(
            name="wake_latency (median)",
            fake=wake_median,
            baseline=plain_median,
            unit="ms",
            target=f"< {WAKE_TARGET_MS:g} ms",
            measured=f"{wake_median:.3f} ms",
            passed=wake_median < WAKE_TARGET_MS,
        )
    )
    report.rows.append(
        Row(
            name="wake_latency (p99)",
            fake=percentile(wakes, 99) * 1000,
            baseline=percentile(plains, 99) * 1000,
            unit="ms",
        )
    )
    report.notes.append(
        f"wake_latency: {trials} trials, fire -> blocked py-consul client holds its answer; "
        "baseline = plain event.list round trip, same client and thread"
    )
    return report


def run_100(settings: Settings) -> Report:
    """100 blocked clients answered by one fire vs 100 concurrent plain lists; one row."""
    clients = 100
    rounds = settings.pick(5, 2)
    with FakeConsulAgent() as agent, _clients(agent, clients) as threads:

        def wake_all() -> float:
            index = _prefill(agent)
            for thread in threads:
                thread.jobs.put(("block", index))
            agent.wait_for_blocked(clients, timeout=RESULT_TIMEOUT)
            start = time.perf_counter()
            agent.fire("wake", b"now")
            return max(thread.result() for thread in threads) - start

        def burst() -> float:
            _prefill(agent)
            ready = threading.Semaphore(0)
            go = threading.Event()
            for thread in threads:
                thread.jobs.put(("burst", (ready, go)))
            for _ in threads:
                if not ready.acquire(timeout=RESULT_TIMEOUT):
                    raise RuntimeError("the client threads did not get ready")
            start = time.perf_counter()
            go.set()
            return max(thread.result() for thread in threads) - start

        fakes, baselines = alternate(rounds, wake_all, burst)
        connections = agent.server.connection_count
    log(f"  {rounds} rounds done")
    fake, baseline = median(fakes) * 1000, median(baselines) * 1000
    report = Report()
    report.rows.append(
        Row(
            name="wake_100",
            fake=fake,
            baseline=baseline,
            unit="ms",
            target=f"< {WAKE_100_TARGET_MS:g} ms",
            measured=f"{fake:.1f} ms",
            passed=fake < WAKE_100_TARGET_MS,
        )
    )
    report.notes.append(
        f"wake_100: {clients} clients ({connections} keep-alive connections) x {rounds} rounds; "
        f"{BUFFERED_EVENTS} events buffered; baseline = the same clients released together "
        "for one plain list each"
    )
    return report
