"""The agent: fire, ingest, list, blocking queries, reset, seeds and configuration."""

from __future__ import annotations

import dataclasses
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from pytest_consul_events import messages
from pytest_consul_events.errors import (
    ConsulError,
    EventTooLargeError,
    InvalidFilterError,
    MissingNameError,
    NoPathToDatacenterError,
)
from pytest_consul_events.model.agent import (
    AGENT_OPTIONS,
    MAX_QUERY_TIME,
    Agent,
    AgentConfig,
    EventListing,
)
from pytest_consul_events.model.event import UserEvent, id_to_index
from pytest_consul_events.model.serf import SerfUserEvent
from pytest_consul_events.model.services import Service

GO_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SEED = 1234
LONG_WAIT = 30.0  # a blocking query that must be woken long before this
SHORT_WAIT = 0.3  # a blocking query that must run to its timeout

_IDLE = threading.Event()  # never set: its wait() is the polling interval


def _wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``predicate`` until it holds, failing the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"condition not reached within {timeout} s")
        _IDLE.wait(0.001)


@pytest.fixture
def agent() -> Agent:
    return Agent(seed=SEED)


@pytest.fixture
def background(agent: Agent) -> Iterator[ThreadPoolExecutor]:
    executor = ThreadPoolExecutor(max_workers=2)
    yield executor
    agent.wake_all()  # never leave a query blocked if the test failed
    executor.shutdown(wait=True)


def _list_blocked(
    executor: ThreadPoolExecutor, agent: Agent, **kwargs: object
) -> Future[EventListing]:
    """Start a list query in the background and return once it is blocked."""
    future = executor.submit(agent.list_events, **kwargs)  # type: ignore[arg-type]
    _wait_for(lambda: agent.blocked_queries == 1 or future.done())
    assert not future.done(), "the query returned instead of blocking"
    return future


# -- fire ------------------------------------------------------------------------------------------


def test_fire_returns_event_with_ltime_0_and_version_1(agent: Agent) -> None:
    event = agent.fire("deploy")
    assert (event.ltime, event.version) == (0, 1)


def test_fire_returns_a_go_uuid_id(agent: Agent) -> None:
    assert GO_UUID.fullmatch(agent.fire("deploy").id)


def test_fire_echoes_name_payload_and_filters(agent: Agent) -> None:
    event = agent.fire("deploy", b"v2", node="node", service="web", tag="v1")
    assert dataclasses.replace(event, id="") == UserEvent(
        id="",
        name="deploy",
        payload=b"v2",
        node_filter="node",
        service_filter="web",
        tag_filter="v1",
        version=1,
        ltime=0,
    )


def test_fire_without_filters_has_empty_filter_strings(agent: Agent) -> None:
    event = agent.fire("deploy", node=None, service=None, tag=None)
    assert (event.node_filter, event.service_filter, event.tag_filter) == ("", "", "")


def test_fired_event_is_stored_with_its_ltime(agent: Agent) -> None:
    event = agent.fire("deploy", b"x")
    assert agent.events == [dataclasses.replace(event, ltime=2)]


def test_sequential_fires_are_stored_with_ltime_2_3_4(agent: Agent) -> None:
    for name in ("a", "b", "c", "d"):
        agent.fire(name)
    assert [(event.name, event.ltime) for event in agent.events] == [
        ("a", 2),
        ("b", 3),
        ("c", 4),
        ("d", 5),
    ]


def test_fired_records_each_fire_with_its_ltime(agent: Agent) -> None:
    first = agent.fire("a")
    second = agent.fire("b")
    assert agent.fired == [
        dataclasses.replace(first, ltime=2),
        dataclasses.replace(second, ltime=3),
    ]


def test_fired_includes_events_filtered_out_of_own_buffer(agent: Agent) -> None:
    event = agent.fire("deploy", node="^other-node$")
    assert agent.events == []
    assert agent.fired == [dataclasses.replace(event, ltime=2)]


