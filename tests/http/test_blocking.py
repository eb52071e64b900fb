"""Blocking ``GET /v1/event/list?index=`` (consul-events.md §1 row 21, §5.1 steps 4-9, §14.7)."""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor

import pytest
from http_support import (
    Reply,
    Transport,
    fired_id,
    list_index,
    uuid_to_uint64,
    wait_until,
)

from pytest_consul_events.fake import FakeConsulAgent

SHORT_WAIT = 0.3
"""The ``wait`` of the tests that let a query time out, in seconds (``300ms``)."""


def start_blocked(
    api: Transport, consul_agent: FakeConsulAgent, background: ThreadPoolExecutor, query: str
) -> Future[Reply]:
    """Send a list query from a helper thread and return once the agent holds it."""
    future = background.submit(api.get, f"/v1/event/list?{query}")
    wait_until(lambda: consul_agent.blocked_queries == 1 or future.done(), what="a blocked query")
    assert not future.done(), future.result()
    return future


def timed_get(api: Transport, target: str) -> tuple[Reply, float]:
    started = time.monotonic()
    reply = api.get(target)
    return reply, time.monotonic() - started


def test_equal_index_blocks_until_an_event_arrives(
    api: Transport, consul_agent: FakeConsulAgent, background: ThreadPoolExecutor
) -> None:
    future = start_blocked(api, consul_agent, background, "index=1&wait=5s")
    event_id = fired_id(api.put("/v1/event/fire/deploy"))
    reply = future.result(timeout=5)
    assert reply.status == 200
    assert [e["ID"] for e in reply.json()] == [event_id]
    assert list_index(reply) == uuid_to_uint64(event_id)
    assert consul_agent.blocked_queries == 0


def test_blocked_query_returns_the_whole_list_after_a_change(
    api: Transport, consul_agent: FakeConsulAgent, background: ThreadPoolExecutor
) -> None:
    first = fired_id(api.put("/v1/event/fire/deploy"))
    index = list_index(api.get("/v1/event/list"))
    future = start_blocked(api, consul_agent, background, f"index={index}&wait=5s")
    second = fired_id(api.put("/v1/event/fire/deploy"))
    reply = future.result(timeout=5)
    assert [(e["ID"], e["LTime"]) for e in reply.json()] == [(first, 2), (second, 3)]
    assert list_index(reply) == uuid_to_uint64(second)


def test_event_fired_through_the_model_wakes_a_blocked_query(
    api: Transport, consul_agent: FakeConsulAgent, background: ThreadPoolExecutor
) -> None:
    future = start_blocked(api, consul_agent, background, "index=1&wait=5s")
    event = consul_agent.fire("deploy")
    assert [e["ID"] for e in future.result(timeout=5).json()] == [event.id]


def test_several_blocked_queries_all_wake(
    api: Transport, consul_agent: FakeConsulAgent, background: ThreadPoolExecutor
) -> None:
    futures = [background.submit(api.get, "/v1/event/list?index=1&wait=5s") for _ in range(3)]
    wait_until(lambda: consul_agent.blocked_queries == 3, what="three blocked queries")
    event_id = fired_id(api.put("/v1/event/fire/deploy"))
    for future in futures:
        assert [e["ID"] for e in future.result(timeout=5).json()] == [event_id]


@pytest.mark.parametrize("offset", [1, -1, 12345])
def test_any_other_index_returns_at_once(api: Transport, offset: int) -> None:
    api.put("/v1/event/fire/deploy")
    current = list_index(api.get("/v1/event/list"))
    other = (current + offset) % (1 << 64) or 2
    reply, elapsed = timed_get(api, f"/v1/event/list?index={other}&wait=5s")
    assert reply.status == 200
    assert list_index(reply) == current
    assert elapsed < 1.0


def test_larger_index_on_empty_list_returns_at_once(api: Transport) -> None:
    reply, elapsed = timed_get(api, "/v1/event/list?index=2&wait=5s")
    assert (reply.status, reply.body, list_index(reply)) == (200, b"[]", 1)
    assert elapsed < 1.0


@pytest.mark.parametrize("query", ["index=0&wait=5s", "wait=5s", "index=00"])
def test_index_zero_or_absent_never_blocks(api: Transport, query: str) -> None:
    reply, elapsed = timed_get(api, f"/v1/event/list?{query}")
    assert (reply.status, reply.body) == (200, b"[]")
    assert elapsed < 1.0


