"""When the ACL store counts as bootstrapped, and so which text an unknown token gets.

Consul wraps ``ACL not found`` as ``ACL system must be bootstrapped before making any requests
that require authorization: ACL not found`` only while ``CanBootstrapACLToken()`` is true
(agent/consul/acl_server.go ``ResolveIdentityFromToken``; agent/consul/state/acl.go). The
bootstrap makes the first management token, and every other token is made with it.
"""

from __future__ import annotations

import pytest

from pytest_consul_events.errors import ACLNotFoundError, ACLStoreError
from pytest_consul_events.model.acl import ACLStore

ACL_NOT_FOUND = "ACL not found"
NOT_BOOTSTRAPPED = (
    "ACL system must be bootstrapped before making any requests that require authorization: "
    "ACL not found"
)


def unknown_token_text(store: ACLStore) -> str:
    with pytest.raises(ACLNotFoundError) as caught:
        store.resolve("ghost")
    return caught.value.message


def test_a_store_with_no_token_is_not_bootstrapped() -> None:
    store = ACLStore(enabled=True, default_policy="deny")
    assert not store.bootstrapped
    assert unknown_token_text(store) == NOT_BOOTSTRAPPED


def test_the_initial_management_token_bootstraps() -> None:
    store = ACLStore(enabled=True, initial_management="root")
    assert store.bootstrapped
    assert unknown_token_text(store) == ACL_NOT_FOUND


@pytest.mark.parametrize("how", ["configure_token", "create_token"])
def test_the_first_token_made_bootstraps(how: str) -> None:
    store = ACLStore(enabled=True, default_policy="deny")
    if how == "configure_token":
        store.configure_token("deployer")
    else:
        store.create_token(description="made")
    assert store.bootstrapped
    assert unknown_token_text(store) == ACL_NOT_FOUND


def test_a_refused_token_does_not_bootstrap() -> None:
    store = ACLStore(enabled=True)
    with pytest.raises(ACLStoreError):
        store.create_token(policies=["no-such-policy"])
    with pytest.raises(ACLStoreError):
        store.configure_token("deployer", policies=["no-such-policy"])
    assert not store.bootstrapped
    assert unknown_token_text(store) == NOT_BOOTSTRAPPED


def test_deleting_the_tokens_keeps_the_bootstrap_and_reset_forgets_it() -> None:
    store = ACLStore(enabled=True)
    token = store.create_token()
    store.delete_token(token.accessor_id)
    assert unknown_token_text(store) == ACL_NOT_FOUND
    store.reset()
    assert unknown_token_text(store) == NOT_BOOTSTRAPPED
    managed = ACLStore(enabled=True, initial_management="root")
    managed.reset()
    assert unknown_token_text(managed) == ACL_NOT_FOUND  # the configured token comes back
