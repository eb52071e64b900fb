"""A deploy whose token may not fire is queued, not crashed, under Consul ACLs.

The fake agent enforces ACLs as Consul does: ``acl="deny"`` makes deny the default policy and
``tokens`` maps each secret to its rules. ``deployer`` may fire ``deploy``; ``readonly`` may
only read events, so Consul answers its fire with ``403 Permission denied``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import consul
import pytest
from deployer import Deploy, DeployError
from deployer.guarded import DeployQueue, QueuedDeploy, fire_deploy_or_queue

from pytest_consul_events import FakeConsulAgent

DEPLOY_WEB_PAYLOAD = b'{"service":"web","version":"1.4.2"}'

pytestmark = pytest.mark.consul_agent(
    acl="deny",
    services=["web"],
    tokens={
        "deployer": 'event "deploy" { policy = "write" }',
        "readonly": 'event_prefix "" { policy = "read" }',
    },
)


@pytest.fixture
def client_with(consul_agent: FakeConsulAgent) -> Iterator[Callable[[str | None], Any]]:
    """Make py-consul clients sending a given token; they are closed after the test."""
    made: list[Any] = []

    def make(token: str | None) -> Any:
        client = consul_agent.client(token=token)
        made.append(client)
        return client

    yield make
    for client in made:
        client.http.session.close()


@pytest.fixture
def queue() -> DeployQueue:
    return DeployQueue()


def test_allowed_token_fires_and_the_event_is_stored(
    consul_agent: FakeConsulAgent, client_with: Callable[[str | None], Any], queue: DeployQueue
) -> None:
    event_id = fire_deploy_or_queue("web", "1.4.2", queue=queue, client=client_with("deployer"))

    [event] = consul_agent.events
    assert (event.id, event.name, event.payload, event.ltime) == (
        event_id,
        "deploy",
        DEPLOY_WEB_PAYLOAD,
        2,
    )
    assert consul_agent.fired == [event]
    assert queue.pending == []


def test_read_only_token_is_queued_and_nothing_is_stored(
    consul_agent: FakeConsulAgent, client_with: Callable[[str | None], Any], queue: DeployQueue
) -> None:
    event_id = fire_deploy_or_queue("web", "1.4.2", queue=queue, client=client_with("readonly"))

    assert event_id is None
    assert queue.pending == [QueuedDeploy(Deploy("web", "1.4.2"), "Permission denied")]
    assert consul_agent.fired == []
    assert consul_agent.events == []


def test_client_without_token_is_queued_under_default_deny(
    consul_agent: FakeConsulAgent, consul_client: Any, queue: DeployQueue
) -> None:
    assert fire_deploy_or_queue("web", "1.4.2", queue=queue, client=consul_client) is None

    assert queue.pending == [QueuedDeploy(Deploy("web", "1.4.2"), "Permission denied")]
    assert consul_agent.fired == []


def test_queued_deploy_fires_on_retry_with_a_token_that_may(
    consul_agent: FakeConsulAgent, client_with: Callable[[str | None], Any], queue: DeployQueue
) -> None:
    fire_deploy_or_queue("web", "1.4.2", queue=queue, client=client_with("readonly"))
    fire_deploy_or_queue("web", "1.4.3", queue=queue, client=client_with("readonly"))
    deployer = client_with("deployer")

    retried = [
        fire_deploy_or_queue(q.deploy.service, q.deploy.version, queue=queue, client=deployer)
        for q in queue.take()
    ]

    assert queue.pending == []
    assert [e.id for e in consul_agent.events] == retried
    assert [Deploy.from_payload(e.payload) for e in consul_agent.events] == [
        Deploy("web", "1.4.2"),
        Deploy("web", "1.4.3"),
    ]
    # The refused fires took no Lamport tick: the retried events are the agent's first two.
    assert [e.ltime for e in consul_agent.events] == [2, 3]


def test_unknown_token_is_not_queued_but_raises(
    consul_agent: FakeConsulAgent, client_with: Callable[[str | None], Any], queue: DeployQueue
) -> None:
    # Consul answers an unknown token on fire with 500, not 403: a ConsulException that
    # retrying with the same token cannot fix. (The agent holds tokens, so its ACL system was
    # bootstrapped and the text is the short one.)
    with pytest.raises(DeployError) as caught:
        fire_deploy_or_queue("web", "1.4.2", queue=queue, client=client_with("ghost"))

    assert str(caught.value) == "Consul refused the deploy of web 1.4.2: 500 ACL not found"
    assert type(caught.value.__cause__) is consul.ConsulException
    assert queue.pending == []
    assert consul_agent.fired == []


def test_too_large_deploy_with_an_allowed_token_still_raises(
    consul_agent: FakeConsulAgent, client_with: Callable[[str | None], Any], queue: DeployQueue
) -> None:
    with pytest.raises(DeployError) as caught:
        fire_deploy_or_queue("web", "v" * 600, queue=queue, client=client_with("deployer"))

    assert str(caught.value) == (
        f"Consul refused the deploy of web {'v' * 600}: 500 error broadcasting event: "
        "user event exceeds configured limit of 512 bytes before encoding"
    )
    assert queue.pending == []
    assert consul_agent.fired == []


def test_too_large_deploy_with_a_read_only_token_is_queued(
    consul_agent: FakeConsulAgent, client_with: Callable[[str | None], Any], queue: DeployQueue
) -> None:
    # Consul checks the token before the size: the answer is 403, so the deploy is queued.
    fire_deploy_or_queue("web", "v" * 600, queue=queue, client=client_with("readonly"))

    assert queue.pending == [QueuedDeploy(Deploy("web", "v" * 600), "Permission denied")]
    assert consul_agent.fired == []


def test_read_only_token_still_sees_deploys_fired_by_others(
    consul_agent: FakeConsulAgent, client_with: Callable[[str | None], Any], queue: DeployQueue
) -> None:
    event_id = fire_deploy_or_queue("web", "1.4.2", queue=queue, client=client_with("deployer"))

    listing = consul_agent.list_events("deploy", token="readonly")

    assert ([e.id for e in listing.events], listing.filtered_by_acls) == ([event_id], False)