def test_blocked_query_times_out_at_wait(api: Transport, consul_agent: FakeConsulAgent) -> None:
    reply, elapsed = timed_get(api, "/v1/event/list?index=1&wait=300ms")
    assert (reply.status, reply.body, list_index(reply)) == (200, b"[]", 1)
    assert SHORT_WAIT <= elapsed < SHORT_WAIT + 1.0
    assert consul_agent.blocked_queries == 0


def test_timed_out_query_returns_the_unchanged_list(api: Transport) -> None:
    event_id = fired_id(api.put("/v1/event/fire/deploy"))
    index = uuid_to_uint64(event_id)
    reply, elapsed = timed_get(api, f"/v1/event/list?index={index}&wait=0.3s")
    assert [e["ID"] for e in reply.json()] == [event_id]
    assert list_index(reply) == index
    assert SHORT_WAIT <= elapsed < SHORT_WAIT + 1.0


def test_event_of_another_name_does_not_end_a_name_filtered_wait(
    api: Transport, consul_agent: FakeConsulAgent, background: ThreadPoolExecutor
) -> None:
    # The handler looks again on every stored event, but its index is unchanged, so it keeps
    # waiting; the timer is not restarted (§5.1 step 9).
    mine = fired_id(api.put("/v1/event/fire/mine"))
    started = time.monotonic()
    future = start_blocked(
        api, consul_agent, background, f"name=mine&index={uuid_to_uint64(mine)}&wait=300ms"
    )
    api.put("/v1/event/fire/other")
    reply = future.result(timeout=5)
    elapsed = time.monotonic() - started
    assert [e["ID"] for e in reply.json()] == [mine]
    assert SHORT_WAIT <= elapsed < SHORT_WAIT + 1.0


def test_event_of_the_watched_name_ends_a_name_filtered_wait(
    api: Transport, consul_agent: FakeConsulAgent, background: ThreadPoolExecutor
) -> None:
    future = start_blocked(api, consul_agent, background, "name=mine&index=1&wait=5s")
    api.put("/v1/event/fire/other")
    second = fired_id(api.put("/v1/event/fire/mine"))
    reply = future.result(timeout=5)
    assert [e["ID"] for e in reply.json()] == [second]


def test_events_that_are_not_stored_do_not_end_a_wait(
    api: Transport, consul_agent: FakeConsulAgent, background: ThreadPoolExecutor
) -> None:
    started = time.monotonic()
    future = start_blocked(api, consul_agent, background, "index=1&wait=300ms")
    for path in ["_rexec", "deploy?node=%5Eelsewhere%24", "deploy?service=web"]:
        assert api.put(f"/v1/event/fire/{path}").status == 200
    # Rejected fires store nothing either.
    assert api.put("/v1/event/fire/deploy", body=b"x" * 600).status == 500
    assert api.put("/v1/event/fire/deploy?tag=x").status == 500
    reply = future.result(timeout=5)
    assert (reply.body, list_index(reply)) == (b"[]", 1)
    assert SHORT_WAIT <= time.monotonic() - started < SHORT_WAIT + 1.0


@pytest.mark.parametrize("wait", ["", "&wait=0", "&wait=0s", "&wait=-5s", "&wait=700s"])
def test_blocked_query_without_a_usable_timeout_waits_for_an_event(
    api: Transport, consul_agent: FakeConsulAgent, background: ThreadPoolExecutor, wait: str
) -> None:
    # Absent or 0 wait => 600 s; over 600 s => 600 s; negative => no limit (§5.1 step 5).
    future = start_blocked(api, consul_agent, background, f"index=1{wait}")
    event_id = fired_id(api.put("/v1/event/fire/deploy"))
    assert [e["ID"] for e in future.result(timeout=5).json()] == [event_id]


def test_blocked_query_headers_are_those_of_a_plain_list(
    api: Transport, consul_agent: FakeConsulAgent, background: ThreadPoolExecutor
) -> None:
    future = start_blocked(api, consul_agent, background, "index=1&wait=5s")
    api.put("/v1/event/fire/deploy")
    blocked = future.result(timeout=5)
    plain = api.get("/v1/event/list")
    assert sorted(blocked.headers) == sorted(plain.headers)
    assert blocked.values("X-Consul-Index") == plain.values("X-Consul-Index")
