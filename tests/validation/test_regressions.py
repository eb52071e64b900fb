"""Regressions of the bad inputs that used to crash a session, hang it, or damage state silently.

Each test names the old behaviour it guards against. The last ones run whole pytest sessions in
a subprocess, as a user's run would be, and check that nothing ends in an INTERNALERROR.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from pytest_consul_events.cluster import FakeConsulCluster
from pytest_consul_events.fake import FakeConsulAgent
from pytest_consul_events.model.agent import Agent, EventListing
from pytest_consul_events.model.clock import REAL_CLOCK, ManualClock, make_clock
from pytest_consul_events.validation import check_optional_bool

QUICK = 1.0  # seconds: a refusal comes at once, far below any time-out involved


@pytest.fixture
def background() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="validation-test") as pool:
        yield pool


# -- payloads ------------------------------------------------------------------------------------


def test_a_dict_payload_is_refused_so_lists_and_json_assertions_keep_working(
    consul_agent: FakeConsulAgent,
) -> None:
    # It used to be stored; the next list over HTTP killed the connection's thread and the
    # failure report crashed pytest with "unhashable type: 'slice'".
    with pytest.raises(TypeError):
        consul_agent.fire("deploy", payload={"version": "1.2"})
    consul_agent.fire("deploy", payload='{"version": "1.2"}')
    _, listed = consul_agent.client().event.list()
    assert [e["Payload"] for e in listed] == [b'{"version": "1.2"}']
    assert consul_agent.assert_fired("deploy", json={"version": "1.2"}).name == "deploy"
    assert 'payload=b\'{"version": "1.2"}\'' in consul_agent.failure_report()[1]


def test_an_unprintable_expected_json_value_still_gives_a_failure_message(
    consul_agent: FakeConsulAgent,
) -> None:
    consul_agent.fire("deploy", b"1")
    with pytest.raises(AssertionError) as info:
        consul_agent.assert_fired("deploy", json=10**5000)
    assert str(info.value).splitlines()[:2] == [
        "expected a fired event 'deploy' with json=<an int of 16610 bits>",
        "agent node1 fired 1 event:",
    ]


# -- state ---------------------------------------------------------------------------------------


def test_reset_with_something_else_than_a_config_changes_nothing(
    consul_agent: FakeConsulAgent,
) -> None:
    # reset(123) used to install 123 as the config: the next hook raised AttributeError.
    consul_agent.fire("kept")
    with pytest.raises(TypeError):
        consul_agent.reset(123)  # type: ignore[arg-type]
    assert [e.name for e in consul_agent.events] == ["kept"]
    assert consul_agent.node_name == "node1"
    assert consul_agent.failure_report()[0] == "consul agent"


@pytest.mark.consul_agent(services=["web"], seed=3)
def test_configure_with_an_invalid_option_leaves_the_agent_as_it_was(
    consul_agent: FakeConsulAgent,
) -> None:
    consul_agent.fire("kept")
    consul_agent.client().event.list()
    before = (consul_agent.config, consul_agent.events, consul_agent.services, consul_agent.clock)
    requests = len(consul_agent.requests)
    for options in (
        {"node_name": "web-1", "buffer_size": 0},
        {"clock": "manual", "tokens": {"t": ""}},
        {"acl": "deny", "tokens": {"t": 'event "x" { policy = "list" }'}},
        {"services": ["a", "a"]},
    ):
        with pytest.raises(ValueError):
            consul_agent.configure(**options)
    after = (consul_agent.config, consul_agent.events, consul_agent.services, consul_agent.clock)
    assert after == before
    assert len(consul_agent.requests) == requests


def test_configure_takes_the_clock_option() -> None:
    # configure(clock="manual") used to say that clock was unknown, though the marker takes it.
    agent = FakeConsulAgent()
    agent.configure(clock="manual")
    assert isinstance(agent.clock, ManualClock)
    mine = ManualClock()
    agent.configure(clock=mine)
    assert agent.clock is mine
    agent.configure()
    assert agent.clock is REAL_CLOCK
    agent.stop()


def test_make_clock_takes_what_the_markers_take() -> None:
    clock = ManualClock()
    assert make_clock(None) is REAL_CLOCK
    assert make_clock("real") is REAL_CLOCK
    assert make_clock(clock) is clock
    made = make_clock("manual")
    assert isinstance(made, ManualClock)
    assert made.owned_by_current_thread()


def test_the_strict_option_check_refuses_truthy_strings() -> None:
    # strict="no" used to switch strict mode on.
    assert check_optional_bool(None, "strict") is None
    assert check_optional_bool(False, "strict") is False
    with pytest.raises(TypeError) as info:
        check_optional_bool("no", "strict")
    assert str(info.value) == "strict must be True, False or None, not 'no' (str)"


# -- nothing hangs -------------------------------------------------------------------------------


def test_a_blocking_list_in_the_manual_clocks_thread_raises_at_once() -> None:
    # It used to hang for ever: nothing else could advance the clock.
    agent = Agent(clock="manual")
    current = agent.list_events().index
    started = time.monotonic()
    for wait in (1, 0, 600.0):
        with pytest.raises(RuntimeError, match=r"^list_events\(index=1, wait=\S+\) would wait"):
            agent.list_events(index=current, wait=wait)
    assert time.monotonic() - started < QUICK
    assert agent.blocked_queries == 0


def test_the_same_list_from_another_thread_blocks_until_the_clock_passes_its_deadline(
    background: ThreadPoolExecutor,
) -> None:
    agent = Agent(clock="manual")
    clock = agent.clock
    assert isinstance(clock, ManualClock)
    current = agent.list_events().index
    future = background.submit(agent.list_events, index=current, wait=5)
    agent.wait_for_blocked(1)
    clock.advance(4.9)
    assert not future.done()
    assert agent.blocked_queries == 1
    clock.advance(0.1)
    assert future.result(timeout=5) == EventListing([], 1, False)


def test_the_same_list_from_another_thread_ends_on_an_event(
    background: ThreadPoolExecutor,
) -> None:
    agent = Agent(clock="manual")
    current = agent.list_events().index
    future = background.submit(agent.list_events, index=current, wait=5)
    agent.wait_for_blocked(1)
    event = agent.fire("deploy")
    assert [e.id for e in future.result(timeout=5).events] == [event.id]


def test_a_list_that_would_not_block_is_answered_in_the_clocks_thread() -> None:
    agent = Agent(clock="manual", seed=1)
    event = agent.fire("deploy")
    assert agent.list_events(index=event.index + 1, wait=5).events[0].id == event.id
    agent.release_blocked()
    assert agent.list_events(index=event.index, wait=5).index == event.index


def test_a_manual_clock_refuses_nan_so_waits_still_time_out(
    background: ThreadPoolExecutor,
) -> None:
    # advance(nan) used to be accepted, and then no wait ever timed out.
    agent = Agent(clock="manual")
    clock = agent.clock
    assert isinstance(clock, ManualClock)
    with pytest.raises(ValueError):
        clock.advance(float("nan"))
    assert clock.now() == 0.0
    future = background.submit(agent.list_events, index=1, wait=1)
    agent.wait_for_blocked(1)
    clock.advance(1)
    assert future.result(timeout=5).index == 1


def test_a_negative_wait_from_python_is_refused_at_once() -> None:
    # list_events(index=current, wait=-5) used to block with no limit.
    agent = Agent()
    started = time.monotonic()
    with pytest.raises(ValueError):
        agent.list_events(index=1, wait=-5)
    assert time.monotonic() - started < QUICK


def test_a_client_of_an_agent_never_started_is_refused_at_once() -> None:
    # It used to wait 30 s for a read time-out.
    agent = FakeConsulAgent()
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="start\\(\\) was not called"):
        agent.client()
    assert time.monotonic() - started < QUICK
    agent.stop()


# -- nothing is damaged silently -----------------------------------------------------------------


def test_start_agent_on_a_serving_agent_keeps_its_buffer() -> None:
    # It used to restart the agent, emptying its buffer.
    with FakeConsulCluster(seed=1) as cluster:
        cluster["node1"].fire("deploy")
        with pytest.raises(RuntimeError):
            cluster.start_agent("node2")
        assert [e.name for e in cluster["node2"].events] == ["deploy"]
        cluster.stop("node2")
        assert cluster.start_agent("node2").serving
        assert cluster["node2"].events == []


def test_a_stopped_agent_cannot_be_entered_again_but_can_restart() -> None:
    # Re-entering used to give a stopped agent, and a ConnectionRefusedError later.
    with FakeConsulAgent() as agent:
        port = agent.port
    with pytest.raises(RuntimeError, match="call restart\\(\\)"), agent:
        pass
    assert not agent.serving
    with agent.restart():
        assert agent.port == port
        assert agent.client().event.fire("deploy")["Name"] == "deploy"


def test_a_cluster_cannot_be_started_again_once_closed() -> None:
    cluster = FakeConsulCluster(agents=["node1"])
    with cluster:
        pass
    with pytest.raises(RuntimeError) as info, cluster:
        pass
    assert str(info.value) == (
        "this FakeConsulCluster was closed (by close() or the end of a with block) and cannot "
        "serve again; make a new one"
    )


def test_register_service_does_not_split_a_tag_into_characters(
    consul_agent: FakeConsulAgent,
) -> None:
    with pytest.raises(TypeError):
        consul_agent.register_service("web", tags="v2")  # type: ignore[arg-type]
    assert consul_agent.services == {}


def test_unknown_agent_names_are_both_key_and_value_errors() -> None:
    with FakeConsulCluster(agents=["a", "b"]) as cluster:
        for call in (
            lambda: cluster["c"],
            lambda: cluster.stop("c"),
            lambda: cluster.release(to="c"),
            lambda: cluster.partition(["c"]),
        ):
            with pytest.raises(KeyError) as as_key:
                call()
            assert isinstance(as_key.value, ValueError)
            assert "one of 'a', 'b', not 'c' (str)" in str(as_key.value)


# -- failure reports never raise -----------------------------------------------------------------


class _Broken:
    """Stands in for an agent's internals: every use raises."""

    def __getattr__(self, name: str) -> object:
        raise RuntimeError(f"broken {name}")

    def __len__(self) -> int:
        raise RuntimeError("broken len")


