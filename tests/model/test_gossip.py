"""Serf's LAN gossip between plain agents: who receives an event, when, in what order, and why.

Each test builds a :class:`Gossip` and joins :class:`Agent` objects to it (``gossip.join``
sets their ``network``). Unless a test needs real time, the network runs on a
:class:`ManualClock`, so the trace's ``at`` values are exact and delayed deliveries happen only
when the test moves the clock. The agents keep the real clock (they never block here).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

from pytest_consul_events import messages
from pytest_consul_events.errors import (
    ACLNotFoundError,
    NoPathToDatacenterError,
    PermissionDeniedError,
)
from pytest_consul_events.model.agent import Agent
from pytest_consul_events.model.clock import REAL_CLOCK, Clock, ManualClock
from pytest_consul_events.model.gossip import Gossip, GossipSettings, NoServerError, TraceEntry
from pytest_consul_events.model.serf import EVENT_BUFFER_SIZE
from pytest_consul_events.validation import UnknownAgentError

SEED = 7
WAIT = 2.0  # how long a test waits for the background thread, in real seconds
_IDLE = threading.Event()  # never set: its wait() is the polling interval

AgentSpec = str | Mapping[str, Any]
THREE = ("node1", {"node_name": "node2", "server": False}, {"node_name": "node3", "server": False})
"""node1 is the server of dc1, node2 and node3 are clients."""


class Net:
    """A gossip network and its agents by node name."""

    def __init__(self, gossip: Gossip, agents: dict[str, Agent]) -> None:
        self.gossip = gossip
        self.agents = agents

    def __getitem__(self, name: str) -> Agent:
        return self.agents[name]

    def names(self, node: str) -> list[str]:
        """The names of the events ``node`` holds, in its arrival order."""
        return [event.name for event in self.agents[node].events]

    def ltimes(self, node: str) -> list[int]:
        return [event.ltime for event in self.agents[node].events]

    def outcomes(self, name: str | None = None) -> list[tuple[str, str, str]]:
        """``(kind, target, outcome)`` of every trace step but fires, for one event name."""
        return [
            (entry.kind, entry.target, entry.outcome)
            for entry in self.gossip.trace
            if entry.kind != "fire" and (name is None or entry.name == name)
        ]


MakeNet = Callable[..., Net]


@pytest.fixture(autouse=True)
def _no_thread_left_behind() -> Iterator[None]:
    """The gossip thread of every network a test made is ended by ``close``."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + WAIT
    while leftover := set(threading.enumerate()) - before:
        if time.monotonic() > deadline:
            pytest.fail(f"threads still running after the test: {leftover}")
        _IDLE.wait(0.001)


@pytest.fixture
def make_net() -> Iterator[MakeNet]:
    """Build networks of plain agents (node names or option mappings); closed after the test."""
    made: list[Gossip] = []

    def make(
        agents: tuple[AgentSpec, ...] = THREE,
        *,
        seed: int = SEED,
        clock: Clock | None = None,
        **settings: Any,
    ) -> Net:
        gossip = Gossip(
            seed=seed,
            clock=ManualClock() if clock is None else clock,
            settings=GossipSettings(**settings),
        )
        made.append(gossip)
        joined: dict[str, Agent] = {}
        for number, spec in enumerate(agents, start=1):
            options = {"node_name": spec} if isinstance(spec, str) else dict(spec)
            agent = Agent(seed=seed * 100 + number, **options)
            gossip.join(agent)
            joined[agent.node_name] = agent
        return Net(gossip, joined)

    yield make
    for gossip in made:
        gossip.close()