def test_filtered_out_fire_still_consumes_a_lamport_tick(agent: Agent) -> None:
    agent.fire("hidden", node="^other-node$")
    agent.fire("shown")
    assert [event.ltime for event in agent.events] == [3]


def test_fired_is_not_limited_by_the_buffer_size() -> None:
    agent = Agent(seed=SEED, buffer_size=2)
    for name in ("a", "b", "c"):
        agent.fire(name)
    assert [event.name for event in agent.fired] == ["a", "b", "c"]
    assert [event.name for event in agent.events] == ["b", "c"]


def test_rexec_is_never_stored(agent: Agent) -> None:
    agent.fire("_rexec", b"{}")
    assert agent.events == []
    assert [event.name for event in agent.fired] == ["_rexec"]


def test_rexec_consumes_a_lamport_tick(agent: Agent) -> None:
    agent.fire("_rexec")
    agent.fire("deploy")
    assert [event.ltime for event in agent.events] == [3]


def test_other_underscore_names_are_stored(agent: Agent) -> None:
    agent.fire("_rexec2")
    agent.fire("_private")
    assert [event.name for event in agent.events] == ["_rexec2", "_private"]


@pytest.mark.parametrize("payload", ["", b"", None])
def test_empty_payload_is_none(agent: Agent, payload: str | bytes | None) -> None:
    assert agent.fire("deploy", payload).payload is None
    assert agent.events[0].payload is None


def test_str_payload_is_encoded_as_utf8(agent: Agent) -> None:
    assert agent.fire("deploy", "héllo ✓").payload == "héllo ✓".encode()


def test_bytes_payload_is_kept_as_is(agent: Agent) -> None:
    assert agent.fire("deploy", b"\x00\xff").payload == b"\x00\xff"


def test_empty_name_is_missing_name(agent: Agent) -> None:
    with pytest.raises(MissingNameError) as info:
        agent.fire("")
    assert info.value.message == messages.MISSING_NAME == "Missing name"


def test_name_with_slash_and_spaces_is_kept(agent: Agent) -> None:
    agent.fire("grp/deploy now")
    assert agent.events[0].name == "grp/deploy now"


def test_unknown_dc_is_no_path_to_datacenter(agent: Agent) -> None:
    with pytest.raises(NoPathToDatacenterError) as info:
        agent.fire("deploy", dc="dc2")
    assert isinstance(info.value, ConsulError)
    assert info.value.message == messages.NO_PATH_TO_DATACENTER == "No path to datacenter"


def test_dc_is_case_sensitive(agent: Agent) -> None:
    with pytest.raises(NoPathToDatacenterError):
        agent.fire("deploy", dc="DC1")


@pytest.mark.parametrize("dc", ["dc1", "", None])
def test_own_or_no_dc_fires(agent: Agent, dc: str | None) -> None:
    agent.fire("deploy", dc=dc)
    assert len(agent.events) == 1


def test_configured_datacenter_is_the_local_one() -> None:
    agent = Agent(seed=SEED, datacenter="east")
    agent.fire("deploy", dc="east")
    with pytest.raises(NoPathToDatacenterError):
        agent.fire("deploy", dc="dc1")


def test_failed_fire_stores_nothing_and_keeps_the_clock(agent: Agent) -> None:
    with pytest.raises(NoPathToDatacenterError):
        agent.fire("deploy", dc="dc2")
    with pytest.raises(InvalidFilterError):
        agent.fire("deploy", node="(")
    with pytest.raises(EventTooLargeError):
        agent.fire("deploy", b"x" * 500)
    assert (agent.events, agent.fired) == ([], [])
    agent.fire("deploy")
    assert agent.events[0].ltime == 2


def test_oversized_fire_gives_serfs_text(agent: Agent) -> None:
    with pytest.raises(EventTooLargeError) as info:
        agent.fire("deploy", b"x" * 435)
    assert info.value.message == (
        "error broadcasting event: user event exceeds configured limit of 512 bytes before encoding"
    )