def test_the_agent_report_survives_odd_states(monkeypatch: pytest.MonkeyPatch) -> None:
    agent = FakeConsulAgent(seed=1)
    assert agent.failure_report()[1].startswith("node1 [dc1] at http://127.0.0.1:")  # unstarted
    agent.start()
    agent.fire("\udcff", b"\xff" * 100)  # a name no terminal can print, a long binary payload
    agent.stop()
    title, text = agent.failure_report()
    assert title == "consul agent"
    assert "\\udcff  id=" in text
    text.encode("utf-8")  # printable as it is
    monkeypatch.setattr(agent, "_buffer", _Broken())
    monkeypatch.setattr(agent.app, "log", _Broken())
    lines = agent.failure_report()[1].splitlines()
    assert lines[1:] == [
        "(events unavailable: RuntimeError: broken snapshot)",
        "(requests unavailable: TypeError: '_Broken' object is not iterable)",
    ]


def test_the_cluster_report_survives_odd_states(monkeypatch: pytest.MonkeyPatch) -> None:
    cluster = FakeConsulCluster(seed=2)
    assert cluster.failure_report()[1].startswith("seed: 2 (replay with --consul-seed=2)")
    with cluster:
        cluster["node1"].fire("\udcff")
        cluster.stop("node3")
    text = cluster.failure_report()[1]
    assert "node3 [dc1, client, stopped, http://" in text
    assert "\\udcff" in text
    monkeypatch.setattr(cluster["node2"], "_buffer", _Broken())
    monkeypatch.setattr(cluster, "gossip", _Broken())
    lines = cluster.failure_report()[1].splitlines()
    assert lines[2] == "node2: (unavailable: RuntimeError: broken snapshot)"
    assert lines[-1] == "gossip trace: (unavailable: RuntimeError: broken trace)"
    monkeypatch.setattr(cluster, "agents", _Broken())
    assert cluster.failure_report() == (
        "consul cluster",
        "(cluster report unavailable: RuntimeError: broken items)",
    )


