"""The supporting agent endpoints (consul-events.md §9) and their effect on event filters."""

from __future__ import annotations

import json

import pytest
from http_support import (
    JSON,
    TEXT,
    VARY,
    Reply,
    Transport,
    assert_empty,
    assert_headers,
    assert_text,
    go_json,
)

from pytest_consul_events.fake import FakeConsulAgent

CONFIG_KEYS = [
    "Datacenter",
    "PrimaryDatacenter",
    "NodeName",
    "NodeID",
    "Revision",
    "Server",
    "Version",
    "BuildDate",
]
MEMBER_KEYS = [
    "Name",
    "Addr",
    "Port",
    "Tags",
    "Status",
    "ProtocolMin",
    "ProtocolMax",
    "ProtocolCur",
    "DelegateMin",
    "DelegateMax",
    "DelegateCur",
]


def register(api: Transport, document: object) -> None:
    reply = api.put("/v1/agent/service/register", body=json.dumps(document).encode())
    assert_empty(reply, 200)


def service_json(
    service_id: str, name: str, tags: list[str] | None = None, **overrides: object
) -> dict[str, object]:
    body: dict[str, object] = {
        "ID": service_id,
        "Service": name,
        "Tags": tags or [],
        "Meta": {},
        "Port": 0,
        "Address": "",
        "Weights": {"Passing": 1, "Warning": 1},
        "EnableTagOverride": False,
        "Datacenter": "dc1",
    }
    body.update(overrides)
    return body


# -- /v1/agent/self ---------------------------------------------------------------------------


def test_agent_self_describes_the_node(api: Transport, consul_agent: FakeConsulAgent) -> None:
    reply = api.get("/v1/agent/self")
    assert reply.status == 200
    assert_headers(reply, JSON)
    pairs = reply.json_pairs()
    keys = [key for key, _ in pairs]
    assert keys[:6] == ["Config", "DebugConfig", "Coord", "Member", "Stats", "Meta"]
    assert set(keys) <= {"Config", "DebugConfig", "Coord", "Member", "Stats", "Meta", "xDS"}
    document = dict(pairs)
    config = dict(document["Config"])
    assert [key for key, _ in document["Config"]] == CONFIG_KEYS
    assert config["NodeName"] == "node1"
    assert config["Datacenter"] == config["PrimaryDatacenter"] == "dc1"
    assert config["NodeID"] == consul_agent.node_id
    assert config["Server"] is True
    assert [key for key, _ in document["Member"]] == MEMBER_KEYS
    member = dict(document["Member"])
    assert (member["Name"], member["Status"]) == ("node1", 1)
    assert reply.header("X-Consul-Index") is None


@pytest.mark.consul_agent(node_name="web-1", datacenter="east")
def test_agent_self_reflects_the_configured_node(api: Transport) -> None:
    document = api.get("/v1/agent/self").json()
    assert document["Config"]["NodeName"] == document["Member"]["Name"] == "web-1"
    assert document["Config"]["Datacenter"] == "east"


# -- /v1/agent/self under ACLs: AgentSelf resolves the token, then AgentReadAllowed(NodeName) ------

SELF_ACL = pytest.mark.consul_agent(
    acl="deny",
    management_token="root",
    tokens={
        "agent-reader": 'agent "node1" { policy = "read" }',
        "prefix-reader": 'agent_prefix "node" { policy = "read" }',
        "other-node": 'agent "elsewhere" { policy = "write" }',
        "events-only": 'event_prefix "" { policy = "write" }',
    },
)


def accessor_of(agent: FakeConsulAgent, secret: str) -> str:
    [token] = [t for t in agent.acl.tokens() if t.secret_id == secret]
    return token.accessor_id


def assert_denied(reply: Reply, status: int, body: str) -> None:
    assert (reply.status, reply.body) == (status, body.encode())
    assert_headers(reply, TEXT, ("X-Consul-Default-Acl-Policy", "deny"), VARY, wrapped=False)


@SELF_ACL
@pytest.mark.parametrize("secret", ["root", "prefix-reader"])
def test_agent_self_answers_a_token_with_agent_read(
    api: Transport, consul_agent: FakeConsulAgent, secret: str
) -> None:
    reply = api.get("/v1/agent/self", headers=[("X-Consul-Token", secret)])
    assert reply.status == 200
    assert reply.json()["Config"]["NodeName"] == consul_agent.node_name


