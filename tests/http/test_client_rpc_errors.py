"""Which errors a client agent reports as an RPC error, over HTTP (requests and py-consul).

A client agent sends a fire to a server of its datacenter (``Internal.EventFire``):

* when it knows no server it can reach, its own ``Client.RPC`` (agent/consul/client.go) returns
  ``structs.ErrNoServers`` (``No known Consul servers``, agent/structs/errors.go) before any call
  is made: the answer is that text alone. A stopped or partitioned server is one serf declared
  failed, which ``Client.nodeFail`` (agent/consul/client_serf.go) removes from the router.
* otherwise the server answers, and errors it sends back are wrapped by ``ConnPool.rpc``
  (agent/pool/pool.go: ``fmt.Errorf("rpc error making call: %w", err)``): the server's
  ``forwardDC`` (agent/consul/rpc.go) answers ``No path to datacenter`` (``ErrNoDCPath``) for a
  datacenter it does not know and ``Remote DC has no server currently reachable``
  (``ErrDCNotAvailable``) for one whose servers are all down.

A server agent answers the same errors unwrapped: it makes the call itself.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from consul.exceptions import ConsulException

from pytest_consul_events.cluster import FakeConsulCluster
from pytest_consul_events.model.gossip import NoKnownServersError, NoServerError

NO_SERVERS = "No known Consul servers"
DC_UNAVAILABLE = "Remote DC has no server currently reachable"
NO_DC_PATH = "No path to datacenter"
PREFIX = "rpc error making call: "
AGENTS = [
    "node1",
    "node2",
    {"node_name": "far1", "datacenter": "dc2"},
    {"node_name": "far2", "datacenter": "dc2"},
]
"""node1 and far1 are the servers of dc1 and dc2; node2 and far2 are clients."""


@pytest.fixture
def cluster() -> Iterator[FakeConsulCluster]:
    with FakeConsulCluster(AGENTS, seed=11) as made:
        yield made


def fire(cluster: FakeConsulCluster, node: str, **params: str) -> tuple[int, str]:
    reply = requests.put(f"{cluster[node].url}/v1/event/fire/deploy", params=params, timeout=5)
    return reply.status_code, reply.text


def pyconsul_error(cluster: FakeConsulCluster, node: str, **params: str) -> str:
    with pytest.raises(ConsulException) as caught:
        cluster.client(node).event.fire("deploy", **params)
    return str(caught.value)


def test_a_client_whose_only_server_is_stopped_answers_no_known_servers(
    cluster: FakeConsulCluster,
) -> None:
    cluster.stop("node1")
    assert fire(cluster, "node2") == (500, NO_SERVERS)
    assert pyconsul_error(cluster, "node2") == f"500 {NO_SERVERS}"
    with pytest.raises(NoKnownServersError) as caught:
        cluster["node2"].fire("deploy")
    assert (caught.value.message, str(caught.value)) == (NO_SERVERS, NO_SERVERS)
    assert cluster["node2"].fired == []


def test_a_partitioned_client_answers_no_known_servers(cluster: FakeConsulCluster) -> None:
    cluster.partition(["node2"])
    assert fire(cluster, "node2") == (500, NO_SERVERS)
    assert pyconsul_error(cluster, "node2") == f"500 {NO_SERVERS}"
    cluster.heal()
    assert fire(cluster, "node2")[0] == 200


def test_a_client_without_its_server_cannot_reach_another_dc_either(
    cluster: FakeConsulCluster,
) -> None:
    # The client's RPC fails before the dc is looked at: the forwarding is the server's.
    cluster.stop("node1")
    assert fire(cluster, "node2", dc="dc2") == (500, NO_SERVERS)
    assert fire(cluster, "node2", dc="dc9") == (500, NO_SERVERS)
    assert cluster["far1"].events == []


def test_a_remote_dc_whose_servers_are_down_is_an_rpc_error_from_a_client(
    cluster: FakeConsulCluster,
) -> None:
    cluster.stop("far1")
    assert fire(cluster, "node2", dc="dc2") == (500, PREFIX + DC_UNAVAILABLE)
    assert pyconsul_error(cluster, "node2", dc="dc2") == f"500 {PREFIX}{DC_UNAVAILABLE}"
    assert fire(cluster, "node1", dc="dc2") == (500, DC_UNAVAILABLE)  # the server itself
    with pytest.raises(NoServerError) as caught:
        cluster["node2"].fire("deploy", dc="dc2")
    assert not isinstance(caught.value, NoKnownServersError)


def test_a_partitioned_remote_dc_is_an_rpc_error_from_a_client(
    cluster: FakeConsulCluster,
) -> None:
    cluster.partition(["far1", "far2"])
    assert fire(cluster, "node2", dc="dc2") == (500, PREFIX + DC_UNAVAILABLE)
    assert fire(cluster, "node1", dc="dc2") == (500, DC_UNAVAILABLE)


def test_an_unknown_dc_is_an_rpc_error_from_a_client(cluster: FakeConsulCluster) -> None:
    assert fire(cluster, "node2", dc="dc9") == (500, PREFIX + NO_DC_PATH)
    assert pyconsul_error(cluster, "far2", dc="dc9") == f"500 {PREFIX}{NO_DC_PATH}"
    assert fire(cluster, "node1", dc="dc9") == (500, NO_DC_PATH)


def test_a_server_with_its_peers_down_still_takes_its_own_fires(
    cluster: FakeConsulCluster,
) -> None:
    cluster.stop("node2")
    assert fire(cluster, "node1")[0] == 200
    assert [e.name for e in cluster["node1"].events] == ["deploy"]
