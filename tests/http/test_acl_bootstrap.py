"""An unknown token's error text depends on whether the ACL system has been bootstrapped.

``ResolveIdentityFromToken`` (agent/consul/acl_server.go) answers an unknown secret with
``acl.ErrNotFound`` (``ACL not found``), wrapped as ``ACL system must be bootstrapped before
making any requests that require authorization: ACL not found`` while
``CanBootstrapACLToken()`` (agent/consul/state/acl.go) is true, that is until the first
management token was made (``ACL.Bootstrap``, or ``acl.tokens.initial_management`` through
``initializeACLs`` in agent/consul/leader.go). Tokens are made with that management token, so an
agent holding tokens is bootstrapped: with ``tokens=...`` (or ``create_token``) and no
``management_token``, an unknown token gets the short text. The HTTP status is Consul's either
way: 500 on fire, 403 on list (agent/event_endpoint.go; api/acl_test.go TestAPI_ACLBootstrap
shows the long text in a 403 body).
"""

from __future__ import annotations

import pytest
import requests
from consul.exceptions import ConsulException

from pytest_consul_events.errors import ACLNotFoundError
from pytest_consul_events.fake import FakeConsulAgent

ACL_NOT_FOUND = "ACL not found"
NOT_BOOTSTRAPPED = (
    "ACL system must be bootstrapped before making any requests that require authorization: "
    "ACL not found"
)
DEPLOYER = {"deployer": 'event "deploy" { policy = "write" }'}


def fire_answer(agent: FakeConsulAgent, token: str) -> tuple[int, str]:
    reply = requests.put(f"{agent.url}/v1/event/fire/deploy", params={"token": token}, timeout=5)
    return reply.status_code, reply.text


def list_answer(agent: FakeConsulAgent, token: str) -> tuple[int, str]:
    reply = requests.get(f"{agent.url}/v1/event/list", headers={"X-Consul-Token": token}, timeout=5)
    return reply.status_code, reply.text


@pytest.mark.consul_agent(acl="deny", tokens=DEPLOYER)
def test_tokens_without_a_management_token_mean_a_bootstrapped_system(
    consul_agent: FakeConsulAgent,
) -> None:
    # The README's ACL example: the deployer's token exists, so the system was bootstrapped.
    assert consul_agent.acl.bootstrapped
    assert fire_answer(consul_agent, "ghost") == (500, ACL_NOT_FOUND)
    assert list_answer(consul_agent, "ghost") == (403, ACL_NOT_FOUND)
    with pytest.raises(ConsulException) as caught:
        consul_agent.client(token="ghost").event.fire("deploy")
    assert str(caught.value) == f"500 {ACL_NOT_FOUND}"
    with pytest.raises(ACLNotFoundError) as from_python:
        consul_agent.fire("deploy", token="ghost")
    assert from_python.value.message == ACL_NOT_FOUND
    consul_agent.client(token="deployer").event.fire("deploy")  # the known token still works


@pytest.mark.consul_agent(acl="deny")
def test_no_token_at_all_means_not_bootstrapped(consul_agent: FakeConsulAgent) -> None:
    assert not consul_agent.acl.bootstrapped
    assert fire_answer(consul_agent, "ghost") == (500, NOT_BOOTSTRAPPED)
    assert list_answer(consul_agent, "ghost") == (403, NOT_BOOTSTRAPPED)
    with pytest.raises(ConsulException) as caught:
        consul_agent.client(token="ghost").event.fire("deploy")
    assert str(caught.value) == f"500 {NOT_BOOTSTRAPPED}"


@pytest.mark.consul_agent(acl="allow")
def test_creating_a_token_from_python_bootstraps(consul_agent: FakeConsulAgent) -> None:
    assert fire_answer(consul_agent, "ghost") == (500, NOT_BOOTSTRAPPED)
    token = consul_agent.create_token('event "deploy" { policy = "write" }', secret="made")
    assert consul_agent.acl.bootstrapped
    assert fire_answer(consul_agent, "ghost") == (500, ACL_NOT_FOUND)
    # Deleting every token does not undo a bootstrap, in Consul either.
    consul_agent.acl.delete_token(token.accessor_id)
    assert fire_answer(consul_agent, "made") == (500, ACL_NOT_FOUND)


@pytest.mark.consul_agent(acl="deny", management_token="root")
def test_a_management_token_bootstraps_and_tokens_made_over_the_api_work(
    consul_agent: FakeConsulAgent,
) -> None:
    assert consul_agent.acl.bootstrapped
    assert fire_answer(consul_agent, "ghost") == (500, ACL_NOT_FOUND)
    root = {"X-Consul-Token": "root"}
    rules = {"Name": "deploy", "Rules": 'event "deploy" { policy = "write" }'}
    policy = requests.put(f"{consul_agent.url}/v1/acl/policy", json=rules, headers=root, timeout=5)
    links = {"Policies": [{"ID": policy.json()["ID"]}]}
    token = requests.put(f"{consul_agent.url}/v1/acl/token", json=links, headers=root, timeout=5)
    assert fire_answer(consul_agent, token.json()["SecretID"])[0] == 200
    assert fire_answer(consul_agent, "ghost") == (500, ACL_NOT_FOUND)


def test_reset_forgets_the_bootstrap_of_tokens_made_since() -> None:
    with FakeConsulAgent(acl="deny") as agent:
        agent.create_token('event "deploy" { policy = "write" }', secret="made")
        assert fire_answer(agent, "ghost") == (500, ACL_NOT_FOUND)
        agent.reset()
        assert fire_answer(agent, "ghost") == (500, NOT_BOOTSTRAPPED)
        agent.configure(acl="deny", tokens=DEPLOYER)
        assert fire_answer(agent, "ghost") == (500, ACL_NOT_FOUND)
