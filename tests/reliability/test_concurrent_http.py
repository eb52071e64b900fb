"""Many clients firing and listing at once over HTTP against one agent.

Each thread has its own py-consul client (its own requests session and connection), so the
server sees truly concurrent connections. Whatever the interleaving, no event is lost or
doubled, the Lamport times are a gapless run, the buffer is in Lamport order, and the request
log has exactly one record per request.
"""

from __future__ import annotations

import sys
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from reliability_support import uuid_to_uint64

from pytest_consul_events.fake import FakeConsulAgent
from pytest_consul_events.model.agent import Agent

THREADS = 8
FIRES_PER_THREAD = 50


def _fire_and_list(agent: FakeConsulAgent, worker: int, start: threading.Barrier) -> dict[str, Any]:
    """Fire ``FIRES_PER_THREAD`` events, listing after each; return what was seen."""
    client = agent.client()
    fired: list[str] = []
    problems: list[str] = []
    try:
        start.wait(timeout=10)
        for number in range(FIRES_PER_THREAD):
            answer = client.event.fire(f"w{worker}", f"{worker}:{number}")
            fired.append(answer["ID"])
            index, events = client.event.list()
            ids = [event["ID"] for event in events]
            ltimes = [event["LTime"] for event in events]
            # A consistent snapshot: every event so far, in Lamport order, without a gap.
            if ltimes != list(range(2, 2 + len(events))):
                problems.append(f"snapshot ltimes {ltimes}")
            if answer["ID"] not in ids:
                problems.append(f"own event {answer['ID']} missing from the list after its fire")
            if int(index) != uuid_to_uint64(ids[-1]):
                problems.append(f"index {index} is not the last event's {ids[-1]}")
    finally:
        client.http.session.close()
    return {"fired": fired, "problems": problems}


def test_concurrent_fires_and_lists_lose_and_double_nothing() -> None:
    with FakeConsulAgent(buffer_size=1024) as agent:
        start = threading.Barrier(THREADS)
        with ThreadPoolExecutor(THREADS) as pool:
            results = list(
                pool.map(lambda w: _fire_and_list(agent, w, start), range(THREADS), timeout=60)
            )
        total = THREADS * FIRES_PER_THREAD

        assert [r["problems"] for r in results] == [[]] * THREADS
        fired_ids = [event_id for r in results for event_id in r["fired"]]
        assert len(fired_ids) == total
        assert len(set(fired_ids)) == total  # no ID given twice

        client = agent.client()
        try:
            index, listed = client.event.list()
        finally:
            client.http.session.close()
        listed_ids = [event["ID"] for event in listed]
        assert Counter(listed_ids) == Counter(fired_ids)  # none lost, none doubled
        assert [event["LTime"] for event in listed] == list(range(2, total + 2))
        assert int(index) == uuid_to_uint64(listed_ids[-1])

        held = agent.events
        assert [event.id for event in held] == listed_ids  # buffer order is Lamport order
        assert [event.ltime for event in held] == list(range(2, total + 2))
        # Each worker's own events are held in the order it fired them.
        for worker, result in enumerate(results):
            mine = [event for event in held if event.name == f"w{worker}"]
            assert [event.id for event in mine] == result["fired"]
            assert [event.payload for event in mine] == [
                f"{worker}:{n}".encode() for n in range(FIRES_PER_THREAD)
            ]
        assert sorted(e.ltime for e in agent.fired) == list(range(2, total + 2))
        assert {e.id for e in agent.fired} == set(fired_ids)

        # One record per request: every fire, every list, and the final list.
        records = list(agent.requests)
        assert len(records) == 2 * total + 1
        assert Counter((r.method, r.path, r.status) for r in records) == Counter(
            {
                **{("PUT", f"/v1/event/fire/w{w}", 200): FIRES_PER_THREAD for w in range(THREADS)},
                ("GET", "/v1/event/list", 200): total + 1,
            }
        )


def test_concurrent_fires_keep_exactly_the_last_256() -> None:
    fires_per_thread = 64  # 512 fires into the default 256-slot buffer
    total = THREADS * fires_per_thread
    with FakeConsulAgent(buffer_size=256) as agent:
        start = threading.Barrier(THREADS)

        def fire_all(worker: int) -> list[str]:
            client = agent.client()
            try:
                start.wait(timeout=10)
                return [client.event.fire("e", str(worker))["ID"] for _ in range(fires_per_thread)]
            finally:
                client.http.session.close()

        with ThreadPoolExecutor(THREADS) as pool:
            fired_ids = [i for ids in pool.map(fire_all, range(THREADS), timeout=60) for i in ids]

        assert len(set(fired_ids)) == total
        by_ltime = sorted(agent.fired, key=lambda event: event.ltime)
        assert [event.ltime for event in by_ltime] == list(range(2, total + 2))
        assert {event.id for event in by_ltime} == set(fired_ids)

        held = agent.events
        assert len(held) == 256
        assert [event.ltime for event in held] == list(range(total + 2 - 256, total + 2))
        assert held == by_ltime[-256:]

        client = agent.client()
        try:
            index, listed = client.event.list()
        finally:
            client.http.session.close()
        assert [event["ID"] for event in listed] == [event.id for event in held]
        assert int(index) == uuid_to_uint64(held[-1].id)
        assert len(agent.requests) == total + 1


def _fire_many(agent: Agent, start: threading.Barrier) -> None:
    start.wait(timeout=10)
    for _ in range(500):
        agent.fire("e")


def test_fired_is_in_lamport_order_under_concurrent_fires() -> None:
    # README: `fired` is "every event fired through it, in order, with the Lamport time it got".
    # A tiny switch interval makes threads interleave at every bytecode, so the window between
    # the two critical sections is hit within a round or two when it exists.
    agent = Agent(buffer_size=4096)
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for _ in range(10):
            agent.reset()
            start = threading.Barrier(4)
            threads = [threading.Thread(target=_fire_many, args=(agent, start)) for _ in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
            ltimes = [event.ltime for event in agent.fired]
            assert ltimes == list(range(2, 2002))
    finally:
        sys.setswitchinterval(previous)