# -- whole sessions ------------------------------------------------------------------------------

FAILED = (
    "test_dict_payload",
    "test_reset_with_an_int",
    "test_an_unprintable_name_in_a_failing_test",
    "test_blocking_in_the_clock_thread",
    "test_a_cluster_agent_stopped_then_a_failure",
)
ERRORS = (
    "test_a_single_tag_for_a_list",
    "test_truthy_string_marker_option",
    "test_truthy_string_cluster_option",
    "test_bare_delay",
)
ERROR_LINES = (
    "TypeError: payload must be bytes, str or None, not {'version': '1.2'} (dict)",
    "TypeError: config must be an AgentConfig or None, not 123 (int)",
    "RuntimeError: list_events(index=1, wait=1) would wait for ever: index 1 is the current "
    "index, so the query waits for a new event or for the agent's ManualClock to reach its "
    "deadline, and this thread, which made the clock, cannot advance it while it waits; list "
    "from another thread, or wait with wait_for_event()",
    "RuntimeError: start_agent('node1') needs a stopped agent, but 'node1' is serving; take it "
    "down first with cluster.stop('node1') (a restart empties its event buffer)",
)

MARKER_LINES = (  # reported as usage errors: one line naming the marker, without a traceback
    "@pytest.mark.consul_agent(services=[{'name': 'web', 'tags': 'v2'}]): services[0]['tags'] "
    "must be a list or tuple of str, not 'v2' (str)",
    "@pytest.mark.consul_agent(dev_mode='no'): dev_mode must be True or False, not 'no' (str)",
    "@pytest.mark.consul_cluster(manual='no'): manual must be True or False, not 'no' (str)",
    "@pytest.mark.consul_cluster(delay=0.5): delay must be a (low, high) pair of finite seconds "
    "with 0 <= low <= high, such as (0.0, 0.5), not 0.5 (float)",
)

