"""The Python side of the control API's operations: ``FakeConsulAgent.restore``, ``advance``,
``verify``, ``released``, ``FakeConsulCluster.reset``/``configure``, fixed ports and
``AgentBindError``. Each control route is a translation of one of these."""

from __future__ import annotations

import socket
import threading

import pytest
from standalone_support import free_ports

from pytest_consul_events.cluster import AgentBindError, FakeConsulCluster
from pytest_consul_events.fake import STRICT_FAILURE, FakeConsulAgent
from pytest_consul_events.model.clock import REAL_CLOCK, ManualClock
from pytest_consul_events.model.services import Service


@pytest.fixture
def agent() -> FakeConsulAgent:
    with FakeConsulAgent(node_name="web-1", services=["web"], seed=7, buffer_size=8) as agent:
        yield agent


# -- FakeConsulAgent.restore ----------------------------------------------------------------------


def test_restore_goes_back_to_the_configuration_the_agent_was_made_with(
    agent: FakeConsulAgent,
) -> None:
    first = agent.fire("deploy").id
    agent.register_service("db")
    agent.client().event.fire("other")
    agent.restore()
    assert (agent.events, agent.fired, list(agent.requests)) == ([], [], [])
    assert list(agent.services) == ["web"]
    assert (agent.node_name, agent.config.buffer_size, agent.seed) == ("web-1", 8, 7)
    assert agent.fire("deploy").id == first  # the same seed replays the same IDs


def test_restore_applies_options_over_the_start_up_configuration(agent: FakeConsulAgent) -> None:
    agent.restore(buffer_size=2, services=["db"])
    assert (agent.node_name, agent.config.buffer_size, list(agent.services)) == ("web-1", 2, ["db"])
    agent.restore()
    assert (agent.config.buffer_size, list(agent.services)) == (8, ["web"])


def test_restore_without_a_seed_draws_a_new_one_each_time() -> None:
    with FakeConsulAgent() as agent:
        seeds = set()
        for _ in range(5):
            agent.restore()
            seeds.add(agent.seed)
        assert len(seeds) == 5


def test_restore_refuses_a_bad_option_and_changes_nothing(agent: FakeConsulAgent) -> None:
    agent.fire("deploy")
    with pytest.raises(ValueError) as excinfo:
        agent.restore(buffer_size=0)
    assert str(excinfo.value) == "buffer_size must be an int from 1 to 1000000000, not 0 (int)"
    with pytest.raises(TypeError) as excinfo_type:
        agent.restore(strict="yes")
    assert str(excinfo_type.value) == "strict must be True or False, not 'yes' (str)"
    assert [e.name for e in agent.events] == ["deploy"]


def test_restore_sets_and_reverts_the_clock(agent: FakeConsulAgent) -> None:
    assert agent.clock is REAL_CLOCK
    agent.restore(clock="manual")
    assert isinstance(agent.clock, ManualClock)
    assert agent.advance(5) == 5.0
    agent.restore()
    assert agent.clock is REAL_CLOCK
    with pytest.raises(ValueError) as excinfo:
        agent.restore(clock="sundial")
    assert (
        str(excinfo.value)
        == "clock must be 'real', 'manual', a ManualClock or None, not 'sundial' (str)"
    )


def test_advance_needs_a_manual_clock(agent: FakeConsulAgent) -> None:
    with pytest.raises(TypeError) as excinfo:
        agent.advance(1)
    assert str(excinfo.value) == "advance() needs an agent made with clock='manual'"


def test_advance_ends_a_blocked_query_whose_wait_is_over() -> None:
    with FakeConsulAgent(clock=ManualClock()) as agent:
        index = agent.list_events().index
        done = threading.Event()
        thread = threading.Thread(
            target=lambda: (agent.list_events(index=index, wait=30), done.set())
        )
        thread.start()
        agent.wait_for_blocked(1)
        assert agent.advance(29) == 29.0
        assert not done.wait(0.05)
        agent.advance(1)
        thread.join(5)
        assert done.is_set()


def test_verify_fails_in_strict_mode_after_an_unimplemented_endpoint() -> None:
    with FakeConsulAgent(strict=True) as agent:
        agent.verify()
        client = agent.client()
        client.http.session.get(f"{agent.url}/v1/kv/config")
        with pytest.raises(AssertionError) as excinfo:
            agent.verify()
        [record] = agent.requests.unimplemented
        assert str(excinfo.value) == f"{STRICT_FAILURE}\n  {record}"
        agent.restore(strict=False)
        client.http.session.get(f"{agent.url}/v1/kv/config")
        agent.verify()  # not strict any more
        agent.restore()
        assert agent.strict is True


def test_released_is_set_by_release_blocked_and_cleared_by_a_reset(agent: FakeConsulAgent) -> None:
    assert agent.released is False
    agent.release_blocked()
    assert agent.released is True
    agent.restore()
    assert agent.released is False


# -- FakeConsulCluster.reset / configure ----------------------------------------------------------


