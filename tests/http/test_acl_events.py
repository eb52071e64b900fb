"""ACLs on the event endpoints over HTTP, py-consul and ``consul.aio`` (consul-events.md §2, §3.4,
§5.1 steps 2 and 7, §8, §10, §14.5).

Derived from agent/event_endpoint_test.go TestEventFire_token (testEventPolicy: ``foo`` deny,
``bar`` read, ``baz`` write, default deny) and TestEventList_ACLFilter (``foo`` and ``bar``
fired by root; no token, a token reading ``foo``, the root token).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import consul
import pytest
import pytest_asyncio
from consul.exceptions import ACLPermissionDenied, ConsulException
from http_support import (
    JSON,
    TEXT,
    VARY,
    Reply,
    SocketTransport,
    Transport,
    assert_headers,
    fired_id,
    list_index,
    uuid_to_uint64,
)

from pytest_consul_events.fake import FakeConsulAgent

ROOT = "root"
SEED = 99
TEST_EVENT_POLICY = """
event "foo" {
\tpolicy = "deny"
}
event "bar" {
\tpolicy = "read"
}
event "baz" {
\tpolicy = "write"
}
"""
TOKENS = {
    "event-token": TEST_EVENT_POLICY,
    "deployer": 'event "deploy" { policy = "write" }',
    "reader": 'event "deploy" { policy = "read" }',
    "foo-reader": 'event "foo" { policy = "read" }',
    "all-reader": 'event_prefix "" { policy = "read" }',
}
ACL_DENY = ("X-Consul-Default-Acl-Policy", "deny")
FILTERED = ("X-Consul-Results-Filtered-By-Acls", "true")
NOT_BOOTSTRAPPED = (
    "ACL system must be bootstrapped before making any requests that require authorization: "
    "ACL not found"
)

pytestmark = [
    pytest.mark.consul_agent(acl="deny", management_token=ROOT, tokens=TOKENS, seed=SEED),
    # py-consul 1.8 builds its aiohttp connector with arguments aiohttp has deprecated.
    pytest.mark.filterwarnings("ignore:ssl_context is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:verify_ssl is deprecated:DeprecationWarning"),
]


def assert_error(reply: Reply, status: int, body: str, policy: str = "deny") -> None:
    """A plain-text error with exactly Consul's headers for this default policy."""
    assert (reply.status, reply.body) == (status, body.encode())
    assert_headers(reply, TEXT, ("X-Consul-Default-Acl-Policy", policy), VARY, wrapped=False)


def assert_list_headers(reply: Reply, *extra: tuple[str, str], policy: str = "deny") -> None:
    assert reply.status == 200, reply.body
    assert_headers(
        reply,
        JSON,
        ("X-Consul-Index", str(list_index(reply))),
        ("X-Consul-Default-Acl-Policy", policy),
        VARY,
        *extra,
        wrapped=False,
    )


def listed(reply: Reply) -> list[str]:
    return [event["Name"] for event in reply.json()]


@pytest.fixture
def foo_and_bar(consul_agent: FakeConsulAgent) -> tuple[str, str]:
    """TestEventList_ACLFilter's buffer: ``foo`` then ``bar``, fired with the root token."""
    return consul_agent.fire("foo", token=ROOT).id, consul_agent.fire("bar", token=ROOT).id


@pytest.fixture
def make_client(consul_agent: FakeConsulAgent) -> Iterator[Callable[..., consul.Consul]]:
    """py-consul sync clients bound to the agent, closed at the end of the test."""
    made: list[consul.Consul] = []

    def make(token: str | None = None) -> consul.Consul:
        client = consul_agent.client(token=token)
        made.append(client)
        return client

    yield make
    for client in made:
        client.http.session.close()


def start_blocked(
    api: Transport, consul_agent: FakeConsulAgent, background: ThreadPoolExecutor, target: str
) -> Future[Reply]:
    """Send a list query from a helper thread and return once the agent holds it."""
    future = background.submit(api.get, target)
    consul_agent.wait_for_blocked(1, timeout=5)
    assert not future.done()
    return future


