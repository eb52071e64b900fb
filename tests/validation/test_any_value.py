"""Arbitrary values thrown at every public signature: only the documented errors come out.

For each parameter of the agent's, the cluster's, the clock's and the assertions' public
methods, and each option of the markers (``AgentConfig.build``, ``FakeConsulAgent(...)``,
``FakeConsulCluster(...)``), Hypothesis passes values of many types (``nan``, ``inf``, huge
ints, bools, bytes, dicts, sets, tuples, objects...) with the other arguments left valid. The
call must succeed or raise ``TypeError``/``ValueError`` whose message names the parameter (or
one of the ``ConsulError`` subclasses, where the fake answers as Consul does), within the
per-example deadline; after each example, the same agent or cluster still fires and lists,
in Python and over HTTP.

``CONSUL_EVENTS_ANY_VALUE_EXAMPLES`` sets the number of examples per parameter (20 by default).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import Client

from pytest_consul_events.assertions import (
    assert_fired,
    assert_fired_in_order,
    assert_not_fired,
    wait_for_event,
)
from pytest_consul_events.cluster import CLUSTER_OPTIONS, FakeConsulCluster
from pytest_consul_events.errors import ConsulError
from pytest_consul_events.fake import CONFIGURE_OPTIONS, FakeConsulAgent
from pytest_consul_events.model.agent import AGENT_OPTIONS, AgentConfig
from pytest_consul_events.model.clock import ManualClock

EXAMPLES = int(os.environ.get("CONSUL_EVENTS_ANY_VALUE_EXAMPLES", "20"))
ANY_VALUE = settings(
    max_examples=EXAMPLES,
    deadline=timedelta(seconds=2),  # the time bound of one example, calls and checks included
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

ANYTHING = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**63 - 2, max_value=2**64 + 2),
    st.sampled_from([10**400, -(10**400), 10**5000]),  # beyond floats; beyond printable ints
    st.floats(),  # nan and the infinities included
    st.sampled_from([float("nan"), float("inf"), float("-inf"), -0.0, 1e308, 5e-324]),
    st.text(max_size=12),
    st.binary(max_size=12),
    st.sampled_from(
        ["", "node1", "node2", "web", "deploy", "real", "manual", "allow", "deny", "no", "\udcff"]
    ),
    st.lists(st.text(max_size=6), max_size=3),
    st.lists(st.integers(), max_size=3),
    st.tuples(st.floats(), st.floats()),
    st.tuples(st.integers(), st.integers(), st.integers()),
    st.sets(st.text(max_size=4), max_size=3),
    st.dictionaries(st.text(max_size=6), st.text(max_size=6) | st.integers(), max_size=3),
    st.from_type(complex),
    st.from_type(bytearray),
    st.from_type(frozenset),
    st.builds(object),
)

STATE_ERRORS = re.compile(
    r"would wait for ever|needs a serving agent|needs a stopped agent|is serving already"
)
"""The ``RuntimeError`` texts of documented refusals that depend on state, not on a value."""


@dataclass(frozen=True)
class Target:
    """One parameter of one public call: ``call(subject, value)``."""

    name: str
    parameter: str
    call: Callable[[Any, Any], object]
    also: tuple[type[BaseException], ...] = ()  # further documented outcomes

    def __str__(self) -> str:
        return f"{self.name}-{self.parameter}"


def check(target: Target, subject: Any, value: Any) -> None:
    """Call the target; anything but success or a documented error fails the example."""
    error: Exception | None = None
    try:
        target.call(subject, value)
    except (ConsulError, *target.also):
        return
    except (TypeError, ValueError, RuntimeError) as exc:
        error = exc
    if isinstance(error, RuntimeError):
        assert STATE_ERRORS.search(str(error)), (target, error)
    elif error is not None:
        assert target.parameter in str(error), (target, error)


def targets_of(*groups: list[Target]) -> list[Any]:
    return [pytest.param(t, id=str(t)) for group in groups for t in group]


# -- the agent -------------------------------------------------------------------------------------

AGENT_TARGETS = [
    Target("fire", "name", lambda a, v: a.fire(v)),
    Target("fire", "payload", lambda a, v: a.fire("deploy", v)),
    Target("fire", "node", lambda a, v: a.fire("deploy", node=v)),
    Target("fire", "service", lambda a, v: a.fire("deploy", service=v)),
    Target("fire", "tag", lambda a, v: a.fire("deploy", service="web", tag=v)),
    Target("fire", "dc", lambda a, v: a.fire("deploy", dc=v)),
    Target("fire", "token", lambda a, v: a.fire("deploy", token=v)),
    Target("list_events", "name", lambda a, v: a.list_events(v)),
    Target("list_events", "token", lambda a, v: a.list_events(token=v)),
    Target("list_events", "index", lambda a, v: a.list_events(index=v)),
    Target("list_events", "wait", lambda a, v: a.list_events(index=1, wait=v)),
    Target("register_service", "name", lambda a, v: a.register_service(v)),
    Target("register_service", "service_id", lambda a, v: a.register_service("w", service_id=v)),
    Target("register_service", "tags", lambda a, v: a.register_service("w", tags=v)),
    Target("register_service", "port", lambda a, v: a.register_service("w", port=v)),
    Target("register_service", "address", lambda a, v: a.register_service("w", address=v)),
    Target("register_service", "meta", lambda a, v: a.register_service("w", meta=v)),
    Target("deregister_service", "service_id", lambda a, v: a.deregister_service(v)),
    Target("add_service", "service", lambda a, v: a.add_service(v)),
    Target("create_token", "rules", lambda a, v: a.create_token(v)),
    Target("create_token", "secret", lambda a, v: a.create_token(secret=v)),
    Target("create_token", "policies", lambda a, v: a.create_token(policies=v)),
    Target("create_token", "management", lambda a, v: a.create_token(management=v)),
    Target("create_token", "description", lambda a, v: a.create_token(description=v)),
    Target("reset", "config", lambda a, v: a.reset(v)),
    # A valid count that is not reached: TimeoutError, as documented.
    Target(
        "wait_for_blocked", "count", lambda a, v: a.wait_for_blocked(v, timeout=0), (TimeoutError,)
    ),
    Target("wait_for_blocked", "timeout", lambda a, v: a.wait_for_blocked(0, timeout=v)),
    Target("join_with_ignore_old", "peer_event_time", lambda a, v: a.join_with_ignore_old(v)),
    Target("client", "token", lambda a, v: a.client(token=v)),
    Target("client", "dc", lambda a, v: a.client(dc=v)),
    Target("clock", "clock", lambda a, v: setattr(a, "clock", v)),
    *(
        Target("configure", option, lambda a, v, option=option: a.configure(**{option: v}))
        for option in CONFIGURE_OPTIONS
    ),
]

ASSERTION_TARGETS = [
    *(
        Target(
            "assert_fired",
            keyword,
            lambda a, v, keyword=keyword: assert_fired(a, "deploy", **{keyword: v}),
            (AssertionError,),
        )
        for keyword in ("payload", "json", "node", "service", "tag", "count", "source")
    ),
    Target("assert_fired", "name", lambda a, v: assert_fired(a, v), (AssertionError,)),
    Target("assert_fired", "agent", lambda a, v: assert_fired(v, "deploy"), (AssertionError,)),
    Target("assert_not_fired", "name", lambda a, v: assert_not_fired(a, v), (AssertionError,)),
    Target(
        "assert_fired_in_order",
        "names_or_matchers",
        lambda a, v: assert_fired_in_order(a, v),
        (AssertionError,),
    ),
    Target("wait_for_event", "timeout", lambda a, v: wait_for_event(a, "ok", timeout=v)),
    Target(
        "wait_for_event", "name", lambda a, v: wait_for_event(a, v, timeout=0), (AssertionError,)
    ),
]


def agent_still_works(agent: FakeConsulAgent) -> None:
    """Fire and list on the agent, from Python and over HTTP, after putting it back in order."""
    agent.configure(clock="manual", services=["web"])
    event = agent.fire("ok", b"1")
    assert [e.id for e in agent.list_events("ok").events] == [event.id]
    reply = Client(agent.app).get("/v1/event/list?name=ok")
    assert (reply.status_code, reply.json[0]["ID"]) == (200, event.id)  # type: ignore[index]
    assert agent.failure_report()[0] == "consul agent"
    agent.close_clients()


@pytest.fixture
def agent() -> Iterator[FakeConsulAgent]:
    with FakeConsulAgent(seed=1, clock="manual", services=["web"]) as made:
        yield made


@pytest.mark.parametrize("target", targets_of(AGENT_TARGETS, ASSERTION_TARGETS))
def test_agent_methods_take_any_value(agent: FakeConsulAgent, target: Target) -> None:
    agent_still_works(agent)
    agent.fire("deploy")

    @ANY_VALUE
    @given(value=ANYTHING)
    def example(value: Any) -> None:
        check(target, agent, value)
        agent_still_works(agent)
        agent.fire("deploy")

    example()


# -- options ---------------------------------------------------------------------------------------


def _fake_agent(options: dict[str, Any]) -> None:
    FakeConsulAgent(**options).stop()


def _cluster(options: dict[str, Any]) -> None:
    FakeConsulCluster(**options).close()


OPTION_TARGETS = [
    *(
        Target(
            "AgentConfig.build",
            option,
            lambda _, v, option=option: AgentConfig.build(**{option: v}),
        )
        for option in AGENT_OPTIONS
    ),
    # A valid port may be busy or privileged: OSError at once, as documented.
    Target("FakeConsulAgent", "port", lambda _, v: _fake_agent({"port": v}), (OSError,)),
    Target("FakeConsulAgent", "clock", lambda _, v: _fake_agent({"clock": v})),
    # host is left out: a valid host name would be looked up in the DNS.
    *(
        Target("FakeConsulCluster", option, lambda _, v, option=option: _cluster({option: v}))
        for option in CLUSTER_OPTIONS
        if option != "host"
    ),
    Target("ManualClock", "start", lambda _, v: ManualClock(v)),
    Target("ManualClock.advance", "seconds", lambda _, v: ManualClock().advance(v)),
]


@pytest.mark.parametrize("target", targets_of(OPTION_TARGETS))
def test_options_take_any_value(target: Target) -> None:
    @ANY_VALUE
    @given(value=ANYTHING)
    def example(value: Any) -> None:
        check(target, None, value)

    example()


# -- the cluster -----------------------------------------------------------------------------------

CLUSTER_TARGETS = [
    Target("partition", "groups", lambda c, v: c.partition(v)),
    Target("partition", "groups", lambda c, v: c.partition(["node1"], v)),
    Target("release", "count", lambda c, v: c.release(v)),
    Target("release", "to", lambda c, v: c.release(to=v)),
    Target("stop", "node_name", lambda c, v: c.stop(v)),
    Target("start_agent", "node_name", lambda c, v: c.start_agent(v)),
    Target("getitem", "node_name", lambda c, v: c[v]),
    Target("client", "node_name", lambda c, v: c.client(v)),
    Target("advance", "seconds", lambda c, v: c.advance(v)),
    Target("settle", "timeout", lambda c, v: c.settle(v)),
]


def cluster_still_works(cluster: FakeConsulCluster) -> None:
    """Heal, bring stopped agents back, and see an event reach every agent."""
    cluster.heal()
    for agent in cluster:
        if not agent.serving:
            cluster.start_agent(agent.node_name)
    event = cluster["node1"].fire("ok")
    cluster.release()
    for agent in cluster:
        assert event.id in [e.id for e in agent.events]
    assert cluster.failure_report()[0] == "consul cluster"


@pytest.fixture
def cluster() -> Iterator[FakeConsulCluster]:
    with FakeConsulCluster(seed=1, clock="manual", manual=True) as made:
        yield made


@pytest.mark.parametrize("target", targets_of(CLUSTER_TARGETS))
def test_cluster_methods_take_any_value(cluster: FakeConsulCluster, target: Target) -> None:
    @ANY_VALUE
    @given(value=ANYTHING)
    def example(value: Any) -> None:
        cluster["node1"].fire("in-flight")  # held by manual mode, for release() to deliver
        check(target, cluster, value)
        cluster_still_works(cluster)

    example()
