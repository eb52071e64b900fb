"""A simulated cluster over HTTP: each agent at its own address, talked to with py-consul.

Fires go through one agent's HTTP API, to a server of the datacenter, which gossips the event;
the other agents list it on theirs (consul-events.md §3.2, §6, §7).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import consul
import pytest
import requests
from consul.exceptions import ACLPermissionDenied, ConsulException
from http_support import new_threads

from pytest_consul_events.cluster import FakeConsulCluster

SEED = 2024
TWO_DCS = [
    "node1",
    "node2",
    {"node_name": "far1", "datacenter": "dc2"},
    {"node_name": "far2", "datacenter": "dc2"},
]
_IDLE = threading.Event()  # never set: its wait() is the polling interval


@pytest.fixture
def cluster(request: pytest.FixtureRequest) -> Iterator[FakeConsulCluster]:
    """The default cluster (node1 server, node2 and node3 clients, dc1), or the one asked for
    with ``@pytest.mark.parametrize("cluster", [options], indirect=True)``."""
    options: dict[str, Any] = {"seed": SEED, **getattr(request, "param", {})}
    with FakeConsulCluster(**options) as made:
        yield made


def wait_until(predicate: Any, timeout: float = 2.0) -> None:
    """Poll ``predicate`` until it holds, failing the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"condition not reached within {timeout} s")
        _IDLE.wait(0.001)


def names(cluster: FakeConsulCluster, node: str) -> list[str]:
    """The event names ``node`` lists over HTTP (py-consul), in its order."""
    _, events = cluster.client(node).event.list()
    return [event["Name"] for event in events]


def listed(cluster: FakeConsulCluster, node: str, token: str) -> list[tuple[str, str]]:
    """``(ID, Name)`` of what ``node`` lists for ``token`` (py-consul's list sends no token)."""
    reply = requests.get(
        f"{cluster[node].url}/v1/event/list", headers={"X-Consul-Token": token}, timeout=5
    )
    assert reply.status_code == 200, reply.text
    return [(event["ID"], event["Name"]) for event in reply.json()]


def fire_error(cluster: FakeConsulCluster, node: str, **params: str) -> tuple[int, str]:
    reply = requests.put(f"{cluster[node].url}/v1/event/fire/deploy", params=params, timeout=5)
    return reply.status_code, reply.text


# -- addresses -----------------------------------------------------------------------------------


def test_each_agent_answers_at_its_own_address(cluster: FakeConsulCluster) -> None:
    assert [agent.node_name for agent in cluster] == ["node1", "node2", "node3"]
    assert len(cluster) == 3
    assert len({agent.url for agent in cluster}) == 3
    for agent in cluster:
        assert agent.host == "127.0.0.1"
        assert agent.url == f"http://127.0.0.1:{agent.port}"
        config = cluster.client(agent.node_name).agent.self()["Config"]
        assert (config["NodeName"], config["Datacenter"]) == (agent.node_name, "dc1")
    assert [cluster[name].config.server for name in ("node1", "node2", "node3")] == [
        True,
        False,
        False,
    ]


def test_agent_self_tells_a_client_from_a_server(cluster: FakeConsulCluster) -> None:
    # consul-events.md §9: Config.Server is the agent's server flag.
    servers = [cluster.client(n).agent.self()["Config"]["Server"] for n in ("node1", "node2")]
    assert servers == [True, False]


# -- fire on one agent, list on another ----------------------------------------------------------


def test_fire_on_one_agent_is_listed_on_every_agent(cluster: FakeConsulCluster) -> None:
    answer = cluster.client("node2").event.fire("deploy", "v1")
    assert answer["LTime"] == 0
    for node in ("node1", "node2", "node3"):
        index, events = cluster.client(node).event.list()
        assert events == [
            {
                "ID": answer["ID"],
                "Name": "deploy",
                "Payload": b"v1",  # py-consul decodes the base64
                "NodeFilter": "",
                "ServiceFilter": "",
                "TagFilter": "",
                "Version": 1,
                "LTime": 2,
            }
        ]
        assert index == str(cluster[node].events[-1].index)
    assert [(e.kind, e.source, e.target, e.outcome) for e in cluster.trace] == [
        ("fire", "node1", "", "gossiped"),
        ("deliver", "node1", "node2", "stored"),
        ("deliver", "node1", "node3", "stored"),
    ]


def test_each_agent_applies_its_own_filters(cluster: FakeConsulCluster) -> None:
    cluster.client("node3").agent.service.register("web", tags=["v2"])
    cluster.client("node1").event.fire("deploy", service="^web$", tag="v2")
    cluster.client("node1").event.fire("restart", node="node2")
    assert names(cluster, "node1") == []
    assert names(cluster, "node2") == ["restart"]
    assert names(cluster, "node3") == ["deploy"]