@SELF_ACL
def test_agent_self_answers_an_exact_agent_rule_on_its_node(api: Transport) -> None:
    reply = api.get("/v1/agent/self", headers=[("X-Consul-Token", "agent-reader")])
    assert (reply.status, reply.json()["Config"]["NodeName"]) == (200, "node1")


@SELF_ACL
@pytest.mark.parametrize("secret", ["other-node", "events-only"])
def test_agent_self_refuses_a_token_without_agent_read(
    api: Transport, consul_agent: FakeConsulAgent, secret: str
) -> None:
    reply = api.get(f"/v1/agent/self?token={secret}")
    accessor = accessor_of(consul_agent, secret)
    assert_denied(
        reply,
        403,
        f"Permission denied: token with AccessorID '{accessor}' lacks permission 'agent:read' "
        f'on "{consul_agent.node_name}"',
    )


@SELF_ACL
def test_agent_self_refuses_the_anonymous_token_with_its_sentence(
    api: Transport, consul_agent: FakeConsulAgent
) -> None:
    assert_denied(
        api.get("/v1/agent/self"),
        403,
        f"Permission denied: anonymous token lacks permission 'agent:read' on "
        f'"{consul_agent.node_name}". The anonymous token is used implicitly when a request '
        "does not specify a token.",
    )


@SELF_ACL
def test_agent_self_with_an_unknown_token_is_acl_not_found(api: Transport) -> None:
    reply = api.get("/v1/agent/self", headers=[("X-Consul-Token", "nobody")])
    assert_denied(reply, 403, "ACL not found")


@SELF_ACL
def test_agent_self_with_a_root_name_cannot_resolve(api: Transport) -> None:
    # acl.ErrRootDenied carries neither "Permission denied" nor "ACL not found": handleErr's 500.
    reply = api.get("/v1/agent/self", headers=[("X-Consul-Token", "deny")])
    assert_denied(reply, 500, "Cannot resolve root ACL")


@pytest.mark.consul_agent(
    acl="deny", tokens={"reader": 'agent_prefix "" { policy = "read" }'}, default_token="reader"
)
def test_agent_self_falls_back_to_the_agents_default_token(api: Transport) -> None:
    assert api.get("/v1/agent/self").status == 200


@pytest.mark.consul_agent(
    acl="allow", tokens={"no-agent": 'agent_prefix "node" { policy = "deny" }'}
)
def test_agent_self_under_default_allow(api: Transport) -> None:
    assert api.get("/v1/agent/self").status == 200
    assert api.get("/v1/agent/self?token=no-agent").status == 403


@SELF_ACL
def test_py_consul_agent_self_sends_no_token_so_deny_refuses_it(
    consul_agent: FakeConsulAgent,
) -> None:
    import consul

    # py-consul's Agent.self() passes no token (not even the client's): the anonymous token.
    with pytest.raises(consul.ACLPermissionDenied) as caught:
        consul_agent.client(token="prefix-reader").agent.self()
    assert str(caught.value) == (
        f"Permission denied: anonymous token lacks permission 'agent:read' on "
        f'"{consul_agent.node_name}". The anonymous token is used implicitly when a request '
        "does not specify a token."
    )


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/v1/agent/self", "OPTIONS,GET"),
        ("PUT", "/v1/agent/services", "OPTIONS,GET"),
        ("GET", "/v1/agent/service/register", "OPTIONS,PUT"),
        ("POST", "/v1/agent/service/register", "OPTIONS,PUT"),
        ("GET", "/v1/agent/service/deregister/web", "OPTIONS,PUT"),
    ],
)
def test_agent_endpoints_check_the_method(
    api: Transport, method: str, path: str, allow: str
) -> None:
    reply = api.request(method, path)
    assert_text(reply, 405, f"method {method} not allowed", ("Allow", allow))


# -- register / services ----------------------------------------------------------------------


def test_services_is_an_empty_object_without_services(api: Transport) -> None:
    reply = api.get("/v1/agent/services")
    assert (reply.status, reply.body) == (200, b"{}")
    assert_headers(reply, JSON)


def test_register_with_py_consul_lowercase_fields(
    api: Transport, consul_agent: FakeConsulAgent
) -> None:
    register(api, {"name": "web", "id": "web-1", "tags": ["v1", "blue"], "port": 8080})
    reply = api.get("/v1/agent/services")
    assert reply.body == go_json({"web-1": service_json("web-1", "web", ["v1", "blue"], Port=8080)})
    assert_headers(reply, JSON)
    assert list(consul_agent.services) == ["web-1"]