def test_largest_payload_for_deploy_on_a_fresh_agent_is_404(agent: Agent) -> None:
    agent.fire("deploy", b"x" * 404)
    with pytest.raises(EventTooLargeError):
        agent.fire("deploy", b"x" * 405)


def test_size_limit_counts_utf8_bytes_of_name_and_str_payload(agent: Agent) -> None:
    # "ééé" is 6 bytes like "deploy"; 202 "é" are 404 bytes of payload.
    agent.fire("ééé", "é" * 202)
    with pytest.raises(EventTooLargeError):
        agent.fire("ééé", "é" * 202 + "x")


def test_missing_name_beats_validation_errors(agent: Agent) -> None:
    with pytest.raises(MissingNameError):
        agent.fire("", tag="v1", dc="dc2")


def test_validation_error_beats_dc_error(agent: Agent) -> None:
    with pytest.raises(InvalidFilterError) as info:
        agent.fire("deploy", node="(", dc="dc2")
    assert info.value.message == (
        "Invalid node filter: error parsing regexp: missing closing ): `(`"
    )


def test_tag_without_service_beats_dc_error(agent: Agent) -> None:
    with pytest.raises(InvalidFilterError) as info:
        agent.fire("deploy", tag="v1", dc="dc2")
    assert info.value.message == messages.TAG_WITHOUT_SERVICE


def test_dc_error_beats_size_error(agent: Agent) -> None:
    with pytest.raises(NoPathToDatacenterError):
        agent.fire("deploy", b"x" * 1000, dc="dc2")


def test_validation_error_beats_size_error(agent: Agent) -> None:
    with pytest.raises(InvalidFilterError):
        agent.fire("deploy", b"x" * 1000, service="[")


# -- ingest filters on the firing agent ------------------------------------------------------------


def test_node_filter_matching_own_node_is_stored(agent: Agent) -> None:
    agent.fire("deploy", node="node")  # unanchored: matches "node1"
    assert len(agent.events) == 1


def test_node_filter_for_another_node_is_not_stored(agent: Agent) -> None:
    agent.fire("deploy", node="^node2$")
    assert agent.events == []


def test_node_filter_uses_configured_node_name() -> None:
    agent = Agent(seed=SEED, node_name="web-01")
    agent.fire("deploy", node="^web")
    assert len(agent.events) == 1


def test_service_filter_without_local_services_is_never_stored(agent: Agent) -> None:
    agent.fire("deploy", service=".*")
    assert agent.events == []


def test_service_filter_matches_registered_service_id(agent: Agent) -> None:
    agent.register_service("web", service_id="web-1")
    agent.fire("deploy", service="^web-1$")
    assert len(agent.events) == 1


def test_service_filter_does_not_match_service_name(agent: Agent) -> None:
    agent.register_service("web", service_id="frontend")
    agent.fire("deploy", service="^web$")
    assert agent.events == []


def test_tag_filter_checks_only_tags_of_matched_services(agent: Agent) -> None:
    agent.register_service("web", tags=["v1"])
    agent.register_service("db", tags=["v2"])
    agent.fire("deploy", service="^web$", tag="v2")
    agent.fire("deploy", service="^web$", tag="v1")
    assert [event.tag_filter for event in agent.events] == ["v1"]


def test_services_from_config_are_matched() -> None:
    agent = Agent(seed=SEED, services=[{"name": "web", "tags": ["v1"]}])
    agent.fire("deploy", service="web", tag="v1")
    assert len(agent.events) == 1


def test_stored_event_keeps_its_filters(agent: Agent) -> None:
    agent.register_service("web", tags=["v1"])
    agent.fire("deploy", node="node1", service="web", tag="v1")
    stored = agent.events[0]
    assert (stored.node_filter, stored.service_filter, stored.tag_filter) == ("node1", "web", "v1")


def test_deliver_of_filtered_out_event_returns_none(agent: Agent) -> None:
    event = UserEvent(id="00000000-0000-0000-0000-000000000001", name="x", node_filter="^no$")
    assert agent.deliver(SerfUserEvent(9, event)) is None
    assert agent.events == []


