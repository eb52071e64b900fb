"""The README's snippets, as tests: what the README shows is what runs.

``tests/plugin/test_readme_snippets.py`` checks that each test-shaped snippet of the README
appears here word for word. The two helpers below stand for the code under test.
"""

from __future__ import annotations

import json
import threading

import consul
import pytest


def deploy(client: consul.Consul, *, service: str, version: str) -> None:
    """Code under test: announce a deploy of ``service`` at ``version`` to its instances."""
    payload = json.dumps({"service": service, "version": version})
    client.event.fire("deploy", payload, service=service)


def start_deployer(http_addr: str) -> threading.Thread:
    """Code under test that fires from a background thread, with a client of its own."""
    host, port = http_addr.rsplit(":", 1)

    def run() -> None:
        with consul.Consul(host=host, port=int(port)) as client:
            payload = json.dumps({"service": "web", "version": "1.4.2"})
            client.event.fire("deploy", payload, service="^web$")
            client.http.session.close()

    thread = threading.Thread(target=run, name="deployer")
    thread.start()
    return thread


@pytest.mark.consul_agent(services=["web"])
def test_deploy_fires_one_event(consul_client, consul_agent):
    deploy(consul_client, service="web", version="1.4.2")      # your code

    [event] = consul_agent.events
    assert event.name == "deploy"
    assert json.loads(event.payload) == {"service": "web", "version": "1.4.2"}
    assert event.service_filter == "web"


@pytest.mark.consul_agent(services=["web"])
def test_deploy_announces_the_version(consul_agent):
    start_deployer(consul_agent.http_addr)            # fires from a background thread
    consul_agent.wait_for_event("deploy", timeout=5)
    consul_agent.assert_fired("deploy", json={"service": "web", "version": "1.4.2"}, service="^web$")
    consul_agent.assert_not_fired("rollback")
    assert consul_agent.requests.filter(method="PUT", path="/v1/event/fire/") != []


@pytest.mark.consul_agent(acl="deny", tokens={
    "deployer": 'event "deploy" { policy = "write" }',
    "auditor": 'event_prefix "" { policy = "read" }',
})
def test_only_the_deployer_may_fire(consul_agent):
    with pytest.raises(consul.ACLPermissionDenied):         # 403 Permission denied
        consul_agent.client(token="auditor").event.fire("deploy")
    consul_agent.client(token="deployer").event.fire("deploy")


@pytest.mark.consul_agent(
    node_name="web-1",                        # default "node1"
    datacenter="eu-west",                     # default "dc1"
    services=["db", {"name": "web", "id": "web-a", "tags": ["v2"]}],   # default none
    buffer_size=16,                           # default 256
    seed=42,                                  # fixes event IDs, hence list indexes; default random
    dev_mode=True,                            # pretty-print JSON like `consul agent -dev`; default False
    acl="deny",                               # enforce ACLs with this default policy; default None (off)
    management_token="root",                  # a secret with every permission; default none
    tokens={"deployer": 'event "deploy" { policy = "write" }'},   # secret -> rules; default none
    default_token="",                         # used by requests without a token; default ""
    clock="manual",                           # blocking queries wait on consul_agent.clock; default real
    strict=True,                              # fail on calls to endpoints the fake lacks; default False
    server=True,                              # a server agent; False: a client agent (its fire
                                              # errors read "rpc error making call: ..."); default True
    http_max_conns_per_client=50,             # Consul's per-client connection limit, 0 for none; default 200
    history_limit=1000,                       # fired events and requests kept; default 10,000
)
def test_something(consul_agent): ...


@pytest.mark.consul_cluster(
    agents=["web-1", {"node_name": "web-2", "services": ["web"]}, {"node_name": "db-1", "datacenter": "dc2"}],
    unordered=True,          # each agent receives events in its own random order
    duplicate=0.3,           # a delivery arrives twice with this probability (serf drops the copy)
    loss=0.0,                # a delivery is lost with this probability
    delay=(0.0, 0.05),       # latency per delivery, seconds, on the cluster's clock
    manual=False,            # deliveries wait for cluster.release()
    flush_after=0.02,        # unordered: deliver once no event was fired for this long, seconds
    clock="manual",          # delays and blocking queries wait on consul_cluster.clock; default real
    seed=1234,               # every random choice; default random, shown on failure
    acl="allow",             # ACLs on every agent, with this default policy; default None (off)
    management_token="root",                                   # default none
    tokens={"deployer": 'event "deploy" { policy = "write" }'},  # secret -> rules; default none
    default_token="",        # used by requests without a token; default ""
)
def test_consumer_copes(consul_cluster):
    consul_cluster["web-1"].fire("deploy", b"v2")
    consul_cluster.settle()                          # deliver everything in flight now
    client = consul_cluster.client("web-2")          # py-consul bound to web-2, closed after the test
    assert client.event.list(name="deploy")[1][0]["Payload"] == b"v2"
