"""The assertion and wait helpers: matching, counts, order, sources, waiting and their messages."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import unittest.mock
from collections.abc import Callable, Iterator

import pytest

from pytest_consul_events.assertions import (
    ANY,
    EventMatcher,
    assert_fired,
    assert_fired_in_order,
    assert_not_fired,
    wait_for_event,
)
from pytest_consul_events.fake import FakeConsulAgent
from pytest_consul_events.model.agent import Agent
from pytest_consul_events.model.event import UserEvent
from pytest_consul_events.model.serf import SerfUserEvent

SEED = 1234


@pytest.fixture
def agent() -> Agent:
    """A plain model agent (no HTTP server) with a ``web`` service tagged ``v1``."""
    agent = Agent(seed=SEED)
    agent.register_service("web", tags=["v1"])
    return agent


def failure(call: Callable[[], object]) -> str:
    """The message of the AssertionError that ``call`` raises."""
    with pytest.raises(AssertionError) as info:
        call()
    return str(info.value)


def lines(*text: str) -> str:
    return "\n".join(text)


# -- assert_fired: matching modes ------------------------------------------------------------------


def test_assert_fired_by_name_returns_the_first_match(agent: Agent) -> None:
    first = agent.fire("deploy", b"v1")
    agent.fire("deploy", b"v2")
    found = assert_fired(agent, "deploy")
    assert (found.id, found.payload, found.ltime) == (first.id, b"v1", 2)


def test_assert_fired_payload_as_bytes_str_and_none(agent: Agent) -> None:
    agent.fire("deploy", b"v1")
    agent.fire("deploy", "caf\u00e9")
    agent.fire("deploy")
    assert assert_fired(agent, "deploy", payload=b"v1").payload == b"v1"
    assert assert_fired(agent, "deploy", payload="caf\u00e9").payload == "caf\u00e9".encode()
    assert assert_fired(agent, "deploy", payload=None).payload is None


def test_empty_expected_payload_matches_an_event_fired_without_one(agent: Agent) -> None:
    agent.fire("deploy", b"")  # stored as no payload, as over HTTP
    assert assert_fired(agent, "deploy", payload=b"").payload is None
    assert assert_fired(agent, "deploy", payload="").payload is None


def test_assert_fired_payload_predicate_gets_the_payload(agent: Agent) -> None:
    agent.fire("deploy")
    agent.fire("deploy", b"v2-rc1")
    seen: list[bytes | None] = []

    def is_v2(payload: bytes | None) -> bool:
        seen.append(payload)
        return payload is not None and payload.startswith(b"v2")

    assert assert_fired(agent, "deploy", payload=is_v2).payload == b"v2-rc1"
    assert seen == [None, b"v2-rc1"]


def test_payload_predicate_that_raises_counts_as_no_match(agent: Agent) -> None:
    agent.fire("deploy")  # None: the predicate below raises TypeError on it
    agent.fire("deploy", b"v2")
    found = assert_fired(agent, "deploy", payload=lambda p: b"v2" in p)  # type: ignore[operator]
    assert found.payload == b"v2"


def test_assert_fired_json_compares_the_decoded_payload(agent: Agent) -> None:
    agent.fire("deploy", b"not json")
    agent.fire("deploy", json.dumps({"version": 2, "hosts": ["a", "b"]}))
    found = assert_fired(agent, "deploy", json={"hosts": ("a", "b"), "version": 2})
    assert json.loads(found.payload or b"") == {"version": 2, "hosts": ["a", "b"]}


def test_json_true_is_not_1(agent: Agent) -> None:
    agent.fire("flag", b"true")
    assert assert_fired(agent, "flag", json=True).payload == b"true"
    assert_not_fired(agent, "flag", json=1)


def test_json_null_is_a_value_not_any(agent: Agent) -> None:
    agent.fire("deploy", b"1")
    agent.fire("deploy", b"null")
    assert assert_fired(agent, "deploy", json=None).payload == b"null"


def test_json_predicate_gets_the_decoded_value(agent: Agent) -> None:
    agent.fire("deploy", b'{"version": 1}')
    agent.fire("deploy", b'{"version": 3}')
    found = assert_fired(agent, "deploy", json=lambda value: value["version"] > 2)
    assert found.payload == b'{"version": 3}'


def test_assert_fired_filters_exact_none_and_predicate(agent: Agent) -> None:
    agent.fire("deploy", b"all")
    agent.fire("deploy", b"web", node="node.*", service="web", tag="v1")
    assert assert_fired(agent, "deploy", service="web", tag="v1").payload == b"web"
    assert assert_fired(agent, "deploy", node=None, service="").payload == b"all"
    assert assert_fired(agent, "deploy", node=lambda n: n.startswith("node")).payload == b"web"


def test_any_and_mock_any_accept_every_value(agent: Agent) -> None:
    agent.fire("deploy", b"v1", service="web")
    assert_fired(agent, "deploy", payload=ANY, service=ANY)
    assert_fired(agent, "deploy", payload=unittest.mock.ANY, service=unittest.mock.ANY)


# -- assert_fired: counts and sources --------------------------------------------------------------


def test_count_requires_exactly_that_many_and_returns_them(agent: Agent) -> None:
    agent.fire("deploy", b"v1")
    agent.fire("build")
    agent.fire("deploy", b"v2")
    found = assert_fired(agent, "deploy", count=2)
    assert [event.payload for event in found] == [b"v1", b"v2"]
    assert assert_fired(agent, "deploy", payload=b"v3", count=0) == []
    assert failure(lambda: assert_fired(agent, "deploy", count=1)) == lines(
        "expected exactly 1 fired event 'deploy', found 2",
        "agent node1 fired 3 events; closest first:",
        "  deploy  ltime=2  payload=b'v1'",
        "  deploy  ltime=4  payload=b'v2'",
        "  build (differs)  ltime=3",
    )


def test_source_events_checks_the_buffer(agent: Agent) -> None:
    agent.fire("deploy", b"elsewhere", node="node2")  # fired, but kept out of this buffer
    agent.fire("deploy", b"here")
    assert assert_fired(agent, "deploy", payload=b"elsewhere").ltime == 2
    assert assert_fired(agent, "deploy", source="events").payload == b"here"
    assert failure(
        lambda: assert_fired(agent, "deploy", payload=b"elsewhere", source="events")
    ) == lines(
        "expected a buffered event 'deploy' with payload=b'elsewhere'",
        "agent node1 holds 1 event:",
        "  deploy  ltime=3  payload=b'here' (differs)",
        "note: agent node1 fired 1 matching event that its buffer does not hold "
        "(filtered out or evicted); source='fired' checks fired events",
    )


def test_gossiped_event_is_held_but_not_fired(agent: Agent) -> None:
    gossiped = UserEvent(id="00000000-0000-0000-0000-000000000001", name="deploy")
    agent.deliver(SerfUserEvent(7, gossiped))
    assert assert_fired(agent, "deploy", source="events").ltime == 7
    assert failure(lambda: assert_fired(agent, "deploy")) == lines(
        "expected a fired event 'deploy'",
        "agent node1 fired no events",
        "note: agent node1 holds 1 matching event it did not fire (received by gossip); "
        "source='events' checks held events",
    )


# -- assert_fired: messages ------------------------------------------------------------------------


def test_message_ranks_same_name_then_matching_fields_then_name_similarity(agent: Agent) -> None:
    agent.fire("build", b"v2", service="web")
    agent.fire("deploy-canary", b"v2", service="web")
    agent.fire("deploy", b"v1")
    agent.fire("deploy", b"v1", service="web")
    message = failure(lambda: assert_fired(agent, "deploy", payload=b"v2", service="web"))
    assert message == lines(
        "expected a fired event 'deploy' with payload=b'v2', service='web'",
        "agent node1 fired 4 events; closest first:",
        "  deploy  ltime=5  payload=b'v1' (differs)  service='web'",
        "  deploy  ltime=4  payload=b'v1' (differs)  service='' (differs)",
        "  deploy-canary (differs)  ltime=3  payload=b'v2'  service='web'",
        "  build (differs)  ltime=2  payload=b'v2'  service='web'",
    )


def test_message_of_an_agent_without_events(agent: Agent) -> None:
    assert failure(lambda: assert_fired(agent, "deploy", node="node1")) == lines(
        "expected a fired event 'deploy' with node='node1'",
        "agent node1 fired no events",
    )


def test_message_of_json_mismatch_shows_decoded_values(agent: Agent) -> None:
    agent.fire("deploy", b'{"version": 1, "env": "prod"}')
    agent.fire("deploy", b"v2")
    agent.fire("deploy")
    assert failure(lambda: assert_fired(agent, "deploy", json={"version": 2})) == lines(
        "expected a fired event 'deploy' with json={\"version\": 2}",
        "agent node1 fired 3 events; closest first:",
        '  deploy  ltime=2  json={"env": "prod", "version": 1} (differs)',
        "  deploy  ltime=3  payload=b'v2' (differs: not JSON)",
        "  deploy  ltime=4  payload=None (differs: no payload)",
    )


def test_message_of_predicates_names_them_and_says_when_they_raised(agent: Agent) -> None:
    agent.fire("deploy")
    agent.fire("deploy", b"v1", service="db")

    def is_v2(payload: bytes) -> bool:
        return payload.startswith(b"v2")

    message = failure(
        lambda: assert_fired(
            agent,
            "deploy",
            payload=is_v2,  # type: ignore[arg-type]
            service=lambda name: name == "web",
        )
    )
    assert message == lines(
        "expected a fired event 'deploy' with payload=<is_v2>, service=<lambda>",
        "agent node1 fired 2 events; closest first:",
        "  deploy  ltime=2  payload=None (differs: <is_v2> raised AttributeError: "
        "'NoneType' object has no attribute 'startswith')  service='' (differs)",
        "  deploy  ltime=3  payload=b'v1' (differs)  service='db' (differs)",
    )


def test_message_with_a_str_payload_shows_text_and_cuts_long_payloads(agent: Agent) -> None:
    agent.fire("deploy", "x" * 100)
    agent.fire("deploy", b"\xff")
    message = failure(lambda: assert_fired(agent, "deploy", payload="y" * 41))
    assert message == lines(
        f"expected a fired event 'deploy' with payload='{'y' * 40}'... (41 chars)",
        "agent node1 fired 2 events; closest first:",
        f"  deploy  ltime=2  payload='{'x' * 40}'... (100 chars) (differs)",
        "  deploy  ltime=3  payload=b'\\xff' (differs)",
    )


def test_message_shows_unconstrained_fields_and_json_payloads(agent: Agent) -> None:
    agent.fire("deploy", b'{"b": [1, 2], "a": "x"}', node="node1", service="web", tag="v1")
    assert failure(lambda: assert_fired(agent, "deploy-all")) == lines(
        "expected a fired event 'deploy-all'",
        "agent node1 fired 1 event:",
        '  deploy (differs)  ltime=2  json={"a": "x", "b": [1, 2]}  node=\'node1\'  '
        "service='web'  tag='v1'",
    )


def test_message_lists_at_most_ten_candidates(agent: Agent) -> None:
    for number in range(12):
        agent.fire(f"event-{number}")
    message = failure(lambda: assert_fired(agent, "event-x"))
    assert message.splitlines()[-1] == "  ... and 2 more"
    assert len(message.splitlines()) == 2 + 10 + 1


# -- assert_not_fired ------------------------------------------------------------------------------


def test_assert_not_fired_passes_when_nothing_matches(agent: Agent) -> None:
    agent.fire("deploy", b"v1")
    assert_not_fired(agent, "rollback")
    assert_not_fired(agent, "deploy", payload=b"v2")
    assert_not_fired(agent, service="web")
    assert_not_fired(Agent())


def test_assert_not_fired_lists_the_matching_events(agent: Agent) -> None:
    agent.fire("deploy", b"v1")
    agent.fire("build")
    agent.fire("deploy", b"v2", service="web")
    assert failure(lambda: assert_not_fired(agent, "deploy", service="web")) == lines(
        "expected no fired event 'deploy' with service='web'",
        "agent node1 fired 3 events, 1 matching:",
        "  deploy  ltime=4  payload=b'v2'  service='web'",
    )
    assert failure(lambda: assert_not_fired(agent)) == lines(
        "expected no fired events",
        "agent node1 fired 3 events:",
        "  deploy  ltime=2  payload=b'v1'",
        "  build  ltime=3",
        "  deploy  ltime=4  payload=b'v2'  service='web'",
    )


def test_assert_not_fired_on_the_buffer(agent: Agent) -> None:
    agent.fire("deploy", node="node2")
    assert_not_fired(agent, "deploy", source="events")
    assert failure(lambda: assert_not_fired(agent, source="fired")).startswith(
        "expected no fired events\n"
    )


# -- assert_fired_in_order -------------------------------------------------------------------------


def test_in_order_accepts_a_subsequence_and_returns_the_earliest_matches(agent: Agent) -> None:
    agent.fire("build")
    agent.fire("deploy", b"v1")
    agent.fire("test")
    agent.fire("deploy", b"v2")
    agent.fire("deploy", b"v3")
    found = assert_fired_in_order(agent, ["build", "test", EventMatcher("deploy")])
    assert [(event.name, event.ltime) for event in found] == [
        ("build", 2),
        ("test", 4),
        ("deploy", 5),
    ]
    assert assert_fired_in_order(agent, []) == []
    assert len(assert_fired_in_order(agent, ("deploy", "deploy", "deploy"))) == 3


def test_in_order_message_numbers_the_matched_events(agent: Agent) -> None:
    agent.fire("build")
    agent.fire("deploy", b"v2")
    agent.fire("test")
    agent.fire("deploy", b"v1")
    message = failure(
        lambda: assert_fired_in_order(
            agent, ["build", "test", EventMatcher("deploy", payload=b"v2")]
        )
    )
    assert message == lines(
        "expected fired events in this order: 'build', 'test', 'deploy' with payload=b'v2'",
        "found 'build' (#1) and 'test' (#2), but no 'deploy' with payload=b'v2' after them",
        "note: 'deploy' with payload=b'v2' occurred before #2, at ltime 3",
        "agent node1 fired 4 events, in order:",
        "  #1  build  ltime=2",
        "      deploy  ltime=3  payload=b'v2'",
        "  #2  test  ltime=4",
        "      deploy  ltime=5  payload=b'v1' (differs)",
    )


def test_in_order_message_when_the_first_is_missing(agent: Agent) -> None:
    agent.fire("deploy")
    assert failure(lambda: assert_fired_in_order(agent, ["build", "deploy"])) == lines(
        "expected fired events in this order: 'build', 'deploy'",
        "found no 'build'",
        "agent node1 fired 1 event, in order:",
        "      deploy  ltime=2",
    )


def test_in_order_on_the_buffer(agent: Agent) -> None:
    agent.fire("build")
    agent.fire("deploy", node="node2")  # not held here
    agent.fire("test")
    assert_fired_in_order(agent, ["build", "deploy", "test"])
    message = failure(lambda: assert_fired_in_order(agent, ["build", "deploy"], source="events"))
    assert message.splitlines()[:2] == [
        "expected buffered events in this order: 'build', 'deploy'",
        "found 'build' (#1), but no 'deploy' after it",
    ]


def test_in_order_rejects_a_bare_name(agent: Agent) -> None:
    with pytest.raises(TypeError):
        assert_fired_in_order(agent, "deploy")
    with pytest.raises(TypeError):
        assert_fired_in_order(agent, [b"deploy"])  # type: ignore[list-item]


# -- wait_for_event --------------------------------------------------------------------------------


def test_wait_returns_at_once_when_the_event_is_there(agent: Agent) -> None:
    agent.fire("deploy", b"v1")
    assert wait_for_event(agent, "deploy", timeout=0).payload == b"v1"


def test_wait_is_woken_by_an_event_fired_from_another_thread(agent: Agent) -> None:
    agent.fire("deploy", b"old")
    first_look = threading.Event()
    looks: list[bytes | None] = []

    def is_new(payload: bytes | None) -> bool:
        looks.append(payload)
        first_look.set()
        return payload == b"new"

    def fire_once_waiting() -> None:
        first_look.wait()
        # The waiter holds the agent's lock while it looks, so this fire lands only once it
        # waits on the condition: it must be woken by the notification.
        agent.fire("deploy", b"new")

    thread = threading.Thread(target=fire_once_waiting)
    thread.start()
    try:
        found = wait_for_event(agent, "deploy", payload=is_new, timeout=30)
    finally:
        thread.join()
    assert (found.payload, found.ltime) == (b"new", 3)
    assert looks == [b"old", b"old", b"new"]  # two looks: before waiting, and once woken


def test_wait_for_a_fired_event_from_a_timer(agent: Agent) -> None:
    timer = threading.Timer(0.05, agent.fire, args=("deploy", b"v1"), kwargs={"node": "node2"})
    timer.start()
    try:
        # Kept out of this agent's buffer by its filter, so only `fired` will ever show it.
        found = wait_for_event(agent, "deploy", source="fired", timeout=30)
    finally:
        timer.cancel()
        timer.join()
    assert (found.payload, found.node_filter) == (b"v1", "node2")


def test_wait_times_out_with_the_explanatory_message(agent: Agent) -> None:
    agent.fire("deploy", b"v1")
    message = failure(lambda: wait_for_event(agent, "deploy", payload=b"v2", timeout=0.05))
    assert message == lines(
        "expected a buffered event 'deploy' with payload=b'v2' within 0.05s",
        "agent node1 holds 1 event:",
        "  deploy  ltime=2  payload=b'v1' (differs)",
    )


def test_wait_timeout_mentions_events_kept_out_of_the_buffer(agent: Agent) -> None:
    agent.fire("deploy", node="node2")
    assert failure(lambda: wait_for_event(agent, "deploy", timeout=0)) == lines(
        "expected a buffered event 'deploy' within 0s",
        "agent node1 holds no events",
        "note: agent node1 fired 1 matching event that its buffer does not hold "
        "(filtered out or evicted); source='fired' checks fired events",
    )


def test_evicted_event_is_reported_as_out_of_the_buffer() -> None:
    agent = Agent(seed=SEED, buffer_size=1)
    agent.fire("deploy")
    agent.fire("build")
    message = failure(lambda: assert_fired(agent, "deploy", source="events"))
    assert "holds 1 event:\n  build (differs)  ltime=3\nnote: agent node1 fired 1" in message


@pytest.fixture
def fake() -> Iterator[FakeConsulAgent]:
    with FakeConsulAgent(seed=SEED) as agent:
        yield agent


def test_wait_for_an_event_fired_over_http_by_another_process(fake: FakeConsulAgent) -> None:
    code = (
        "import sys, urllib.request; urllib.request.urlopen(urllib.request.Request("
        "sys.argv[1] + '/v1/event/fire/deploy', data=b'v9', method='PUT')).read()"
    )
    process = subprocess.Popen([sys.executable, "-c", code, fake.url])
    try:
        found = wait_for_event(fake, "deploy", payload=b"v9", timeout=30)
    finally:
        assert process.wait(timeout=30) == 0
    assert found.payload == b"v9"
    assert assert_fired(fake, "deploy", payload="v9").id == found.id


# -- misuse ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda a: assert_fired(a, "deploy", payload=b"x", json={}), TypeError),
        (lambda a: assert_fired(a, "deploy", payload=1), TypeError),  # type: ignore[call-overload]
        (lambda a: assert_fired(a, "deploy", service=1), TypeError),  # type: ignore[call-overload]
        (lambda a: assert_fired(a, ""), ValueError),
        (lambda a: assert_fired(a, "deploy", source="buffer"), ValueError),  # type: ignore[call-overload]
        (lambda a: assert_fired(a, "deploy", count=-1), ValueError),
        (lambda a: assert_fired(a, "deploy", count=True), TypeError),
        (lambda a: assert_not_fired(a, source="all"), ValueError),  # type: ignore[arg-type]
        (lambda a: wait_for_event(a, "deploy", timeout=-1), ValueError),
        (lambda a: wait_for_event(a, "deploy", timeout=float("inf")), ValueError),
    ],
)
def test_misuse_raises_type_or_value_error(
    agent: Agent, call: Callable[[Agent], object], error: type[Exception]
) -> None:
    agent.fire("deploy")
    with pytest.raises(error):
        call(agent)


def test_event_matcher_repr_describes_it() -> None:
    assert repr(EventMatcher("deploy", json=[1], tag="v1")) == (
        "EventMatcher('deploy' with json=[1], tag='v1')"
    )
    assert repr(EventMatcher()) == "EventMatcher(any event)"
    assert repr(EventMatcher("deploy", json=None, node=None, payload=ANY)) == (
        "EventMatcher('deploy' with json=null, node='')"
    )


def test_event_matcher_matches_an_event() -> None:
    event = UserEvent(id="00000000-0000-0000-0000-000000000001", name="deploy", payload=b"[1]")
    assert EventMatcher("deploy", json=[1], node="").matches(event)
    assert not EventMatcher("deploy", payload=b"[2]").matches(event)
    assert EventMatcher(payload=lambda p: p == b"[1]").matches(event)


# -- in a user's test suite ------------------------------------------------------------------------


def test_pytest_hides_the_helper_frames(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(
        """
        from pytest_consul_events.assertions import assert_fired
        from pytest_consul_events.model.agent import Agent

        def test_deploy():
            agent = Agent()
            agent.fire("deploy", b"v1")
            assert_fired(agent, "deploy", payload=b"v2")
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E       AssertionError: expected a fired event 'deploy' with payload=b'v2'",
            "E       agent node1 fired 1 event:",
            "E         deploy  ltime=2  payload=b'v1' (differs)",
        ]
    )
    assert "assertions.py" not in result.stdout.str()