def test_gossiped_event_with_invalid_filter_is_dropped(agent: Agent) -> None:
    event = UserEvent(id="00000000-0000-0000-0000-000000000001", name="x", node_filter="(")
    assert agent.deliver(SerfUserEvent(9, event)) is None
    assert agent.events == []


def test_gossiped_event_with_tag_but_no_service_filter_ignores_the_tag(agent: Agent) -> None:
    event = UserEvent(id="00000000-0000-0000-0000-000000000001", name="x", tag_filter="v1")
    agent.deliver(SerfUserEvent(9, event))
    assert agent.events == [dataclasses.replace(event, ltime=9)]


# -- list ------------------------------------------------------------------------------------------


def test_list_of_empty_agent_is_empty_with_index_1(agent: Agent) -> None:
    assert agent.list_events() == EventListing([], 1, False)


def test_list_is_oldest_first(agent: Agent) -> None:
    for name in ("c", "a", "b"):
        agent.fire(name)
    assert [event.name for event in agent.list_events().events] == ["c", "a", "b"]


def test_list_index_is_xor_index_of_last_event(agent: Agent) -> None:
    agent.fire("a")
    last = agent.fire("b")
    assert agent.list_events().index == id_to_index(last.id) == last.index


def test_list_filters_by_exact_name(agent: Agent) -> None:
    for name in ("deploy", "deploy2", "deplo", "deploy"):
        agent.fire(name)
    listing = agent.list_events("deploy")
    assert [event.name for event in listing.events] == ["deploy", "deploy"]


def test_list_name_filter_is_case_sensitive(agent: Agent) -> None:
    agent.fire("Deploy")
    assert agent.list_events("deploy").events == []


def test_list_index_follows_last_event_with_the_name(agent: Agent) -> None:
    wanted = agent.fire("deploy")
    agent.fire("other")
    assert agent.list_events("deploy").index == id_to_index(wanted.id)


def test_list_with_no_event_of_the_name_has_index_1(agent: Agent) -> None:
    agent.fire("other")
    assert agent.list_events("deploy") == EventListing([], 1, False)


def test_list_is_not_marked_filtered_by_acls_without_acls(agent: Agent) -> None:
    agent.fire("deploy")
    assert agent.list_events(token="some-token").filtered_by_acls is False


def test_list_ignores_the_token_without_acls(agent: Agent) -> None:
    agent.fire("deploy")
    assert agent.list_events(token="anything") == agent.list_events()


def test_buffer_size_option_keeps_only_the_newest_events() -> None:
    agent = Agent(seed=SEED, buffer_size=3)
    for name in ("a", "b", "c", "d"):
        agent.fire(name)
    assert [event.name for event in agent.list_events().events] == ["b", "c", "d"]


def test_257th_event_evicts_the_oldest(agent: Agent) -> None:
    for number in range(257):
        agent.fire(f"e{number}")
    names = [event.name for event in agent.list_events().events]
    assert len(names) == 256
    assert (names[0], names[-1]) == ("e1", "e256")


# -- blocking --------------------------------------------------------------------------------------


def test_max_query_time_is_ten_minutes() -> None:
    assert MAX_QUERY_TIME == 600.0


def test_index_0_returns_at_once(agent: Agent) -> None:
    agent.fire("deploy")
    start = time.monotonic()
    listing = agent.list_events(index=0, wait=LONG_WAIT)
    assert time.monotonic() - start < 1.0
    assert len(listing.events) == 1


@pytest.mark.parametrize("offset", [1, -1])
def test_index_other_than_current_returns_at_once(agent: Agent, offset: int) -> None:
    current = agent.fire("deploy").index
    start = time.monotonic()
    listing = agent.list_events(index=current + offset, wait=LONG_WAIT)
    assert time.monotonic() - start < 1.0
    assert listing.index == current