def _run(cluster: FakeConsulCluster) -> dict[str, list[tuple[str, str]]]:
    for name in ("e1", "e2", "e3"):
        cluster["node1"].fire(name)
    cluster.settle()
    return {a.node_name: [(e.id, e.name) for e in a.events] for a in cluster}


def test_cluster_reset_replays_a_seeded_run() -> None:
    with FakeConsulCluster(seed=11, unordered=True) as cluster:
        first = _run(cluster)
        cluster.reset()
        assert all(agent.events == [] for agent in cluster)
        assert cluster.trace == []
        assert _run(cluster) == first
        assert first["node2"] != first["node3"]  # unordered: each agent its own order


def test_cluster_reset_restarts_stopped_agents_heals_and_drops_held() -> None:
    with FakeConsulCluster(
        seed=3, manual=True, acl="allow", tokens={"t": 'event "" { policy = "write" }'}
    ) as c:
        port = c["node3"].port
        c.stop("node3")
        c.partition(["node1"], ["node2"])
        c["node1"].fire("deploy")
        assert c.gossip.held == 2  # manual mode holds the deliveries to node2 and node3
        c.reset()
        assert c.gossip.is_running("node3")
        assert c["node3"].port == port
        assert (c.gossip.held, c.gossip.in_flight) == (0, 0)
        assert c["node2"].client().event.fire("after")["Name"] == "after"
        assert c.gossip.held == 2  # still manual, as at the start
        assert "t" in [token.secret_id for token in c.acl.tokens()]


def test_cluster_configure_applies_options_over_the_start_up_ones() -> None:
    with FakeConsulCluster(seed=5, manual=True) as cluster:
        cluster.configure(manual=False, seed=6)
        assert (cluster.seed, cluster.gossip.settings.manual) == (6, False)
        cluster["node1"].fire("deploy")
        assert [e.name for e in cluster["node3"].events] == ["deploy"]
        cluster.configure(clock="manual")
        assert isinstance(cluster.clock, ManualClock)
        assert all(agent.clock is cluster.clock for agent in cluster)
        assert (cluster.seed, cluster.gossip.settings.manual) == (5, True)
        cluster.reset()
        assert cluster.clock is REAL_CLOCK


def test_cluster_configure_refuses_unknown_and_bad_options_and_changes_nothing() -> None:
    with FakeConsulCluster(seed=5) as cluster:
        gossip = cluster.gossip
        with pytest.raises(TypeError) as excinfo:
            cluster.configure(buffer_size=3)
        assert str(excinfo.value) == (
            "unknown cluster option 'buffer_size'; accepted options: acl, clock, "
            "default_token, delay, dev_mode, duplicate, flush_after, loss, management_token, "
            "manual, seed, tokens, unordered"
        )
        with pytest.raises(ValueError) as excinfo_value:
            cluster.configure(loss=2)
        assert str(excinfo_value.value) == "loss must be a finite number from 0 to 1, not 2 (int)"
        assert cluster.gossip is gossip


def test_an_agent_of_a_cluster_keeps_its_identity_and_the_cluster_s_options() -> None:
    with FakeConsulCluster(seed=5) as cluster:
        agent = cluster["node2"]
        with pytest.raises(ValueError) as excinfo:
            agent.restore(node_name="other", datacenter="dc9")
        assert str(excinfo.value) == (
            "datacenter, node_name cannot change on an agent of a cluster (agent 'node2')"
        )
        with pytest.raises(ValueError) as excinfo_acl:
            agent.restore(acl="deny", clock="manual")
        assert (
            str(excinfo_acl.value) == "acl, clock apply to the whole cluster: configure the cluster"
        )
        agent.restore(node_name="node2", services=[Service("web")])
        assert list(agent.services) == ["web"]


def test_cluster_release_checks_its_arguments() -> None:
    with FakeConsulCluster(seed=5, manual=True) as cluster:
        with pytest.raises(ValueError) as excinfo:
            cluster.release(-1)
        assert str(excinfo.value) == "count must be an int >= 0 or None, not -1 (int)"
        with pytest.raises(TypeError) as excinfo_type:
            cluster.release("1")  # type: ignore[arg-type]
        assert str(excinfo_type.value) == "count must be an int >= 0 or None, not '1' (str)"
        with pytest.raises(KeyError):
            cluster.release(to="ghost")


# -- fixed ports ----------------------------------------------------------------------------------


def test_cluster_agents_take_fixed_ports() -> None:
    first, second = free_ports(2)
    with FakeConsulCluster(
        [{"node_name": "a", "port": first}, {"node_name": "b", "port": second}], seed=1
    ) as cluster:
        assert (cluster["a"].port, cluster["b"].port) == (first, second)


def test_a_taken_port_names_the_agent() -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        with pytest.raises(AgentBindError) as excinfo:
            FakeConsulCluster(["a", {"node_name": "b", "port": port}], seed=1)
    error = excinfo.value
    assert (error.node_name, error.host, error.port) == ("b", "127.0.0.1", port)
    assert str(error) == f"agent 'b' cannot listen on 127.0.0.1:{port}: Address already in use"