# -- fire: TestEventFire_token -----------------------------------------------------------------


@pytest.mark.parametrize("event", ["foo", "bar"])
def test_fire_without_event_write_is_403_permission_denied(api: Transport, event: str) -> None:
    reply = api.put(f"/v1/event/fire/{event}", headers=[("X-Consul-Token", "event-token")])
    assert_error(reply, 403, "Permission denied")


def test_fire_with_event_write_succeeds(api: Transport, consul_agent: FakeConsulAgent) -> None:
    reply = api.put("/v1/event/fire/baz", headers=[("X-Consul-Token", "event-token")])
    event_id = fired_id(reply)
    assert reply.json()["Name"] == "baz"
    assert [e.id for e in consul_agent.events] == [event_id]


def test_fire_without_a_token_under_default_deny_is_403(api: Transport) -> None:
    assert_error(api.put("/v1/event/fire/deploy"), 403, "Permission denied")


def test_denied_fire_stores_nothing_and_does_not_tick_the_clock(
    api: Transport, consul_agent: FakeConsulAgent
) -> None:
    denied = api.put("/v1/event/fire/deploy", headers=[("X-Consul-Token", "reader")], body=b"v1")
    assert denied.status == 403
    assert (consul_agent.events, consul_agent.fired) == ([], [])
    fired_id(api.put("/v1/event/fire/deploy", headers=[("X-Consul-Token", "deployer")]))
    assert [e.ltime for e in consul_agent.events] == [2]


def test_too_large_and_denied_fire_is_403_not_500(api: Transport) -> None:
    reply = api.put(
        "/v1/event/fire/deploy", headers=[("X-Consul-Token", "reader")], body=b"x" * 600
    )
    assert_error(reply, 403, "Permission denied")


def test_unknown_datacenter_beats_a_denied_token(api: Transport) -> None:
    reply = api.put("/v1/event/fire/deploy?dc=dc9", headers=[("X-Consul-Token", "reader")])
    assert_error(reply, 500, "No path to datacenter")


# -- unknown and root tokens: 500 on fire, 403 / 500 on list -----------------------------------


def test_unknown_token_on_fire_is_500_acl_not_found(
    api: Transport, consul_agent: FakeConsulAgent
) -> None:
    reply = api.put("/v1/event/fire/deploy", headers=[("X-Consul-Token", "ghost")])
    assert_error(reply, 500, "ACL not found")
    assert consul_agent.fired == []


def test_unknown_token_on_list_is_403_acl_not_found(api: Transport) -> None:
    reply = api.get("/v1/event/list", headers=[("X-Consul-Token", "ghost")])
    assert_error(reply, 403, "ACL not found")  # no X-Consul-Index either


@pytest.mark.consul_agent(management_token=None, tokens={})
def test_unknown_token_on_fire_before_bootstrap_is_500_with_the_long_text(api: Transport) -> None:
    reply = api.put("/v1/event/fire/deploy?token=ghost")
    assert_error(reply, 500, NOT_BOOTSTRAPPED)


@pytest.mark.consul_agent(management_token=None, tokens={})
def test_unknown_token_on_list_before_bootstrap_is_403_with_the_long_text(api: Transport) -> None:
    assert_error(api.get("/v1/event/list?token=ghost"), 403, NOT_BOOTSTRAPPED)


@pytest.mark.consul_agent(management_token=None)
def test_tokens_without_a_management_token_mean_bootstrapped(api: Transport) -> None:
    # Tokens are made after the bootstrap (agent/consul/acl_server.go ResolveIdentityFromToken
    # wraps ACL not found only while CanBootstrapACLToken() is true).
    assert_error(api.put("/v1/event/fire/deploy?token=ghost"), 500, "ACL not found")
    assert_error(api.get("/v1/event/list?token=ghost"), 403, "ACL not found")