def test_current_index_blocks_until_a_new_event(
    agent: Agent, background: ThreadPoolExecutor
) -> None:
    current = agent.fire("a").index
    future = _list_blocked(background, agent, index=current, wait=LONG_WAIT)
    new = agent.fire("b")
    listing = future.result(timeout=5)
    assert [event.name for event in listing.events] == ["a", "b"]
    assert listing.index == new.index


def test_index_1_blocks_on_an_empty_agent(agent: Agent, background: ThreadPoolExecutor) -> None:
    future = _list_blocked(background, agent, index=1, wait=LONG_WAIT)
    first = agent.fire("a")
    assert future.result(timeout=5).index == first.index


def test_blocked_query_is_counted_while_blocked(
    agent: Agent, background: ThreadPoolExecutor
) -> None:
    future = _list_blocked(background, agent, index=1, wait=LONG_WAIT)
    assert agent.blocked_queries == 1
    agent.fire("a")
    future.result(timeout=5)
    assert agent.blocked_queries == 0


def test_blocked_query_times_out_after_wait(agent: Agent) -> None:
    current = agent.fire("a").index
    start = time.monotonic()
    listing = agent.list_events(index=current, wait=SHORT_WAIT)
    elapsed = time.monotonic() - start
    assert SHORT_WAIT <= elapsed < SHORT_WAIT + 2.0
    assert listing.index == current
    assert agent.blocked_queries == 0


def test_blocked_query_keeps_waiting_when_new_event_leaves_index_unchanged(
    agent: Agent, background: ThreadPoolExecutor
) -> None:
    current = agent.fire("a").index
    start = time.monotonic()
    future = _list_blocked(background, agent, name="a", index=current, wait=SHORT_WAIT)
    agent.fire("b")  # stored and notified, but the list of "a" keeps its index
    listing = future.result(timeout=5)
    assert time.monotonic() - start >= SHORT_WAIT
    assert ([event.name for event in listing.events], listing.index) == (["a"], current)


def test_blocked_query_keeps_waiting_when_new_event_is_not_stored(
    agent: Agent, background: ThreadPoolExecutor
) -> None:
    current = agent.fire("a").index
    start = time.monotonic()
    future = _list_blocked(background, agent, index=current, wait=SHORT_WAIT)
    agent.fire("b", node="^other-node$")
    listing = future.result(timeout=5)
    assert time.monotonic() - start >= SHORT_WAIT
    assert listing.index == current


def test_blocked_query_returns_on_a_later_matching_event(
    agent: Agent, background: ThreadPoolExecutor
) -> None:
    current = agent.fire("a").index
    future = _list_blocked(background, agent, name="a", index=current, wait=LONG_WAIT)
    agent.fire("b")
    agent.fire("a")
    listing = future.result(timeout=5)
    assert [event.name for event in listing.events] == ["a", "a"]


def test_wait_0_blocks_with_the_default_wait(agent: Agent, background: ThreadPoolExecutor) -> None:
    current = agent.fire("a").index
    future = _list_blocked(background, agent, index=current, wait=0)
    agent.fire("b")
    assert len(future.result(timeout=5).events) == 2


def test_negative_wait_over_http_rules_blocks_until_a_new_event(
    agent: Agent, background: ThreadPoolExecutor
) -> None:
    current = agent.fire("a").index
    future = background.submit(agent.serve_list_events, index=current, wait=-5)
    agent.wait_for_blocked(1)
    agent.fire("b")
    assert len(future.result(timeout=5).events) == 2


def test_negative_wait_from_python_is_refused(agent: Agent) -> None:
    current = agent.fire("a").index
    with pytest.raises(ValueError) as info:
        agent.list_events(index=current, wait=-5)
    assert str(info.value) == "wait must be a finite number of seconds >= 0, not -5 (int)"


def test_reset_answers_blocked_query_at_once(agent: Agent, background: ThreadPoolExecutor) -> None:
    current = agent.fire("a").index
    future = _list_blocked(background, agent, index=current, wait=LONG_WAIT)
    agent.reset()
    assert future.result(timeout=5) == EventListing([], 1, False)