def test_a_client_fire_to_an_unknown_dc(cluster: FakeConsulCluster) -> None:
    assert fire_error(cluster, "node2", dc="dc9") == (
        500,
        "rpc error making call: No path to datacenter",
    )
    assert fire_error(cluster, "node1", dc="dc9") == (500, "No path to datacenter")
    with pytest.raises(ConsulException) as info:
        cluster.client("node3").event.fire("deploy", dc="dc9")
    assert str(info.value) == "500 rpc error making call: No path to datacenter"
    assert cluster.trace == []


@pytest.mark.parametrize("cluster", [{"agents": TWO_DCS}], indirect=True)
def test_a_fire_with_dc_goes_to_that_datacenter(cluster: FakeConsulCluster) -> None:
    assert [cluster[n].config.server for n in ("node1", "node2", "far1", "far2")] == [
        True,
        False,
        True,
        False,
    ]
    answer = cluster.client("node2").event.fire("deploy", "v2", dc="dc2")
    for node in ("far1", "far2"):
        _, events = cluster.client(node).event.list()
        assert [(e["ID"], e["Name"], e["LTime"]) for e in events] == [(answer["ID"], "deploy", 2)]
    assert names(cluster, "node1") == names(cluster, "node2") == []
    assert [(e.kind, e.source, e.target) for e in cluster.trace] == [
        ("fire", "far1", ""),
        ("deliver", "far1", "far2"),
    ]


# -- stopped agents ------------------------------------------------------------------------------


def test_a_stopped_agent_refuses_connections_and_comes_back_empty(
    cluster: FakeConsulCluster,
) -> None:
    cluster.client("node1").event.fire("before")
    port = cluster["node3"].port
    cluster.stop("node3")
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{cluster['node3'].url}/v1/event/list", timeout=5)
    with pytest.raises(RuntimeError) as info:
        cluster.client("node3")
    assert str(info.value) == (
        f"client() needs a serving agent, but <FakeConsulAgent 'node3' dc='dc1' at "
        f"127.0.0.1:{port}> was stopped: call cluster.start_agent('node3') to serve it again"
    )
    cluster.client("node2").event.fire("missed")
    assert names(cluster, "node2") == ["before", "missed"]

    agent = cluster.start_agent("node3")
    assert agent is cluster["node3"]
    assert agent.port == port
    assert names(cluster, "node3") == []  # the buffer is memory only
    cluster.client("node2").event.fire("after")
    _, events = cluster.client("node3").event.list()
    assert [(e["Name"], e["LTime"]) for e in events] == [("after", 4)]
    assert [(e.target, e.name, e.outcome) for e in cluster.trace if e.kind != "fire"] == [
        ("node2", "before", "stored"),
        ("node3", "before", "stored"),
        ("node2", "missed", "stored"),
        ("node3", "missed", "agent down"),
        ("node2", "after", "stored"),
        ("node3", "after", "stored"),
    ]


def test_a_restarted_agent_keeps_its_services(cluster: FakeConsulCluster) -> None:
    cluster.client("node3").agent.service.register("web")
    cluster.stop("node3")
    cluster.start_agent("node3")
    assert list(cluster.client("node3").agent.services()) == ["web"]
    cluster.client("node1").event.fire("deploy", service="^web$")
    assert names(cluster, "node3") == ["deploy"]


def test_with_its_server_stopped_a_client_cannot_fire(cluster: FakeConsulCluster) -> None:
    cluster.stop("node1")
    # agent/consul/client.go Client.RPC: structs.ErrNoServers, produced by the client itself.
    assert fire_error(cluster, "node2") == (500, "No known Consul servers")
    cluster.start_agent("node1")
    cluster.client("node2").event.fire("deploy")
    assert names(cluster, "node3") == ["deploy"]


def test_a_restarted_server_fires_past_the_clusters_clock(cluster: FakeConsulCluster) -> None:
    # serf's push/pull on join witnesses the remote EventLTime (and, with ignoreOld, raises
    # eventMinTime to it: consul-events.md §7), so a rejoined server's next event is newer
    # than anything the cluster saw, not LTime 2.
    for _ in range(600):
        cluster["node1"].fire("tick")  # LTime 2 .. 601
    cluster.stop("node1")
    cluster.start_agent("node1")
    cluster.client("node2").event.fire("after")
    _, events = cluster.client("node3").event.list()
    assert events[-1]["Name"] == "after"
    assert events[-1]["LTime"] >= 602