def wait_until(predicate: Callable[[], bool], timeout: float = WAIT) -> None:
    """Poll ``predicate`` until it holds, failing the test after ``timeout`` real seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"condition not reached within {timeout} s")
        _IDLE.wait(0.001)


# -- in-order, immediate delivery ----------------------------------------------------------------


def test_join_sets_the_network_and_lists_datacenters(make_net: MakeNet) -> None:
    net = make_net(("node1", "node2", {"node_name": "far1", "datacenter": "dc2"}))
    assert all(agent.network is net.gossip for agent in net.agents.values())
    assert net.gossip.datacenters == {"dc1": ["node1", "node2"], "dc2": ["far1"]}


def test_join_refuses_a_second_agent_with_the_same_name(make_net: MakeNet) -> None:
    net = make_net()
    with pytest.raises(ValueError) as info:
        net.gossip.join(Agent(node_name="node2"))
    assert str(info.value) == "there is already an agent named 'node2'"


def test_in_order_delivery_reaches_every_other_agent_of_the_dc_before_fire_returns(
    make_net: MakeNet,
) -> None:
    net = make_net(
        (
            *THREE,
            {"node_name": "far1", "datacenter": "dc2"},
            {"node_name": "far2", "datacenter": "dc2", "server": False},
        )
    )
    fired = [net["node2"].fire(name) for name in ("e1", "e2", "e3")]

    for node in ("node1", "node2", "node3"):
        assert net.names(node) == ["e1", "e2", "e3"]
        assert net.ltimes(node) == [2, 3, 4]
        assert [event.id for event in net[node].events] == [event.id for event in fired]
    assert net["far1"].events == []
    assert net["far2"].events == []
    assert net.gossip.in_flight == 0
    assert net.gossip.held == 0
    # The server stamps and stores the event itself; the trace shows its gossip to the others.
    assert [(e.kind, e.source, e.target, e.name) for e in net.gossip.trace] == [
        ("fire", "node1", "", "e1"),
        ("deliver", "node1", "node2", "e1"),
        ("deliver", "node1", "node3", "e1"),
        ("fire", "node1", "", "e2"),
        ("deliver", "node1", "node2", "e2"),
        ("deliver", "node1", "node3", "e2"),
        ("fire", "node1", "", "e3"),
        ("deliver", "node1", "node2", "e3"),
        ("deliver", "node1", "node3", "e3"),
    ]
    assert {entry.outcome for entry in net.gossip.trace if entry.kind == "deliver"} == {"stored"}


def test_fire_answers_ltime_0_and_the_fired_record_has_the_servers_ltime(
    make_net: MakeNet,
) -> None:
    net = make_net()
    first = net["node3"].fire("deploy", b"v1")
    second = net["node1"].fire("deploy", b"v2")
    assert (first.ltime, second.ltime) == (0, 0)
    assert [(e.id, e.ltime) for e in net["node3"].fired] == [(first.id, 2)]
    assert [(e.id, e.ltime) for e in net["node1"].fired] == [(second.id, 3)]
    assert net["node2"].fired == []


def test_settings_default_to_immediate_in_order_delivery() -> None:
    settings = GossipSettings()
    assert settings == GossipSettings(
        unordered=False, delay=(0.0, 0.0), loss=0.0, duplicate=0.0, manual=False, flush_after=0.02
    )
    assert settings.immediate
    assert GossipSettings(loss=0.5, duplicate=0.5).immediate
    assert not GossipSettings(unordered=True).immediate
    assert not GossipSettings(manual=True).immediate
    assert not GossipSettings(delay=(0.0, 0.1)).immediate


# -- each agent's own filters -------------------------------------------------------------------


FILTER_AGENTS: tuple[AgentSpec, ...] = (
    "node1",
    {"node_name": "node2", "server": False, "services": [{"name": "web", "tags": ["v1"]}]},
    {
        "node_name": "node3",
        "server": False,
        "services": [{"name": "database", "id": "db-1"}, {"name": "api", "tags": ["v2"]}],
    },
)


@pytest.mark.parametrize(
    ("filters", "node1", "node2", "node3"),
    [
        ({"node": "node2"}, [], "stored", "filtered"),
        ({"node": "^node[23]$"}, [], "stored", "stored"),
        ({"node": "ode"}, ["deploy"], "stored", "stored"),  # unanchored
        ({"service": "web"}, [], "stored", "filtered"),
        ({"service": "db-1"}, [], "filtered", "stored"),  # the service ID...
        ({"service": "^database$"}, [], "filtered", "filtered"),  # ...not its name
        ({"service": "api", "tag": "v2"}, [], "filtered", "stored"),
        ({"service": "web", "tag": "v2"}, [], "filtered", "filtered"),
        ({"service": ".*", "tag": "v"}, [], "stored", "stored"),
        ({"node": "node3", "service": "web"}, [], "filtered", "filtered"),
    ],
)
def test_each_agent_decides_with_its_own_filters(
    make_net: MakeNet, filters: dict[str, str], node1: list[str], node2: str, node3: str
) -> None:
    net = make_net(FILTER_AGENTS)
    event = net["node1"].fire("deploy", **filters)

    assert net.outcomes() == [("deliver", "node2", node2), ("deliver", "node3", node3)]
    for node, outcome in (("node2", node2), ("node3", node3)):
        assert [e.id for e in net[node].events] == ([event.id] if outcome == "stored" else [])
    # The server (no services) applies the filters to itself too; its fire succeeds anyway.
    assert net.names("node1") == node1
    assert [e.id for e in net["node1"].fired] == [event.id]


def test_remote_exec_is_never_stored_and_other_underscore_names_are(make_net: MakeNet) -> None:
    net = make_net()
    net["node1"].fire("_rexec", b"{}")
    net["node1"].fire("_other")
    assert net.outcomes() == [
        ("deliver", "node2", "filtered"),
        ("deliver", "node3", "filtered"),
        ("deliver", "node2", "stored"),
        ("deliver", "node3", "stored"),
    ]
    for node in ("node1", "node2", "node3"):
        assert net.names(node) == ["_other"]
        assert net.ltimes(node) == [3]


# -- Lamport clock -------------------------------------------------------------------------------


def test_an_agent_behind_witnesses_the_received_ltime(make_net: MakeNet) -> None:
    # node1 and node2 are both servers of dc1; node3 is a client. While node2 and node3 are down
    # node1 fires three events: their clocks stay at 2 while node1's reaches 5.
    net = make_net(("node1", {"node_name": "node2", "server": True}, THREE[2]))
    net.gossip.set_running("node2", False)
    net.gossip.set_running("node3", False)
    for name in ("a", "b", "c"):
        net["node1"].fire(name)
    assert net.outcomes() == [
        ("drop", node, "agent down") for _ in "abc" for node in ("node2", "node3")
    ]
    assert net["node3"]._serf.clock.time() == 2  # white box: a client never stamps events

    net.gossip.set_running("node2", True)
    net.gossip.set_running("node3", True)
    net["node1"].fire("d")  # LTime 5
    assert net.ltimes("node2") == net.ltimes("node3") == [5]
    assert net["node3"]._serf.clock.time() == 6  # jumped from 2 past the received 5

    # Observable on a server: once node1 is down, node3's fire goes to node2, which stamps it
    # with its witnessed clock, 6, not with the 2 it had before.
    net.gossip.set_running("node1", False)
    net["node3"].fire("e")
    assert net.ltimes("node3") == [5, 6]
    assert net.names("node2") == ["d", "e"]
    assert net["node3"].fired[0].ltime == 6


# -- duplicates, age, loss -----------------------------------------------------------------------


def test_a_duplicated_delivery_is_dropped_by_serfs_dedupe(make_net: MakeNet) -> None:
    net = make_net(duplicate=1.0)
    net["node1"].fire("deploy")
    assert net.outcomes() == [
        ("deliver", "node2", "stored"),
        ("deliver", "node2", "duplicate"),
        ("deliver", "node3", "stored"),
        ("deliver", "node3", "duplicate"),
    ]
    for node in ("node1", "node2", "node3"):
        assert net.names(node) == ["deploy"]


# node1 | node2 (server), node3: node1 fires "old" at LTime 2 into the partition, node3 then
# fires `ticks` events through node2 (LTime 2 .. ticks + 1), so both reach clock ticks + 2.
# Serf drops an event as too old when clock > 512 and LTime < clock - 512: 2 < ticks - 510.
@pytest.mark.parametrize(
    ("ticks", "outcome", "held_ltimes"),
    [
        (3, "stored", [2]),
        (EVENT_BUFFER_SIZE, "stored", [2]),
        (EVENT_BUFFER_SIZE + 1, "too old", []),
    ],
)
def test_heal_delivers_what_the_partition_held_unless_it_is_too_old(
    make_net: MakeNet, ticks: int, outcome: str, held_ltimes: list[int]
) -> None:
    net = make_net(("node1", {"node_name": "node2", "server": True}, THREE[2]))
    net.gossip.partition(["node1"], ["node2", "node3"])
    net["node1"].fire("old")
    for _ in range(ticks):
        net["node3"].fire("tick")
    assert net.gossip.held == 2 + ticks  # old to node2 and node3, every tick to node1
    assert net.names("node1") == ["old"]
    assert net["node3"].events[-1].ltime == ticks + 1

    assert net.gossip.heal() == 2 + ticks
    assert net.gossip.held == 0
    assert net.outcomes("old") == [
        ("hold", "node2", "partitioned"),
        ("hold", "node3", "partitioned"),
        ("deliver", "node2", outcome),
        ("deliver", "node3", outcome),
    ]
    for node in ("node2", "node3"):
        assert [e.ltime for e in net[node].events if e.name == "old"] == held_ltimes
    # Every tick reached node1 at the heal (its buffer keeps the last 256 of them).
    assert net.outcomes("tick")[-ticks:] == [("deliver", "node1", "stored")] * ticks
    assert net.ltimes("node1")[-1] == ticks + 1


def test_every_delivery_lost(make_net: MakeNet) -> None:
    net = make_net(loss=1.0)
    net["node2"].fire("deploy")
    assert net.outcomes() == [("drop", "node2", "lost"), ("drop", "node3", "lost")]
    assert net.names("node1") == ["deploy"]
    assert net["node2"].events == net["node3"].events == []
    assert net.gossip.in_flight == net.gossip.held == 0


def test_some_deliveries_lost_the_same_ones_for_the_same_seed(make_net: MakeNet) -> None:
    def run() -> list[tuple[str, str, str]]:
        net = make_net(loss=0.5, seed=11)
        for number in range(20):
            net["node1"].fire(f"e{number}")
        for node in ("node2", "node3"):
            lost = [e.name for e in net.gossip.trace if e.outcome == "lost" and e.target == node]
            stored = net.names(node)
            assert sorted(lost + stored) == sorted(f"e{number}" for number in range(20))
        return net.outcomes()

    first = run()
    assert first == run()
    kinds = [kind for kind, _, _ in first]
    assert 0 < kinds.count("drop") < 40
    assert kinds.count("drop") + kinds.count("deliver") == 40


# -- unordered -----------------------------------------------------------------------------------

UNORDERED_SEED = 3
"""A seed under which node2 and node3 see five events each in an order of their own."""
FIVE = ["e1", "e2", "e3", "e4", "e5"]


def _unordered_run(make_net: MakeNet, seed: int) -> tuple[dict[str, list[str]], list[Any]]:
    net = make_net(unordered=True, seed=seed)
    fired = {name: net["node1"].fire(name).id for name in FIVE}
    assert net.gossip.in_flight == 10  # nothing is delivered before the flush
    assert net["node2"].events == net["node3"].events == []
    assert net.gossip.settle() == 10
    assert net.gossip.in_flight == 0
    for node in ("node1", "node2", "node3"):
        # Whatever the arrival order, each event keeps the LTime and ID the server gave it.
        assert {e.name: (e.ltime, e.id) for e in net[node].events} == {
            name: (FIVE.index(name) + 2, fired[name]) for name in FIVE
        }
    orders = {node: net.names(node) for node in net.agents}
    return orders, net.outcomes()


def test_unordered_each_agent_has_its_own_order(make_net: MakeNet) -> None:
    orders, outcomes = _unordered_run(make_net, UNORDERED_SEED)
    assert orders["node1"] == FIVE  # the server stores its own fires as it stamps them
    assert orders["node2"] != FIVE
    assert orders["node3"] != FIVE
    assert orders["node2"] != orders["node3"]
    assert sorted(orders["node2"]) == sorted(orders["node3"]) == FIVE
    assert [kind for kind, _, _ in outcomes] == ["deliver"] * 10
    assert {outcome for _, _, outcome in outcomes} == {"stored"}


def test_unordered_same_seed_same_orders_and_trace(make_net: MakeNet) -> None:
    first = _unordered_run(make_net, UNORDERED_SEED)
    second = _unordered_run(make_net, UNORDERED_SEED)
    assert first == second
    assert _unordered_run(make_net, UNORDERED_SEED + 1)[0] != first[0]


def test_unordered_trace_of_two_runs_is_identical_except_event_ids(make_net: MakeNet) -> None:
    # Same seed for the gossip and the agents: even the event IDs repeat.
    def trace() -> list[TraceEntry]:
        net = make_net(unordered=True, duplicate=0.5, seed=UNORDERED_SEED)
        for name in FIVE:
            net["node2"].fire(name)
        net.gossip.settle()
        return net.gossip.trace

    first = trace()
    assert first == trace()
    assert {e.outcome for e in first if e.kind == "deliver"} == {"stored", "duplicate"}


def test_unordered_flushes_after_flush_after_idle_without_settle(make_net: MakeNet) -> None:
    net = make_net(unordered=True, flush_after=0.01, clock=REAL_CLOCK)
    for name in FIVE:
        net["node1"].fire(name)
    wait_until(lambda: net.gossip.in_flight == 0)
    wait_until(lambda: len(net.gossip.trace) == 15)  # the last step is recorded after delivery
    for node in ("node2", "node3"):
        assert sorted(net.names(node)) == FIVE


def test_unordered_flush_waits_for_flush_after_on_a_test_clock(make_net: MakeNet) -> None:
    clock = ManualClock()
    net = make_net(unordered=True, flush_after=1.0, clock=clock)
    net["node1"].fire("e1")
    clock.advance(0.5)
    net["node1"].fire("e2")  # the idle period starts again
    clock.advance(0.9)
    assert net.gossip.in_flight == 4
    clock.advance(0.1)  # 1.5: the flush is due
    wait_until(lambda: len(net.gossip.trace) == 6)
    assert net.gossip.in_flight == 0
    assert {e.at for e in net.gossip.trace if e.kind == "deliver"} == {1.5}
    assert sorted(net.names("node2")) == sorted(net.names("node3")) == ["e1", "e2"]


# -- delay ---------------------------------------------------------------------------------------


def test_delayed_deliveries_arrive_once_the_clock_passes_the_delay(make_net: MakeNet) -> None:
    clock = ManualClock()
    net = make_net(delay=(1.0, 2.0), clock=clock)
    fired = [net["node1"].fire(name).id for name in ("e1", "e2", "e3")]
    assert net.names("node1") == ["e1", "e2", "e3"]
    assert net.gossip.in_flight == 6

    clock.advance(0.999)
    assert net.gossip.in_flight == 6
    assert net["node2"].events == net["node3"].events == []

    clock.advance(1.001)  # 2.0: past every delay; the background thread delivers
    wait_until(lambda: len(net.gossip.trace) == 9)
    assert net.gossip.in_flight == 0
    for node in ("node2", "node3"):
        assert sorted(e.id for e in net[node].events) == sorted(fired)
    delivered = [e for e in net.gossip.trace if e.kind == "deliver"]
    assert {(e.at, e.outcome) for e in delivered} == {(2.0, "stored")}


def test_delayed_deliveries_keep_their_order_when_the_delay_is_fixed(make_net: MakeNet) -> None:
    clock = ManualClock()
    net = make_net(delay=(1.0, 1.0), clock=clock)
    net["node1"].fire("e1")
    clock.advance(0.5)
    net["node1"].fire("e2")
    clock.advance(0.5)  # 1.0: e1 is due, e2 not
    wait_until(lambda: len(net.gossip.trace) == 4)
    assert net.names("node2") == net.names("node3") == ["e1"]
    assert net.gossip.in_flight == 2
    clock.advance(0.5)
    wait_until(lambda: net.gossip.in_flight == 0 and len(net.gossip.trace) == 6)
    assert net.names("node2") == net.names("node3") == ["e1", "e2"]
    assert [(e.name, e.at) for e in net.gossip.trace if e.kind == "deliver"] == [
        ("e1", 1.0),
        ("e1", 1.0),
        ("e2", 1.5),
        ("e2", 1.5),
    ]


def test_settle_delivers_delayed_deliveries_at_once(make_net: MakeNet) -> None:
    clock = ManualClock()
    net = make_net(delay=(5.0, 5.0), clock=clock)
    net["node1"].fire("e1")
    net["node1"].fire("e2")
    assert net.gossip.settle() == 4
    assert net.gossip.in_flight == 0
    assert clock.now() == 0.0
    assert net.names("node2") == net.names("node3") == ["e1", "e2"]
    assert net.gossip.settle() == 0


# -- manual release ------------------------------------------------------------------------------


def test_manual_mode_holds_every_delivery_until_released(make_net: MakeNet) -> None:
    net = make_net(manual=True)
    net["node1"].fire("e1")
    net["node1"].fire("e2")
    assert net.gossip.held == 4
    assert net.gossip.in_flight == 0
    waiting = [("hold", "node2", "waiting for release"), ("hold", "node3", "waiting for release")]
    assert net.outcomes() == waiting * 2
    assert net["node2"].events == net["node3"].events == []

    assert net.gossip.release(1) == 1  # the oldest: e1 to node2
    assert net.names("node2") == ["e1"]
    assert net["node3"].events == []
    assert net.gossip.held == 3

    assert net.gossip.release(to="node3") == 2
    assert net.names("node3") == ["e1", "e2"]
    assert net.names("node2") == ["e1"]
    assert net.gossip.held == 1

    assert net.gossip.release() == 1
    assert net.names("node2") == ["e1", "e2"]
    assert net.gossip.held == 0
    assert net.gossip.release() == 0
    assert net.outcomes()[4:] == [
        ("deliver", "node2", "stored"),
        ("deliver", "node3", "stored"),
        ("deliver", "node3", "stored"),
        ("deliver", "node2", "stored"),
    ]


def test_manual_release_count_and_target_together(make_net: MakeNet) -> None:
    net = make_net(manual=True)
    for name in ("e1", "e2", "e3"):
        net["node1"].fire(name)
    assert net.gossip.release(2, to="node3") == 2
    assert net.names("node3") == ["e1", "e2"]
    assert net["node2"].events == []
    with pytest.raises(UnknownAgentError) as info:
        net.gossip.release(to="nobody")
    assert str(info.value) == (
        "to must be the node name of an agent of the cluster, one of 'node1', 'node2', 'node3', "
        "not 'nobody' (str)"
    )
    assert net.gossip.held == 4


def test_manual_mode_keeps_partitioned_deliveries_until_heal_and_release(
    make_net: MakeNet,
) -> None:
    net = make_net(manual=True)
    net.gossip.partition(["node3"])
    net["node1"].fire("e1")
    assert net.gossip.held == 2
    assert net.gossip.release() == 1  # node3 is cut off: its delivery stays held
    assert net.names("node2") == ["e1"]
    assert net.gossip.held == 1
    assert net.gossip.heal() == 0  # manual mode: heal makes it releasable, not delivered
    assert net.gossip.held == 1
    assert net.gossip.release() == 1
    assert net.names("node3") == ["e1"]


# -- partitions ----------------------------------------------------------------------------------


def test_partition_holds_deliveries_across_it_until_heal(make_net: MakeNet) -> None:
    net = make_net()
    net.gossip.partition(["node1", "node2"], ["node3"])
    net["node2"].fire("e1")
    net["node2"].fire("e2")
    assert net.names("node2") == ["e1", "e2"]
    assert net["node3"].events == []
    assert net.gossip.held == 2
    assert net.gossip.in_flight == 0
    assert net.gossip.settle() == 0  # held, not in flight

    assert net.gossip.heal() == 2
    assert net.names("node3") == ["e1", "e2"]
    assert net.ltimes("node3") == [2, 3]
    assert net.outcomes() == [  # each fire's steps in the order the agents joined
        ("deliver", "node2", "stored"),
        ("hold", "node3", "partitioned"),
        ("deliver", "node2", "stored"),
        ("hold", "node3", "partitioned"),
        ("deliver", "node3", "stored"),
        ("deliver", "node3", "stored"),
    ]
    net["node1"].fire("e3")
    assert net.names("node3") == ["e1", "e2", "e3"]


def test_agents_named_in_no_group_form_one_more_group(make_net: MakeNet) -> None:
    net = make_net(("node1", "node2", "node3", "node4"))
    net.gossip.partition(["node3"])  # node1, node2, node4 together
    net["node1"].fire("e1")
    assert net.names("node2") == net.names("node4") == ["e1"]
    assert net["node3"].events == []


def test_partition_cuts_a_clients_fire_from_the_server(make_net: MakeNet) -> None:
    net = make_net()
    net.gossip.partition(["node3"])
    with pytest.raises(NoServerError) as info:
        net["node3"].fire("deploy")
    # Unprefixed: agent/consul/client.go Client.RPC returns structs.ErrNoServers itself.
    assert info.value.message == "No known Consul servers"
    assert str(info.value) == info.value.message
    with pytest.raises(NoServerError) as info:
        net.gossip.route(net["node3"], "dc1")
    assert info.value.message == messages.NO_KNOWN_SERVERS == "No known Consul servers"
    assert net.gossip.trace == []
    assert net["node3"].fired == []
    assert net.gossip.route(net["node2"], "dc1") is net["node1"]


def test_partition_from_a_remote_server_reports_it_unreachable(make_net: MakeNet) -> None:
    net = make_net((*THREE, {"node_name": "far1", "datacenter": "dc2"}))
    net.gossip.partition(["far1"])
    with pytest.raises(NoServerError) as info:
        net["node2"].fire("deploy", dc="dc2")
    assert (
        info.value.message == "rpc error making call: Remote DC has no server currently reachable"
    )
    with pytest.raises(NoServerError) as info:
        net["node1"].fire("deploy", dc="dc2")
    assert info.value.message == "Remote DC has no server currently reachable"


def test_partition_validates_the_groups(make_net: MakeNet) -> None:
    net = make_net()
    with pytest.raises(KeyError) as key_info:
        net.gossip.partition(["node1"], ["node9"])
    assert str(key_info.value) == (
        "a name in groups[1] must be the node name of an agent of the cluster, one of 'node1', "
        "'node2', 'node3', not 'node9' (str)"
    )
    with pytest.raises(ValueError) as info:
        net.gossip.partition(["node1", "node2"], ["node2"])
    assert (
        str(info.value) == "groups[1] must be a group of names not in groups[0], not 'node2' (str)"
    )
    net["node1"].fire("e1")  # the failed calls split nothing
    assert net.names("node3") == ["e1"]


# -- stopped agents ------------------------------------------------------------------------------


def test_deliveries_to_a_stopped_agent_are_dropped(make_net: MakeNet) -> None:
    net = make_net()
    net.gossip.set_running("node3", False)
    assert not net.gossip.is_running("node3")
    assert net.gossip.is_running("node2")
    net["node1"].fire("missed")
    net.gossip.set_running("node3", True)
    net["node1"].fire("seen")
    assert net.outcomes() == [
        ("deliver", "node2", "stored"),
        ("drop", "node3", "agent down"),
        ("deliver", "node2", "stored"),
        ("deliver", "node3", "stored"),
    ]
    assert net.names("node3") == ["seen"]
    assert net.names("node2") == ["missed", "seen"]


def test_a_delayed_delivery_due_while_the_agent_is_down_is_dropped(make_net: MakeNet) -> None:
    net = make_net(delay=(1.0, 1.0))
    net["node1"].fire("e1")
    net.gossip.set_running("node2", False)
    assert net.gossip.settle() == 1
    assert net.outcomes() == [("drop", "node2", "agent down"), ("deliver", "node3", "stored")]


def test_a_stopped_server_takes_no_fire(make_net: MakeNet) -> None:
    net = make_net()
    net.gossip.set_running("node1", False)
    with pytest.raises(NoServerError) as info:
        net["node2"].fire("deploy")
    # agent/consul/client.go Client.RPC: structs.ErrNoServers, before any call (no prefix).
    assert info.value.message == "No known Consul servers"


def test_set_running_of_an_unknown_agent(make_net: MakeNet) -> None:
    net = make_net()
    with pytest.raises(KeyError):
        net.gossip.set_running("node9", False)


# -- datacenters ---------------------------------------------------------------------------------


TWO_DCS: tuple[AgentSpec, ...] = (
    "node1",
    {"node_name": "node2", "server": False},
    {"node_name": "far1", "datacenter": "dc2"},
    {"node_name": "far2", "datacenter": "dc2", "server": False},
)


def test_fire_to_another_datacenter_is_gossiped_only_there(make_net: MakeNet) -> None:
    net = make_net(TWO_DCS)
    net["node1"].fire("local")
    event = net["node2"].fire("remote", dc="dc2")
    assert net.gossip.route(net["node2"], "dc2") is net["far1"]

    assert net.names("far1") == net.names("far2") == ["remote"]
    assert net.ltimes("far2") == [2]  # stamped by dc2's server, whose clock is its own
    assert net.names("node1") == net.names("node2") == ["local"]
    assert [(e.id, e.ltime) for e in net["node2"].fired] == [(event.id, 2)]
    assert [(e.kind, e.source, e.target) for e in net.gossip.trace if e.name == "remote"] == [
        ("fire", "far1", ""),
        ("deliver", "far1", "far2"),
    ]


@pytest.mark.parametrize("cut_off", ["stopped", "partitioned"])
def test_a_client_without_a_server_of_its_own_cannot_fire_to_another_dc(
    make_net: MakeNet, cut_off: str
) -> None:
    # consul-events.md §3.2: the client sends Internal.EventFire to a server of its own
    # datacenter, which forwards it (ForwardRPC); with no server its own Client.RPC
    # (agent/consul/client.go) answers structs.ErrNoServers before any call: not prefixed.
    net = make_net(TWO_DCS)
    if cut_off == "stopped":
        net.gossip.set_running("node1", False)
    else:
        net.gossip.partition(["node1"])  # node2 still reaches far1, but not its own server
    with pytest.raises(NoServerError) as info:
        net["node2"].fire("deploy", dc="dc2")
    assert info.value.message == "No known Consul servers"
    assert net["far1"].events == []


@pytest.mark.parametrize(
    ("node", "text"),
    [("node1", "No path to datacenter"), ("node2", "rpc error making call: No path to datacenter")],
)
def test_fire_to_an_unknown_datacenter(make_net: MakeNet, node: str, text: str) -> None:
    net = make_net(TWO_DCS)
    with pytest.raises(NoPathToDatacenterError) as info:
        net[node].fire("deploy", dc="dc9")
    assert info.value.message == text
    assert str(info.value) == text
    assert net.gossip.trace == []
    with pytest.raises(NoPathToDatacenterError) as info:
        net.gossip.route(net[node], "dc9")
    assert info.value.message == "No path to datacenter"


def test_client_prefix_is_added_to_the_servers_errors(make_net: MakeNet) -> None:
    net = make_net(
        (
            {"node_name": "node1", "acl": "deny", "management_token": "root"},
            {"node_name": "node2", "server": False},
        )
    )
    with pytest.raises(ACLNotFoundError) as not_found:
        net["node2"].fire("deploy", token="nope")
    assert not_found.value.message == "rpc error making call: ACL not found"
    with pytest.raises(ACLNotFoundError) as not_found:
        net["node1"].fire("deploy", token="nope")
    assert not_found.value.message == "ACL not found"
    # "Permission denied" stays the body (HTTP finds it by substring); the long form is wrapped.
    detail = (
        "Permission denied: anonymous token lacks permission 'event:write' on \"deploy\". "
        "The anonymous token is used implicitly when a request does not specify a token."
    )
    with pytest.raises(PermissionDeniedError) as denied:
        net["node2"].fire("deploy")
    assert (denied.value.message, denied.value.detail) == (
        "Permission denied",
        "rpc error making call: " + detail,
    )
    with pytest.raises(PermissionDeniedError) as denied:
        net["node1"].fire("deploy")
    assert (denied.value.message, denied.value.detail) == ("Permission denied", detail)
    assert net.gossip.trace == []


# -- the trace -----------------------------------------------------------------------------------


def test_trace_entries_are_exact(make_net: MakeNet) -> None:
    clock = ManualClock(100.0)
    net = make_net(
        ("node1", {"node_name": "node2", "server": False, "services": ["web"]}, THREE[2]),
        clock=clock,
    )
    deploy = net["node2"].fire("deploy", b"v1", service="web")
    clock.advance(1.5)
    net.gossip.set_running("node3", False)
    restart = net["node1"].fire("restart")

    assert net.gossip.trace == [
        TraceEntry(1, 0.0, "fire", "node1", "", deploy.id, "deploy", 2, "gossiped"),
        TraceEntry(2, 0.0, "deliver", "node1", "node2", deploy.id, "deploy", 2, "stored"),
        TraceEntry(3, 0.0, "deliver", "node1", "node3", deploy.id, "deploy", 2, "filtered"),
        TraceEntry(4, 1.5, "fire", "node1", "", restart.id, "restart", 3, "gossiped"),
        TraceEntry(5, 1.5, "deliver", "node1", "node2", restart.id, "restart", 3, "stored"),
        TraceEntry(6, 1.5, "drop", "node1", "node3", restart.id, "restart", 3, "agent down"),
    ]
    # The trace is a copy.
    net.gossip.trace.clear()
    assert len(net.gossip.trace) == 6


def test_trace_of_a_lost_and_a_held_delivery(make_net: MakeNet) -> None:
    net = make_net(("node1", "node2"), loss=1.0)
    lost = net["node1"].fire("lost")
    assert net.gossip.trace[1] == TraceEntry(
        2, 0.0, "drop", "node1", "node2", lost.id, "lost", 2, "lost"
    )
    held = make_net(("node1", "node2"), manual=True)
    event = held["node1"].fire("held")
    assert held.gossip.trace[1] == TraceEntry(
        2, 0.0, "hold", "node1", "node2", event.id, "held", 2, "waiting for release"
    )


# -- settings ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "text"),
    [
        (
            {"delay": (2.0, 1.0)},
            "delay must be a (low, high) pair of finite seconds with 0 <= low <= high, such as "
            "(0.0, 0.5), not (2.0, 1.0) (tuple)",
        ),
        (
            {"delay": (-1.0, 0.0)},
            "delay[0] must be a finite number of seconds >= 0, not -1.0 (float)",
        ),
        ({"loss": 1.5}, "loss must be a finite number from 0 to 1, not 1.5 (float)"),
        ({"loss": -0.1}, "loss must be a finite number from 0 to 1, not -0.1 (float)"),
        ({"duplicate": 2}, "duplicate must be a finite number from 0 to 1, not 2 (int)"),
        ({"flush_after": -1}, "flush_after must be a finite number of seconds >= 0, not -1 (int)"),
    ],
)
def test_settings_validation(options: dict[str, Any], text: str) -> None:
    with pytest.raises(ValueError) as info:
        GossipSettings(**options)
    assert str(info.value) == text


@pytest.mark.parametrize(
    "options",
    [{"delay": (0.0, 0.0)}, {"delay": (1.0, 1.0)}, {"loss": 0}, {"loss": 1}, {"flush_after": 0}],
)
def test_settings_accept_the_bounds(options: dict[str, Any]) -> None:
    GossipSettings(**options)


def test_close_ends_the_thread_and_drops_what_is_in_flight(make_net: MakeNet) -> None:
    clock = ManualClock()
    net = make_net(delay=(1.0, 1.0), clock=clock)
    net["node1"].fire("e1")
    assert any(t.name == "consul-fake-gossip" for t in threading.enumerate())
    net.gossip.close()
    assert not any(t.name == "consul-fake-gossip" for t in threading.enumerate())
    clock.advance(5.0)
    assert net["node2"].events == []
    assert net.gossip.in_flight == 2