def test_reset_answers_a_query_blocked_on_the_empty_index(
    agent: Agent, background: ThreadPoolExecutor
) -> None:
    # The emptied agent's index is 1 again, so only the reset itself can end this query.
    future = _list_blocked(background, agent, index=1, wait=LONG_WAIT)
    agent.reset()
    assert future.result(timeout=5) == EventListing([], 1, False)


def test_wake_all_answers_blocked_query_with_current_state(
    agent: Agent, background: ThreadPoolExecutor
) -> None:
    current = agent.fire("a").index
    future = _list_blocked(background, agent, index=current, wait=LONG_WAIT)
    agent.wake_all()
    listing = future.result(timeout=5)
    assert ([event.name for event in listing.events], listing.index) == (["a"], current)


def test_every_blocked_query_is_woken(agent: Agent, background: ThreadPoolExecutor) -> None:
    current = agent.fire("a").index
    futures = [background.submit(agent.list_events, index=current, wait=LONG_WAIT) for _ in "xy"]
    _wait_for(lambda: agent.blocked_queries == 2)
    agent.fire("b")
    assert [len(future.result(timeout=5).events) for future in futures] == [2, 2]


# -- reset -----------------------------------------------------------------------------------------


def test_reset_forgets_events_and_fires(agent: Agent) -> None:
    agent.fire("a")
    agent.reset()
    assert (agent.events, agent.fired) == ([], [])


def test_reset_restarts_the_clock(agent: Agent) -> None:
    agent.fire("a")
    agent.fire("b")
    agent.reset()
    agent.fire("c")
    assert agent.events[0].ltime == 2


def test_reset_restores_configured_services() -> None:
    agent = Agent(seed=SEED, services=["web"])
    agent.register_service("db")
    agent.deregister_service("web")
    agent.reset()
    assert list(agent.services) == ["web"]


def test_reset_applies_a_new_config(agent: Agent) -> None:
    agent.reset(AgentConfig.build(node_name="node9", buffer_size=1))
    agent.fire("a")
    agent.fire("b", node="^node9$")
    assert (agent.node_name, [event.name for event in agent.events]) == ("node9", ["b"])


def test_reset_of_seeded_agent_replays_the_same_ids(agent: Agent) -> None:
    first = agent.fire("a").id
    agent.reset()
    assert agent.fire("a").id == first


# -- seeds -----------------------------------------------------------------------------------------


def test_seeded_agents_produce_identical_ids() -> None:
    one, two = Agent(seed=99), Agent(seed=99)
    assert [one.fire("a").id for _ in range(5)] == [two.fire("a").id for _ in range(5)]


def test_seeded_agents_have_identical_node_ids() -> None:
    assert Agent(seed=99).node_id == Agent(seed=99).node_id


def test_node_id_is_a_go_uuid(agent: Agent) -> None:
    assert GO_UUID.fullmatch(agent.node_id)


def test_agents_with_different_seeds_differ() -> None:
    assert Agent(seed=1).fire("a").id != Agent(seed=2).fire("a").id


def test_unseeded_agent_draws_a_seed_that_replays_it() -> None:
    agent = Agent()
    assert isinstance(agent.seed, int)
    ids = [agent.fire("a").id for _ in range(3)]
    replay = Agent(seed=agent.seed)
    assert [replay.fire("a").id for _ in range(3)] == ids


# -- configuration ---------------------------------------------------------------------------------


def test_config_defaults() -> None:
    assert AgentConfig.build() == AgentConfig(
        node_name="node1",
        datacenter="dc1",
        services=(),
        buffer_size=256,
        seed=None,
        dev_mode=False,
    )


def test_agent_exposes_node_name_datacenter_and_acl_policy() -> None:
    agent = Agent(node_name="n7", datacenter="east")
    assert (agent.node_name, agent.datacenter, agent.default_acl_policy) == ("n7", "east", "allow")