@pytest.mark.parametrize("secret", ["allow", "deny", "manage"])
def test_root_name_on_fire_is_500(api: Transport, secret: str) -> None:
    reply = api.put("/v1/event/fire/deploy", headers=[("X-Consul-Token", secret)])
    assert_error(reply, 500, "Cannot resolve root ACL")


@pytest.mark.parametrize("secret", ["allow", "deny", "manage"])
def test_root_name_on_list_is_500(api: Transport, secret: str) -> None:
    reply = api.get(f"/v1/event/list?token={secret}")
    assert_error(reply, 500, "Cannot resolve root ACL")


def test_unknown_token_on_a_blocking_list_is_refused_at_once(api: Transport) -> None:
    reply = api.get("/v1/event/list?index=1&wait=30s", headers=[("X-Consul-Token", "ghost")])
    assert_error(reply, 403, "ACL not found")


@pytest.mark.consul_agent(server=False)
def test_unknown_token_on_fire_at_a_client_agent_is_prefixed(api: Transport) -> None:
    # §1 row 12: the server's error comes back through the connection pool (pool.go).
    reply = api.put("/v1/event/fire/deploy", headers=[("X-Consul-Token", "ghost")])
    assert_error(reply, 500, "rpc error making call: ACL not found")


@pytest.mark.consul_agent(server=False)
def test_denied_fire_at_a_client_agent_is_still_403_permission_denied(api: Transport) -> None:
    # §3.2: "Permission denied" is found by substring, and the handler prints the bare text.
    reply = api.put("/v1/event/fire/foo", headers=[("X-Consul-Token", "event-token")])
    assert_error(reply, 403, "Permission denied")


@pytest.mark.consul_agent(server=False)
def test_unknown_token_on_list_at_a_client_agent_is_403(api: Transport) -> None:
    assert_error(api.get("/v1/event/list?token=ghost"), 403, "ACL not found")


# -- token sources and precedence (§2) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "headers", "status"),
    [
        ("?token=deployer", [("X-Consul-Token", "reader")], 200),
        ("?token=reader", [("X-Consul-Token", "deployer")], 403),
        ("?token=deployer", [("Authorization", "Bearer reader")], 200),
        ("?token=reader&token=deployer", [], 403),  # the first value counts
        ("?token=", [("X-Consul-Token", "deployer")], 200),  # an empty ?token= is ignored
        ("", [("X-Consul-Token", "deployer"), ("Authorization", "Bearer reader")], 200),
        ("", [("X-Consul-Token", "reader"), ("Authorization", "Bearer deployer")], 403),
        ("", [("X-Consul-Token", ""), ("Authorization", "Bearer deployer")], 200),
    ],
    ids=[
        "query-beats-header",
        "query-beats-header-deny",
        "query-beats-bearer",
        "first-query-value",
        "empty-query-ignored",
        "header-beats-bearer",
        "header-beats-bearer-deny",
        "empty-header-ignored",
    ],
)
def test_token_precedence(
    api: Transport, query: str, headers: list[tuple[str, str]], status: int
) -> None:
    assert api.put(f"/v1/event/fire/deploy{query}", headers=headers).status == status


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer deployer",
        "bearer deployer",
        "BEARER deployer",
        "Bearer  deployer",
        "Bearer deployer x",
    ],
)
def test_bearer_scheme_is_case_insensitive_and_the_token_is_the_first_word(
    api: Transport, authorization: str
) -> None:
    reply = api.put("/v1/event/fire/deploy", headers=[("Authorization", authorization)])
    assert reply.status == 200, reply.body


@pytest.mark.parametrize(
    "authorization",
    ["Basic deployer", "Token deployer", "Bearerdeployer", "deployer", "Bearer\tdeployer"],
)
def test_other_schemes_and_headers_without_a_space_are_ignored(
    api: Transport, authorization: str
) -> None:
    # Ignored means anonymous (403 Permission denied), not an unknown token (500 ACL not found).
    reply = api.put("/v1/event/fire/deploy", headers=[("Authorization", authorization)])
    assert_error(reply, 403, "Permission denied")


