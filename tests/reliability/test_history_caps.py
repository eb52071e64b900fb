"""Bounded histories: ``fired``, the request log and the gossip trace keep ``history_limit``.

The oldest records go first and are counted; the fixture still starts each test empty; and an
assertion whose answer depends on what was dropped fails and says so instead of passing.
"""

from __future__ import annotations

import http.client

import pytest

from pytest_consul_events import assertions
from pytest_consul_events.assertions import EventMatcher
from pytest_consul_events.fake import FakeConsulAgent
from pytest_consul_events.model.agent import Agent, AgentConfig
from pytest_consul_events.model.gossip import Gossip

TRUNCATED = (
    "history truncated: agent node1 dropped 2 earlier fired events (history_limit=3), "
    "so this answer cannot be trusted"
)


def agent_with_history(*names: str, limit: int = 3) -> Agent:
    agent = Agent(history_limit=limit, seed=1)
    for name in names:
        agent.fire(name)
    return agent


def test_fired_keeps_the_latest_and_counts_the_rest() -> None:
    agent = agent_with_history("a", "b", "c", "d", "e")
    assert [e.name for e in agent.fired] == ["c", "d", "e"]
    assert [e.ltime for e in agent.fired] == [4, 5, 6]
    assert agent.fired_dropped == 2
    agent.reset()
    assert (agent.fired, agent.fired_dropped) == ([], 0)


def test_the_default_history_limit_is_ten_thousand() -> None:
    assert AgentConfig().history_limit == 10_000
    agent = Agent()
    for number in range(10_001):
        agent.fire(f"e{number}")
    assert (len(agent.fired), agent.fired_dropped) == (10_000, 1)
    assert agent.fired[0].name == "e1"


@pytest.mark.parametrize(
    ("value", "error", "text"),
    [
        (-1, ValueError, "history_limit must be an int >= 0, not -1 (int)"),
        (False, TypeError, "history_limit must be an int >= 0, not False (bool)"),
        (2.5, TypeError, "history_limit must be an int >= 0, not 2.5 (float)"),
    ],
)
def test_invalid_history_limits_are_refused(
    value: object, error: type[Exception], text: str
) -> None:
    with pytest.raises(error) as raised:
        AgentConfig.build(history_limit=value)
    assert str(raised.value) == text


def test_a_history_limit_of_0_keeps_everything() -> None:
    agent = agent_with_history(*"abcdefghijkl", limit=0)
    assert (len(agent.fired), agent.fired_dropped) == (12, 0)
    with FakeConsulAgent(history_limit=0) as served:
        for _ in range(12):
            get(served, "/v1/event/list")
        assert (len(served.requests), served.requests.dropped) == (12, 0)
    assert Gossip(seed=1, trace_limit=0).trace_dropped == 0


def test_assert_not_fired_fails_on_a_truncated_history_even_without_a_match() -> None:
    agent = agent_with_history("a", "b", "c", "d", "e")
    with pytest.raises(AssertionError) as failed:
        assertions.assert_not_fired(agent, "a")
    assert str(failed.value) == (
        "expected no fired event 'a'\nagent node1 fired 3 events, 0 matching\n" + TRUNCATED
    )


def test_assert_not_fired_with_a_match_says_both() -> None:
    agent = agent_with_history("a", "b", "c", "d", "e")
    with pytest.raises(AssertionError) as failed:
        assertions.assert_not_fired(agent, "e")
    lines = str(failed.value).splitlines()
    assert lines[:2] == ["expected no fired event 'e'", "agent node1 fired 3 events, 1 matching:"]
    assert lines[-1] == TRUNCATED


def test_assert_fired_that_finds_nothing_says_the_history_was_truncated() -> None:
    agent = agent_with_history("a", "b", "c", "d", "e")
    assert assertions.assert_fired(agent, "d").name == "d"  # found: to be trusted
    with pytest.raises(AssertionError) as failed:
        assertions.assert_fired(agent, "a")
    assert str(failed.value).splitlines()[0] == "expected a fired event 'a'"
    assert str(failed.value).splitlines()[-1] == TRUNCATED


def test_assert_fired_with_a_count_never_passes_on_a_truncated_history() -> None:
    agent = agent_with_history("x", "x", "x", "x", "x")
    with pytest.raises(AssertionError) as failed:
        assertions.assert_fired(agent, "x", count=3)
    assert str(failed.value).splitlines()[0] == "expected exactly 3 fired events 'x', found 3"
    assert str(failed.value).splitlines()[-1] == TRUNCATED