def test_build_rejects_unknown_options() -> None:
    with pytest.raises(TypeError) as info:
        AgentConfig.build(nodename="x", bogus=1)
    assert str(info.value) == (
        "unknown agent options 'bogus', 'nodename'; accepted options: "
        + ", ".join(sorted(AGENT_OPTIONS))
    )


def test_agent_rejects_unknown_options() -> None:
    with pytest.raises(TypeError, match=r"^unknown agent option 'buffer'; accepted options: acl, "):
        Agent(buffer=3)


def test_agent_rejects_config_and_options_together() -> None:
    with pytest.raises(TypeError, match=r"^pass either a config or keyword options, not both$"):
        Agent(AgentConfig.build(), seed=1)


@pytest.mark.parametrize("field", ["node_name", "datacenter"])
def test_build_rejects_empty_names(field: str) -> None:
    with pytest.raises(ValueError) as info:
        AgentConfig.build(**{field: ""})
    assert str(info.value) == f"{field} must be a non-empty str, not '' (str)"


@pytest.mark.parametrize("value", [None, 5, b"web"])
@pytest.mark.parametrize("field", ["node_name", "datacenter"])
def test_build_rejects_non_string_names(field: str, value: object) -> None:
    with pytest.raises(TypeError) as info:
        AgentConfig.build(**{field: value})
    assert (
        str(info.value)
        == f"{field} must be a non-empty str, not {value!r} ({type(value).__name__})"
    )


@pytest.mark.parametrize("value", [0, -1, 10**9 + 1])
def test_build_rejects_buffer_size_out_of_range(value: int) -> None:
    with pytest.raises(ValueError) as info:
        AgentConfig.build(buffer_size=value)
    assert str(info.value) == (
        f"buffer_size must be an int from 1 to 1000000000, not {value} (int)"
    )


@pytest.mark.parametrize("value", ["3", 2.5, True])
def test_build_rejects_non_integer_buffer_size(value: object) -> None:
    with pytest.raises(TypeError) as info:
        AgentConfig.build(buffer_size=value)
    assert str(info.value) == (
        f"buffer_size must be an int from 1 to 1000000000, not {value!r} ({type(value).__name__})"
    )


@pytest.mark.parametrize("value", ["no", 1, None])
def test_build_rejects_non_bool_dev_mode(value: object) -> None:
    with pytest.raises(TypeError) as info:
        AgentConfig.build(dev_mode=value)
    assert (
        str(info.value) == f"dev_mode must be True or False, not {value!r} ({type(value).__name__})"
    )


@pytest.mark.parametrize("value", ["7", 1.5, True])
def test_build_rejects_non_integer_seed(value: object) -> None:
    with pytest.raises(TypeError) as info:
        AgentConfig.build(seed=value)
    assert str(info.value) == (
        f"seed must be an int from 0 to 18446744073709551615 or None, not {value!r} "
        f"({type(value).__name__})"
    )


def test_build_rejects_a_single_service_name() -> None:
    with pytest.raises(TypeError) as info:
        AgentConfig.build(services="web")
    assert str(info.value) == (
        "services must be a list or tuple of services (names, dicts of service fields or "
        "Services), not 'web' (str)"
    )


def test_build_rejects_a_service_without_name() -> None:
    with pytest.raises(ValueError) as info:
        AgentConfig.build(services=[{"id": "x", "name": ""}])
    assert str(info.value) == "services[0]['name'] must be a non-empty str, not '' (str)"


def test_build_coerces_services_to_a_tuple_of_service() -> None:
    config = AgentConfig.build(
        services=["web", {"name": "db", "id": "db-1", "tags": ["v1"]}, Service(name="api")]
    )
    assert config.services == (
        Service(name="web"),
        Service(name="db", id="db-1", tags=("v1",)),
        Service(name="api"),
    )


def test_config_is_immutable() -> None:
    config = AgentConfig.build()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.node_name = "x"  # type: ignore[misc]