def test_bearer_token_is_used_by_the_list_too(api: Transport, foo_and_bar: tuple[str, str]) -> None:
    reply = api.get("/v1/event/list", headers=[("Authorization", "Bearer foo-reader")])
    assert listed(reply) == ["foo"]
    assert_list_headers(reply, FILTERED)


def test_first_of_two_token_headers_wins(consul_agent: FakeConsulAgent) -> None:
    # Go's Header.Get takes the first value. Socket only: a WSGI environ cannot hold two.
    api = SocketTransport(consul_agent.host, consul_agent.port)
    reply = api.put(
        "/v1/event/fire/deploy",
        headers=[("X-Consul-Token", "deployer"), ("X-Consul-Token", "reader")],
    )
    assert reply.status == 200, reply.body


@pytest.mark.consul_agent(default_token="deployer")
def test_default_token_is_used_when_the_request_has_none(api: Transport) -> None:
    fired_id(api.put("/v1/event/fire/deploy"))


@pytest.mark.consul_agent(default_token="deployer")
def test_request_token_overrides_the_default_token(api: Transport) -> None:
    reply = api.put("/v1/event/fire/deploy", headers=[("X-Consul-Token", "reader")])
    assert_error(reply, 403, "Permission denied")


# -- list: TestEventList_ACLFilter and the filtered-by-ACLs header (§5.1 step 7) ----------------


def test_list_without_token_is_empty_and_not_flagged(
    api: Transport, foo_and_bar: tuple[str, str]
) -> None:
    reply = api.get("/v1/event/list")
    assert (reply.body, list_index(reply)) == (b"[]", 1)
    assert_list_headers(reply)


def test_list_with_a_token_reading_one_event_is_flagged(
    api: Transport, foo_and_bar: tuple[str, str]
) -> None:
    foo, _bar = foo_and_bar
    reply = api.get("/v1/event/list", headers=[("X-Consul-Token", "foo-reader")])
    assert ([e["ID"] for e in reply.json()], list_index(reply)) == ([foo], uuid_to_uint64(foo))
    assert_list_headers(reply, FILTERED)


def test_list_with_the_root_token_sees_everything_unflagged(
    api: Transport, foo_and_bar: tuple[str, str]
) -> None:
    foo, bar = foo_and_bar
    reply = api.get("/v1/event/list", headers=[("X-Consul-Token", ROOT)])
    assert ([e["ID"] for e in reply.json()], list_index(reply)) == ([foo, bar], uuid_to_uint64(bar))
    assert_list_headers(reply)


def test_list_with_a_token_that_drops_nothing_is_not_flagged(
    api: Transport, foo_and_bar: tuple[str, str]
) -> None:
    reply = api.get("/v1/event/list?token=all-reader")
    assert listed(reply) == ["foo", "bar"]
    assert_list_headers(reply)


def test_events_dropped_by_the_name_filter_are_not_flagged(
    api: Transport, foo_and_bar: tuple[str, str]
) -> None:
    reply = api.get("/v1/event/list?name=foo&token=foo-reader")
    assert listed(reply) == ["foo"]
    assert_list_headers(reply)


@pytest.mark.consul_agent(default_token="foo-reader")
def test_default_token_filters_and_flags_a_list_without_token(
    api: Transport, foo_and_bar: tuple[str, str]
) -> None:
    reply = api.get("/v1/event/list")
    assert listed(reply) == ["foo"]
    assert_list_headers(reply, FILTERED)


def test_list_keeps_arrival_order_after_acl_filtering(
    api: Transport, consul_agent: FakeConsulAgent
) -> None:
    ids = [consul_agent.fire(name, token=ROOT).id for name in ("foo", "bar", "foo", "baz", "foo")]
    reply = api.get("/v1/event/list?token=foo-reader")
    assert [e["ID"] for e in reply.json()] == [ids[0], ids[2], ids[4]]
    assert list_index(reply) == uuid_to_uint64(ids[4])


