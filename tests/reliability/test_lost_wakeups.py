"""No lost wake-ups: every list query blocked on the current index answers the next fire.

K clients, each in its own thread with its own connection, block on the agent's current index;
once ``wait_for_blocked`` sees all K blocked, one event is fired, and every one of them must
answer with it well before its own ``wait`` runs out. Repeated for many rounds, with a fire
between rounds, to give a race between blocking and waking many chances to show.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
from reliability_support import uuid_to_uint64

from pytest_consul_events.fake import FakeConsulAgent

WAITERS = 12
ROUNDS = 25
DEADLINE = 5.0
"""Seconds within which every blocked query must answer a fire (its own wait is 60 s)."""


@dataclass
class Answer:
    worker: int
    status: int
    index: int
    ids: list[str]
    elapsed: float


class Waiters:
    """``count`` threads, each with its own session, running one blocking list per order."""

    def __init__(self, agent: FakeConsulAgent, count: int) -> None:
        self.agent = agent
        self.orders: list[queue.Queue[int | None]] = [queue.Queue() for _ in range(count)]
        self.answers: queue.Queue[Answer | BaseException] = queue.Queue()
        self.threads = [
            threading.Thread(target=self._run, args=(n,), name=f"waiter-{n}", daemon=True)
            for n in range(count)
        ]
        for thread in self.threads:
            thread.start()

    def _run(self, worker: int) -> None:
        with requests.Session() as session:
            while (index := self.orders[worker].get()) is not None:
                try:
                    started = time.monotonic()
                    reply = session.get(
                        f"{self.agent.url}/v1/event/list",
                        params={"index": str(index), "wait": "60s"},
                        timeout=DEADLINE * 4,
                    )
                    self.answers.put(
                        Answer(
                            worker,
                            reply.status_code,
                            int(reply.headers["X-Consul-Index"]),
                            [event["ID"] for event in reply.json()],
                            time.monotonic() - started,
                        )
                    )
                except BaseException as exc:  # reported to the test, which fails on it
                    self.answers.put(exc)

    def block_on(self, index: int) -> None:
        for order in self.orders:
            order.put(index)

    def collect(self, deadline: float) -> list[Answer]:
        answers = []
        for _ in self.orders:
            remaining = deadline - time.monotonic()
            try:
                answer = self.answers.get(timeout=max(remaining, 0.0))
            except queue.Empty:
                pytest.fail(f"{len(self.orders) - len(answers)} blocked queries never answered")
            if isinstance(answer, BaseException):
                raise answer
            answers.append(answer)
        return answers

    def close(self) -> None:
        for order in self.orders:
            order.put(None)
        self.agent.wake_all()
        for thread in self.threads:
            thread.join(timeout=5)
        assert not [t.name for t in self.threads if t.is_alive()]


@pytest.fixture
def agent() -> Iterator[FakeConsulAgent]:
    with FakeConsulAgent() as agent:
        yield agent


@pytest.mark.parametrize("rounds", [ROUNDS, pytest.param(300, marks=pytest.mark.slow)])
def test_every_blocked_query_wakes_for_the_next_fire(agent: FakeConsulAgent, rounds: int) -> None:
    waiters = Waiters(agent, WAITERS)
    try:
        current = agent.fire("seed")
        for round_number in range(rounds):
            index = uuid_to_uint64(current.id)
            waiters.block_on(index)
            agent.wait_for_blocked(WAITERS, timeout=DEADLINE)
            assert agent.blocked_queries == WAITERS
            fired_at = time.monotonic()
            current = agent.fire("round", str(round_number))
            answers = waiters.collect(fired_at + DEADLINE)
            new_index = uuid_to_uint64(current.id)
            assert sorted(a.worker for a in answers) == list(range(WAITERS))
            assert {(a.status, a.index, a.ids[-1]) for a in answers} == {
                (200, new_index, current.id)
            }
            assert {len(a.ids) for a in answers} == {min(round_number + 2, 256)}
            assert agent.blocked_queries == 0
        assert len(agent.requests) == WAITERS * rounds
    finally:
        waiters.close()


def test_a_fire_between_rounds_answers_late_blockers_at_once(agent: FakeConsulAgent) -> None:
    # A query that arrives with an index that is already stale (an event came in between the
    # previous answer and the next query) must answer at once, not wait for the next event.
    waiters = Waiters(agent, WAITERS)
    try:
        current = agent.fire("seed")
        for round_number in range(ROUNDS):
            stale = uuid_to_uint64(current.id)
            current = agent.fire("between", str(round_number))  # before the queries arrive
            started = time.monotonic()
            waiters.block_on(stale)
            answers = waiters.collect(started + DEADLINE)
            assert {(a.status, a.index, a.ids[-1]) for a in answers} == {
                (200, uuid_to_uint64(current.id), current.id)
            }
            assert max(a.elapsed for a in answers) < DEADLINE
            assert agent.blocked_queries == 0
    finally:
        waiters.close()


def test_waiters_on_different_names_wake_only_for_their_own(agent: FakeConsulAgent) -> None:
    # Half block on ?name=a, half on ?name=b; a fire of "a" wakes the a-waiters with it, and the
    # b-waiters stay blocked (their list did not change) until "b" is fired.
    a0, b0 = agent.fire("a"), agent.fire("b")
    sessions = [requests.Session() for _ in range(8)]
    results: dict[int, tuple[int, list[str]]] = {}

    def block(n: int) -> None:
        name, last = ("a", a0) if n % 2 == 0 else ("b", b0)
        reply = sessions[n].get(
            f"{agent.url}/v1/event/list",
            params={"name": name, "index": str(uuid_to_uint64(last.id)), "wait": "60s"},
            timeout=DEADLINE * 4,
        )
        results[n] = (reply.status_code, [event["ID"] for event in reply.json()])

    threads = [threading.Thread(target=block, args=(n,)) for n in range(8)]
    try:
        for thread in threads:
            thread.start()
        agent.wait_for_blocked(8, timeout=DEADLINE)
        a1 = agent.fire("a")
        for thread in threads[0::2]:
            thread.join(timeout=DEADLINE)
        assert {n: results.get(n) for n in range(0, 8, 2)} == {
            n: (200, [a0.id, a1.id]) for n in range(0, 8, 2)
        }
        agent.wait_for_blocked(4, timeout=DEADLINE)  # the b-waiters went back to waiting
        assert agent.blocked_queries == 4
        assert all(thread.is_alive() for thread in threads[1::2])
        b1 = agent.fire("b")
        for thread in threads[1::2]:
            thread.join(timeout=DEADLINE)
        assert {n: results.get(n) for n in range(1, 8, 2)} == {
            n: (200, [b0.id, b1.id]) for n in range(1, 8, 2)
        }
    finally:
        agent.wake_all()
        for thread in threads:
            thread.join(timeout=5)
        for session in sessions:
            session.close()