def test_register_id_defaults_to_the_name(api: Transport) -> None:
    register(api, {"Name": "web"})
    assert api.get("/v1/agent/services").body == go_json({"web": service_json("web", "web")})


def test_services_are_keyed_by_id_in_sorted_order(api: Transport) -> None:
    register(api, {"Name": "web", "ID": "web-2"})
    register(api, {"Name": "api"})
    register(api, {"Name": "web", "ID": "web-1"})
    assert list(api.get("/v1/agent/services").json()) == ["api", "web-1", "web-2"]


def test_register_again_replaces_the_service(api: Transport) -> None:
    register(api, {"Name": "web", "Tags": ["v1"]})
    register(api, {"Name": "web", "Tags": ["v2"], "Meta": {"k": "v"}})
    assert api.get("/v1/agent/services").body == go_json(
        {"web": service_json("web", "web", ["v2"], Meta={"k": "v"})}
    )


def test_register_snake_case_enable_tag_override(api: Transport) -> None:
    register(api, {"Name": "web", "enable_tag_override": True})
    assert api.get("/v1/agent/services").json()["web"]["EnableTagOverride"] is True


@pytest.mark.parametrize("document", [{}, {"Name": ""}, {"ID": "x"}, {"Tags": ["a"]}])
def test_register_without_a_name_is_400(api: Transport, document: object) -> None:
    reply = api.put("/v1/agent/service/register", body=json.dumps(document).encode())
    assert_text(reply, 400, "Missing service name")


def test_register_with_no_body_is_400_decode_failed_eof(api: Transport) -> None:
    # json.NewDecoder(body).Decode on an empty body returns io.EOF (Go stdlib; the exact
    # text is not in the reference).
    assert_text(api.put("/v1/agent/service/register"), 400, "Request decode failed: EOF")


@pytest.mark.parametrize("address", ["0.0.0.0", "::"])
def test_register_with_an_unspecified_address_is_400(api: Transport, address: str) -> None:
    reply = api.put(
        "/v1/agent/service/register",
        body=json.dumps({"Name": "web", "Address": address}).encode(),
    )
    assert_text(reply, 400, "Invalid service address")


@pytest.mark.parametrize("body", [b"{", b"not json", b'{"Name": }'])
def test_register_with_a_bad_body_is_400_decode_failed(
    api: Transport, consul_agent: FakeConsulAgent, body: bytes
) -> None:
    reply = api.put("/v1/agent/service/register", body=body)
    assert reply.status == 400
    assert reply.body.startswith(b"Request decode failed: ")
    assert consul_agent.services == {}


def test_deregister_removes_the_service(api: Transport, consul_agent: FakeConsulAgent) -> None:
    register(api, {"Name": "web"})
    assert_empty(api.put("/v1/agent/service/deregister/web"), 200)
    assert api.get("/v1/agent/services").body == b"{}"
    assert consul_agent.services == {}


def test_deregister_unknown_id_is_404(api: Transport) -> None:
    # UNCONFIRMED in the reference (§9); asserted as the fake does it.
    reply = api.put("/v1/agent/service/deregister/nope")
    assert_text(
        reply,
        404,
        'Unknown service ID "nope". Ensure that the service ID is passed, not the service name.',
    )


# -- registered services drive the event filters ----------------------------------------------


def test_events_with_a_service_filter_are_stored_once_a_service_is_registered(
    api: Transport, consul_agent: FakeConsulAgent
) -> None:
    api.put("/v1/event/fire/before?service=web")
    register(api, {"name": "web", "id": "web-1", "tags": ["v1"]})
    api.put("/v1/event/fire/by-id?service=%5Eweb-1%24")
    api.put("/v1/event/fire/by-name?service=%5Eweb%24")
    api.put("/v1/event/fire/tag?service=web&tag=v1")
    api.put("/v1/event/fire/other-tag?service=web&tag=v2")
    assert [e["Name"] for e in api.get("/v1/event/list").json()] == ["by-id", "tag"]
    api.put("/v1/agent/service/deregister/web-1")
    api.put("/v1/event/fire/after?service=web")
    assert [e.name for e in consul_agent.events] == ["by-id", "tag"]