# -- X-Consul-Default-Acl-Policy ---------------------------------------------------------------


def test_default_acl_policy_header_is_deny_when_configured(api: Transport) -> None:
    for reply in (
        api.get("/v1/event/list"),
        api.put("/v1/event/fire/deploy?token=root"),
        api.put("/v1/event/fire/deploy"),
    ):
        assert reply.values("X-Consul-Default-Acl-Policy") == ["deny"]


@pytest.mark.consul_agent(acl="allow")
def test_default_acl_policy_header_is_allow_under_acl_allow(api: Transport) -> None:
    reply = api.put("/v1/event/fire/deploy")  # the anonymous token may fire under allow
    fired_id(reply)
    assert reply.values("X-Consul-Default-Acl-Policy") == ["allow"]


@pytest.mark.consul_agent(acl=None, management_token=None, tokens={})  # all ACL options off
def test_acls_off_ignore_tokens_and_report_allow(api: Transport) -> None:
    reply = api.put("/v1/event/fire/deploy", headers=[("X-Consul-Token", "deny")])
    fired_id(reply)
    assert reply.values("X-Consul-Default-Acl-Policy") == ["allow"]
    listing = api.get("/v1/event/list?token=ghost")
    assert listed(listing) == ["deploy"]
    assert_list_headers(listing, policy="allow")


@pytest.mark.consul_agent(acl="allow")
def test_explicit_rule_still_denies_under_acl_allow(api: Transport) -> None:
    reply = api.put("/v1/event/fire/foo?token=event-token")
    assert_error(reply, 403, "Permission denied", policy="allow")


# -- blocking list with ACLs -------------------------------------------------------------------


def test_unreadable_event_does_not_wake_a_blocked_list(
    api: Transport, consul_agent: FakeConsulAgent, background: ThreadPoolExecutor
) -> None:
    future = start_blocked(
        api, consul_agent, background, "/v1/event/list?index=1&wait=10s&token=foo-reader"
    )
    consul_agent.fire("bar", token=ROOT)  # unreadable: the visible list and index stay the same
    foo = consul_agent.fire("foo", token=ROOT).id
    reply = future.result(timeout=5)
    assert ([e["ID"] for e in reply.json()], list_index(reply)) == ([foo], uuid_to_uint64(foo))
    assert_list_headers(reply, FILTERED)


def test_blocked_list_times_out_when_only_unreadable_events_arrive(
    api: Transport, consul_agent: FakeConsulAgent, background: ThreadPoolExecutor
) -> None:
    started = time.monotonic()
    future = start_blocked(
        api, consul_agent, background, "/v1/event/list?index=1&wait=300ms&token=foo-reader"
    )
    consul_agent.fire("bar", token=ROOT)
    reply = future.result(timeout=5)
    assert time.monotonic() - started >= 0.3
    assert (reply.body, list_index(reply)) == (b"[]", 1)
    assert_list_headers(reply, FILTERED)


def test_readable_event_wakes_a_list_blocked_on_the_filtered_index(
    api: Transport, consul_agent: FakeConsulAgent, background: ThreadPoolExecutor
) -> None:
    foo = consul_agent.fire("foo", token=ROOT).id
    consul_agent.fire("bar", token=ROOT)
    index = list_index(api.get("/v1/event/list?token=foo-reader"))
    assert index == uuid_to_uint64(foo)  # the last *visible* event, not bar
    future = start_blocked(
        api, consul_agent, background, f"/v1/event/list?index={index}&wait=10s&token=foo-reader"
    )
    second = consul_agent.fire("foo", token=ROOT).id
    assert [e["ID"] for e in future.result(timeout=5).json()] == [foo, second]


# -- py-consul (sync) --------------------------------------------------------------------------


def test_py_consul_denied_fire_raises_acl_permission_denied(
    make_client: Callable[..., consul.Consul],
) -> None:
    with pytest.raises(ACLPermissionDenied) as caught:
        make_client(token="event-token").event.fire("foo")
    assert (type(caught.value), str(caught.value)) == (ACLPermissionDenied, "Permission denied")


