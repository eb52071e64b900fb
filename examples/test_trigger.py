"""Firing deploy events, checked against what the fake agent stored and was asked to fire."""

from __future__ import annotations

import socket
from typing import Any

import consul
import pytest
from deployer import Deploy, DeployError, fire_deploy

from pytest_consul_events import FakeConsulAgent

DEPLOY_WEB_PAYLOAD = b'{"service":"web","version":"1.4.2"}'


@pytest.mark.consul_agent(node_name="web-1", services=[{"name": "web", "tags": ["canary"]}])
def test_deploy_event_carries_payload_and_filters(
    consul_agent: FakeConsulAgent, consul_client: Any
) -> None:
    event_id = fire_deploy("web", "1.4.2", node="^web-", tag="^canary$", client=consul_client)

    [event] = consul_agent.events
    assert event.id == event_id
    assert event.name == "deploy"
    assert event.payload == DEPLOY_WEB_PAYLOAD
    assert event.node_filter == "^web-"
    assert event.service_filter == "^web$"
    assert event.tag_filter == "^canary$"
    assert event.version == 1
    assert event.ltime == 2  # a fresh agent's first user event
    assert consul_agent.fired == [event]
    assert Deploy.from_payload(event.payload) == Deploy("web", "1.4.2")


@pytest.mark.consul_agent(node_name="db-1", services=["web"])
def test_event_filtered_out_by_node_name_is_fired_but_not_stored(
    consul_agent: FakeConsulAgent, consul_client: Any
) -> None:
    event_id = fire_deploy("web", "1.4.2", node="^web-", client=consul_client)

    # Consul answers 200 even when the firing agent's own filters keep the event out.
    assert consul_agent.events == []
    assert [(e.id, e.node_filter, e.payload) for e in consul_agent.fired] == [
        (event_id, "^web-", DEPLOY_WEB_PAYLOAD)
    ]


@pytest.mark.consul_agent(services=[{"name": "web", "id": "web-blue"}, "webhooks"])
def test_service_filter_matches_service_ids_exactly(
    consul_agent: FakeConsulAgent, consul_client: Any
) -> None:
    fire_deploy("web", "1.4.2", client=consul_client)

    # The filter ^web$ is matched against IDs ("web-blue", "webhooks"), not names: no match.
    assert consul_agent.events == []
    consul_agent.register_service("web")
    event_id = fire_deploy("web", "1.4.3", client=consul_client)
    assert [e.id for e in consul_agent.events] == [event_id]


@pytest.mark.consul_agent(services=[{"name": "web", "tags": ["stable"]}])
def test_tag_filter_keeps_event_from_instances_without_the_tag(
    consul_agent: FakeConsulAgent, consul_client: Any
) -> None:
    fire_deploy("web", "1.4.2", tag="^canary$", client=consul_client)

    assert consul_agent.events == []
    assert [e.tag_filter for e in consul_agent.fired] == ["^canary$"]


@pytest.mark.consul_agent(services=["web"])
def test_too_large_payload_is_a_deploy_error(
    consul_agent: FakeConsulAgent, consul_client: Any
) -> None:
    with pytest.raises(DeployError) as caught:
        fire_deploy("web", "v" * 600, client=consul_client)

    assert str(caught.value) == (
        f"Consul refused the deploy of web {'v' * 600}: 500 error broadcasting event: "
        "user event exceeds configured limit of 512 bytes before encoding"
    )
    assert type(caught.value.__cause__) is consul.ConsulException
    assert consul_agent.fired == []
    assert consul_agent.events == []


def test_invalid_node_pattern_is_a_deploy_error(
    consul_agent: FakeConsulAgent, consul_client: Any
) -> None:
    with pytest.raises(DeployError) as caught:
        fire_deploy("web", "1.4.2", node="web-(", client=consul_client)

    assert str(caught.value) == (
        "Consul refused the deploy of web 1.4.2: 500 Invalid node filter: "
        "error parsing regexp: missing closing ): `web-(`"
    )
    assert consul_agent.fired == []


@pytest.mark.consul_agent(services=["web"])
def test_client_from_environment_reaches_the_fake(
    consul_agent: FakeConsulAgent, consul_env: dict[str, str]
) -> None:
    assert consul_env == {"CONSUL_HTTP_ADDR": consul_agent.http_addr}

    event_id = fire_deploy("web", "1.4.2")  # consul.Consul() reads CONSUL_HTTP_ADDR

    assert [(e.id, e.payload) for e in consul_agent.events] == [(event_id, DEPLOY_WEB_PAYLOAD)]


def test_unreachable_consul_is_a_deploy_error() -> None:
    with socket.socket() as sock:  # a port nothing listens on once the socket is closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = consul.Consul(host="127.0.0.1", port=port)
    try:
        with pytest.raises(DeployError) as caught:
            fire_deploy("web", "1.4.2", client=client)
    finally:
        client.http.session.close()

    assert str(caught.value) == "could not reach Consul to deploy web 1.4.2: ConnectionError"