@pytest.mark.parametrize("cluster", [{"manual": True}], indirect=True)
def test_a_restarted_agent_ignores_events_from_before_it_rejoined(
    cluster: FakeConsulCluster,
) -> None:
    # consul-events.md §7: Consul joins with ignoreOld, so eventMinTime becomes the remote
    # EventLTime (3 here) and the held event at LTime 2 is dropped when it arrives.
    cluster.client("node1").event.fire("old")
    cluster.stop("node3")
    cluster.start_agent("node3")
    assert cluster.release(to="node3") == 1
    assert names(cluster, "node3") == []
    assert cluster.trace[-1].outcome == "before minimum event time"


# -- ACLs ----------------------------------------------------------------------------------------

ACL_OPTIONS = {
    "acl": "deny",
    "management_token": "root",
    "tokens": {
        "deployer": 'event "deploy" { policy = "write" }',
        "reader": 'event "deploy" { policy = "read" }',
    },
}


@pytest.mark.parametrize("cluster", [ACL_OPTIONS], indirect=True)
def test_acls_are_shared_by_the_cluster(cluster: FakeConsulCluster) -> None:
    answer = cluster.client("node2", token="deployer").event.fire("deploy")
    with pytest.raises(ACLPermissionDenied) as denied:
        cluster.client("node3", token="reader").event.fire("deploy")
    assert str(denied.value) == "Permission denied"
    assert fire_error(cluster, "node2") == (403, "Permission denied")
    assert fire_error(cluster, "node2", token="nope") == (
        500,
        "rpc error making call: ACL not found",
    )
    assert fire_error(cluster, "node1", token="nope") == (500, "ACL not found")

    for node in ("node1", "node2", "node3"):
        assert listed(cluster, node, "reader") == [(answer["ID"], "deploy")]
        assert names(cluster, node) == []  # the anonymous token may read nothing

    # A token made through one agent works on every other.
    token = cluster["node3"].create_token('event_prefix "" { policy = "write" }')
    restart = cluster.client("node1", token=token.secret_id).event.fire("restart")
    assert listed(cluster, "node2", "root") == [
        (answer["ID"], "deploy"),
        (restart["ID"], "restart"),
    ]
    assert listed(cluster, "node3", "reader") == [(answer["ID"], "deploy")]
    assert all(agent.acl is cluster.acl for agent in cluster)


# -- seeds ---------------------------------------------------------------------------------------


def _hostile_run(seed: int) -> tuple[list[str], dict[str, list[tuple[str, str, int]]]]:
    """Fire five events through node2 over HTTP into an unordered, duplicating cluster."""
    with FakeConsulCluster(seed=seed, unordered=True, duplicate=0.5) as cluster:
        client = cluster.client("node2")
        ids = [client.event.fire(f"e{n}")["ID"] for n in range(1, 6)]
        cluster.settle()
        lists: dict[str, list[tuple[str, str, int]]] = {}
        for node in ("node1", "node2", "node3"):
            _, events = cluster.client(node).event.list()
            lists[node] = [(e["ID"], e["Name"], e["LTime"]) for e in events]
        assert cluster.seed == seed
        return ids, lists


def test_the_seed_reproduces_event_ids_and_orders() -> None:
    ids, lists = _hostile_run(SEED)
    assert (ids, lists) == _hostile_run(SEED)
    assert [name for _, name, _ in lists["node1"]] == ["e1", "e2", "e3", "e4", "e5"]
    assert [name for _, name, _ in lists["node2"]] != [name for _, name, _ in lists["node3"]]
    for node_list in lists.values():
        assert sorted(node_list) == sorted(
            zip(ids, ["e1", "e2", "e3", "e4", "e5"], range(2, 7), strict=True)
        )
    other_ids, _ = _hostile_run(SEED + 1)
    assert set(other_ids).isdisjoint(ids)


def test_without_a_seed_a_cluster_draws_one() -> None:
    with FakeConsulCluster() as first, FakeConsulCluster() as second:
        assert isinstance(first.seed, int)
        assert first.seed != second.seed
        assert f"seed: {first.seed} (replay with --consul-seed={first.seed})" in first.report()


# -- closing -------------------------------------------------------------------------------------


def test_close_leaves_no_thread_behind() -> None:
    before = list(threading.enumerate())
    cluster = FakeConsulCluster(seed=SEED, delay=(0.5, 1.0)).start()
    client = cluster.client("node2")
    client.event.fire("deploy")  # in flight: the gossip thread runs
    assert cluster.gossip.in_flight == 2
    assert new_threads(before)
    cluster.close()
    wait_until(lambda: not new_threads(before))
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{cluster['node1'].url}/v1/event/list", timeout=5)


def test_a_cluster_is_a_context_manager_that_closes_its_clients() -> None:
    with FakeConsulCluster(seed=SEED) as cluster:
        client: consul.Consul = cluster.client("node1")
        client.event.fire("deploy")
    assert [len(a.poolmanager.pools) for a in client.http.session.adapters.values()] == [0, 0]