def test_py_consul_fire_with_a_write_token(
    make_client: Callable[..., consul.Consul], consul_agent: FakeConsulAgent
) -> None:
    event = make_client(token="event-token").event.fire("baz", "v1")
    assert [(e.id, e.payload) for e in consul_agent.events] == [(event["ID"], b"v1")]


def test_py_consul_per_call_token_overrides_the_clients(
    make_client: Callable[..., consul.Consul],
) -> None:
    assert make_client(token="reader").event.fire("deploy", token="deployer")["Name"] == "deploy"


def test_py_consul_unknown_token_on_fire_is_a_500_consul_exception(
    make_client: Callable[..., consul.Consul],
) -> None:
    with pytest.raises(ConsulException) as caught:
        make_client(token="ghost").event.fire("deploy")
    assert (type(caught.value), str(caught.value)) == (ConsulException, "500 ACL not found")


def test_py_consul_root_name_on_fire_is_a_500_consul_exception(
    make_client: Callable[..., consul.Consul],
) -> None:
    with pytest.raises(ConsulException) as caught:
        make_client().event.fire("deploy", token="manage")
    assert (type(caught.value), str(caught.value)) == (
        ConsulException,
        "500 Cannot resolve root ACL",
    )


def test_py_consul_list_never_sends_its_token(
    make_client: Callable[..., consul.Consul], foo_and_bar: tuple[str, str]
) -> None:
    # Even with the root token on the client, the list is anonymous: [] with index "1".
    assert make_client(token=ROOT).event.list() == ("1", [])


@pytest.mark.consul_agent(default_token="ghost")
def test_py_consul_list_with_an_unknown_default_token_is_acl_permission_denied(
    make_client: Callable[..., consul.Consul],
) -> None:
    with pytest.raises(ACLPermissionDenied) as caught:
        make_client().event.list()
    assert (type(caught.value), str(caught.value)) == (ACLPermissionDenied, "ACL not found")


@pytest.mark.consul_agent(default_token="foo-reader")
def test_py_consul_list_sees_what_the_default_token_may_read(
    make_client: Callable[..., consul.Consul], foo_and_bar: tuple[str, str]
) -> None:
    foo, _bar = foo_and_bar
    index, events = make_client().event.list()
    assert (index, [e["ID"] for e in events]) == (str(uuid_to_uint64(foo)), [foo])


# -- py-consul (consul.aio) --------------------------------------------------------------------


@pytest_asyncio.fixture
async def aio_factory(consul_agent: FakeConsulAgent) -> Any:
    made: list[Any] = []

    def make(token: str | None = None) -> Any:
        client = consul_agent.aio_client(token=token)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()


@pytest.mark.asyncio
async def test_aio_denied_fire_raises_acl_permission_denied(aio_factory: Any) -> None:
    with pytest.raises(ACLPermissionDenied) as caught:
        await aio_factory(token="event-token").event.fire("bar")
    assert str(caught.value) == "Permission denied"


@pytest.mark.asyncio
async def test_aio_fire_with_a_write_token(aio_factory: Any, consul_agent: FakeConsulAgent) -> None:
    event = await aio_factory(token="deployer").event.fire("deploy", "v2")
    assert [(e.id, e.payload) for e in consul_agent.events] == [(event["ID"], b"v2")]


@pytest.mark.asyncio
async def test_aio_unknown_token_on_fire_is_a_500_consul_exception(aio_factory: Any) -> None:
    with pytest.raises(ConsulException) as caught:
        await aio_factory(token="ghost").event.fire("deploy")
    assert (type(caught.value), str(caught.value)) == (ConsulException, "500 ACL not found")


@pytest.mark.asyncio
async def test_aio_list_never_sends_its_token(
    aio_factory: Any, foo_and_bar: tuple[str, str]
) -> None:
    assert await aio_factory(token=ROOT).event.list() == ("1", [])