def test_assert_fired_in_order_says_when_the_history_was_truncated() -> None:
    agent = agent_with_history("a", "b", "c", "d", "e")
    assert [e.name for e in assertions.assert_fired_in_order(agent, ["c", "e"])] == ["c", "e"]
    with pytest.raises(AssertionError) as failed:
        assertions.assert_fired_in_order(agent, ["a", EventMatcher("e")])
    assert str(failed.value).splitlines()[-1] == TRUNCATED


def test_wait_for_fired_events_says_when_the_history_was_truncated() -> None:
    agent = agent_with_history("a", "b", "c", "d", "e")
    with pytest.raises(AssertionError) as failed:
        assertions.wait_for_event(agent, "a", source="fired", timeout=0)
    assert str(failed.value).splitlines()[-1] == TRUNCATED


def test_the_buffer_is_not_a_truncated_history() -> None:
    # The event buffer drops old events as Consul's does: that is its behaviour, not a cut.
    agent = Agent(buffer_size=2, seed=1)
    for name in ("a", "b", "c"):
        agent.fire(name)
    assertions.assert_not_fired(agent, "a", source="events")


# -- the request log ------------------------------------------------------------------------------


def get(agent: FakeConsulAgent, path: str) -> int:
    connection = http.client.HTTPConnection(agent.host, agent.port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def test_the_request_log_keeps_the_latest_and_counts_the_rest() -> None:
    with FakeConsulAgent(history_limit=3) as agent:
        for path in ("/v1/kv/a", "/v1/kv/b", "/v1/event/list", "/v1/event/list", "/v1/kv/c"):
            get(agent, path)
        log = agent.requests
        assert [r.path for r in log] == ["/v1/event/list", "/v1/event/list", "/v1/kv/c"]
        assert log.dropped == 2
        listed = log.filter(path="/v1/event/list")
        assert (len(listed), listed.dropped) == (2, 2)
        missing = log.unimplemented
        assert ([r.path for r in missing], missing.dropped) == (["/v1/kv/c"], 2)
        agent.configure(history_limit=3)
        assert (list(agent.requests), agent.requests.dropped) == ([], 0)
        get(agent, "/v1/event/list")
        assert agent.requests.unimplemented.dropped == 0


def test_a_lower_limit_applies_from_the_next_request() -> None:
    with FakeConsulAgent(history_limit=5) as agent:
        for _ in range(5):
            get(agent, "/v1/event/list")
        agent.reset(AgentConfig(history_limit=2))
        get(agent, "/v1/event/list")
        assert (len(agent.requests), agent.requests.dropped) == (2, 4)


def test_the_failure_report_counts_dropped_requests() -> None:
    with FakeConsulAgent(history_limit=2) as agent:
        for _ in range(4):
            get(agent, "/v1/event/list")
        _, text = agent.failure_report()
    assert "requests served (2):\n  ... 2 earlier requests\n" in text


@pytest.mark.consul_agent(history_limit=2)
def test_the_marker_sets_the_history_limit(consul_agent: FakeConsulAgent) -> None:
    for name in ("a", "b", "c"):
        consul_agent.fire(name)
    assert ([e.name for e in consul_agent.fired], consul_agent.fired_dropped) == (["b", "c"], 1)


def test_each_test_starts_with_an_empty_history(consul_agent: FakeConsulAgent) -> None:
    assert (consul_agent.fired, consul_agent.fired_dropped) == ([], 0)
    assert (list(consul_agent.requests), consul_agent.requests.dropped) == ([], 0)
    assert consul_agent.config.history_limit == 10_000


# -- the gossip trace -----------------------------------------------------------------------------


def test_the_gossip_trace_keeps_the_latest_steps_numbered_on() -> None:
    gossip = Gossip(seed=1, trace_limit=4)
    agents = [Agent(node_name=name, seed=n) for n, name in enumerate(["n1", "n2", "n3"])]
    for agent in agents:
        gossip.join(agent)
    for name in ("a", "b"):
        agents[0].fire(name)  # each fire: one "fire" step and two deliveries
    trace = gossip.trace
    assert [(step.seq, step.kind, step.name) for step in trace] == [
        (3, "deliver", "a"),
        (4, "fire", "b"),
        (5, "deliver", "b"),
        (6, "deliver", "b"),
    ]
    assert gossip.trace_dropped == 2
    gossip.close()


def test_strict_mode_still_fails_when_the_unimplemented_call_was_dropped() -> None:
    with FakeConsulAgent(strict=True, history_limit=2) as agent:
        get(agent, "/v1/kv/a")
        for _ in range(3):
            get(agent, "/v1/event/list")
        assert list(agent.requests.unimplemented) == []
        with pytest.raises(AssertionError) as failed:
            agent.verify()
    assert str(failed.value).splitlines()[1:] == ["  ... and 1 earlier ones no longer kept"]