SESSION = """
import pytest


def test_dict_payload(consul_agent):
    consul_agent.fire("deploy", payload={"version": "1.2"})


def test_reset_with_an_int(consul_agent):
    consul_agent.reset(123)


def test_the_next_test_gets_a_working_agent(consul_agent, consul_client):
    consul_client.event.fire("deploy", "v1")
    consul_agent.assert_fired("deploy", payload="v1")


def test_an_unprintable_name_in_a_failing_test(consul_agent):
    consul_agent.fire("\\udcff")
    assert False


@pytest.mark.consul_agent(clock="manual")
def test_blocking_in_the_clock_thread(consul_agent):
    consul_agent.list_events(index=consul_agent.list_events().index, wait=1)


@pytest.mark.consul_agent(services=[{"name": "web", "tags": "v2"}])
def test_a_single_tag_for_a_list(consul_agent):
    pass


@pytest.mark.consul_agent(dev_mode="no")
def test_truthy_string_marker_option(consul_agent):
    pass


@pytest.mark.consul_cluster(manual="no")
def test_truthy_string_cluster_option(consul_cluster):
    pass


@pytest.mark.consul_cluster(delay=0.5)
def test_bare_delay(consul_cluster):
    pass


def test_a_cluster_agent_stopped_then_a_failure(consul_cluster):
    consul_cluster.stop("node2")
    consul_cluster.start_agent("node1")
"""


def test_bad_inputs_in_a_session_fail_their_tests_without_internal_errors(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(SESSION)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "no:xdist", "-rfE", timeout=120
    )
    output = result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in output
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1, failed=5, errors=4)
    result.stdout.fnmatch_lines_random(
        [
            *(f"FAILED *::{name}*" for name in FAILED),
            *(f"ERROR *::{name}*" for name in ERRORS),
            "*\\udcff  id=*",
            "node2 ?dc1, client, stopped, http://127.0.0.1:*?: (none)",
        ]
    )
    result.stdout.re_match_lines_random([rf"E\s+{re.escape(line)}$" for line in ERROR_LINES])
    result.stdout.re_match_lines_random([rf"^{re.escape(line)}$" for line in MARKER_LINES])
