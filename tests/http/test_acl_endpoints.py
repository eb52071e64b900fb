"""The ACL API (policies and tokens) through py-consul and raw HTTP.

Consul's behaviour: agent/acl_endpoint.go (401 ``ACL support disabled``, 400 checks made by the
HTTP handler, 404 ``Requested ... does not exist: ACL not found`` with the 404 written first),
agent/consul/acl_endpoint.go (``acl:read`` / ``acl:write``, PolicySet name and rules checks,
TokenDelete), acl/errors.go (the permission texts) and agent/http.go (``handleErr``). The JSON
shapes are ``structs.ACLPolicy`` and ``structs.ACLToken`` (empty ``omitempty`` fields left out).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import consul
import pytest
from consul.exceptions import ACLDisabled, ACLPermissionDenied, ConsulException
from http_support import JSON, TEXT, UUID_RE, VARY, Reply, Transport, assert_headers

from pytest_consul_events.fake import FakeConsulAgent

ROOT = "root"
SEED = 77
DEPLOYER_RULES = 'event "deploy" { policy = "write" }'
POLICY_KEYS = ["ID", "Name", "Description", "Rules", "Hash", "CreateIndex", "ModifyIndex"]
TOKEN_KEYS = [
    "AccessorID",
    "SecretID",
    "Description",
    "Policies",
    "Local",
    "CreateTime",
    "Hash",
    "CreateIndex",
    "ModifyIndex",
]
GO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)\Z")
ANONYMOUS_ACCESSOR = "00000000-0000-0000-0000-000000000002"
GLOBAL_MANAGEMENT = "00000000-0000-0000-0000-000000000001"
UNKNOWN_ID = "6a1f5c3e-0d39-4b7c-9e02-77c3f1b2a9d4"
ANONYMOUS_LACKS = (
    "Permission denied: anonymous token lacks permission 'acl:{access}'. The anonymous token is "
    "used implicitly when a request does not specify a token."
)

pytestmark = pytest.mark.consul_agent(
    acl="deny", management_token=ROOT, tokens={"deployer": DEPLOYER_RULES}, seed=SEED
)

ACL_ENDPOINTS = [
    ("GET", "/v1/acl/policies"),
    ("PUT", "/v1/acl/policy"),
    ("GET", f"/v1/acl/policy/{UNKNOWN_ID}"),
    ("PUT", f"/v1/acl/policy/{UNKNOWN_ID}"),
    ("DELETE", f"/v1/acl/policy/{UNKNOWN_ID}"),
    ("GET", "/v1/acl/tokens"),
    ("PUT", "/v1/acl/token"),
    ("GET", "/v1/acl/token/self"),
    ("GET", f"/v1/acl/token/{UNKNOWN_ID}"),
    ("PUT", f"/v1/acl/token/{UNKNOWN_ID}"),
    ("DELETE", f"/v1/acl/token/{UNKNOWN_ID}"),
    ("PUT", f"/v1/acl/token/{UNKNOWN_ID}/clone"),
]


def assert_error(reply: Reply, status: int, body: str, policy: str = "deny") -> None:
    assert (reply.status, reply.body) == (status, body.encode())
    assert_headers(reply, TEXT, ("X-Consul-Default-Acl-Policy", policy), VARY, wrapped=False)


def hash_bytes(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


def accessor_of(agent: FakeConsulAgent, secret: str) -> str:
    [token] = [t for t in agent.acl.tokens() if t.secret_id == secret]
    return token.accessor_id


@pytest.fixture
def make_client(consul_agent: FakeConsulAgent) -> Iterator[Callable[..., consul.Consul]]:
    made: list[consul.Consul] = []

    def make(token: str | None = None) -> consul.Consul:
        client = consul_agent.client(token=token)
        made.append(client)
        return client

    yield make
    for client in made:
        client.http.session.close()


@pytest.fixture
def admin(make_client: Callable[..., consul.Consul]) -> consul.Consul:
    """A py-consul client holding the management token."""
    return make_client(token=ROOT)


@pytest.fixture
def p1(admin: consul.Consul) -> dict[str, Any]:
    """Policy ``p1``: may fire ``deploy`` (py-consul sends the rules as JSON)."""
    return admin.acl.policy.create(
        "p1", rules={"event": {"deploy": {"policy": "write"}}}, description="deployers"
    )


@pytest.fixture
def ci_token(admin: consul.Consul, p1: dict[str, Any]) -> dict[str, Any]:
    return admin.acl.token.create(policies_name=["p1"], description="ci")


# -- policies through py-consul ----------------------------------------------------------------


def test_policy_create_returns_the_policy_in_consuls_key_order(p1: dict[str, Any]) -> None:
    assert list(p1) == POLICY_KEYS
    assert UUID_RE.match(p1["ID"])
    assert (p1["Name"], p1["Description"]) == ("p1", "deployers")
    assert p1["Rules"] == '{"event": {"deploy": {"policy": "write"}}}'  # py-consul's json.dumps
    assert p1["CreateIndex"] == p1["ModifyIndex"] > 0


def test_policy_hash_is_base64_of_32_bytes(p1: dict[str, Any]) -> None:
    assert len(hash_bytes(p1["Hash"])) == 32


def test_policy_read_returns_the_same_policy(admin: consul.Consul, p1: dict[str, Any]) -> None:
    assert admin.acl.policy.read(p1["ID"]) == p1


def test_policy_read_of_an_unknown_id_returns_none(admin: consul.Consul) -> None:
    assert admin.acl.policy.read(UNKNOWN_ID) is None


def test_policy_list_has_the_builtins_and_the_new_policy(
    admin: consul.Consul, p1: dict[str, Any]
) -> None:
    policies = admin.acl.policy.list()
    by_id = {p["ID"]: p["Name"] for p in policies}
    assert by_id[GLOBAL_MANAGEMENT] == "global-management"
    assert by_id["00000000-0000-0000-0000-000000000002"] == "builtin/global-read-only"
    assert by_id[p1["ID"]] == "p1"
    # The marker's "deployer" token got a policy of its own.
    assert sorted(by_id.values()) == [
        "builtin/global-read-only",
        "global-management",
        "p1",
        "token-policy-1",
    ]


def test_duplicate_policy_name_is_a_500(admin: consul.Consul, p1: dict[str, Any]) -> None:
    with pytest.raises(ConsulException) as caught:
        admin.acl.policy.create("p1")
    assert (type(caught.value), str(caught.value)) == (
        ConsulException,
        '500 Invalid Policy: A Policy with Name "p1" already exists',
    )


def test_policy_names_clash_case_insensitively(admin: consul.Consul, p1: dict[str, Any]) -> None:
    with pytest.raises(ConsulException) as caught:
        admin.acl.policy.create("P1")
    assert str(caught.value) == '500 Invalid Policy: A Policy with Name "P1" already exists'


def test_invalid_event_rules_are_a_500_with_consuls_text(admin: consul.Consul) -> None:
    with pytest.raises(ConsulException) as caught:
        admin.acl.policy.create("bad", rules={"event": {"deploy": {"policy": "list"}}})
    assert str(caught.value) == (
        '500 Invalid event policy: &acl.EventRule{Event:"deploy", Policy:"list"}'
    )


def test_invalid_event_prefix_rules_are_a_500_with_consuls_text(api: Transport) -> None:
    reply = api.put(
        "/v1/acl/policy?token=root",
        body=json.dumps({"Name": "bad", "Rules": 'event_prefix "" { policy = "sudo" }'}).encode(),
    )
    assert_error(reply, 500, 'Invalid event_prefix policy: &acl.EventRule{Event:"", Policy:"sudo"}')


# -- tokens through py-consul ------------------------------------------------------------------


def test_token_create_returns_the_token_in_consuls_key_order(
    ci_token: dict[str, Any], p1: dict[str, Any]
) -> None:
    assert list(ci_token) == TOKEN_KEYS
    assert UUID_RE.match(ci_token["AccessorID"])
    assert UUID_RE.match(ci_token["SecretID"])
    assert ci_token["AccessorID"] != ci_token["SecretID"]
    assert (ci_token["Description"], ci_token["Local"]) == ("ci", False)
    assert ci_token["Policies"] == [{"ID": p1["ID"], "Name": "p1"}]
    assert GO_TIME.match(ci_token["CreateTime"]), ci_token["CreateTime"]
    assert len(hash_bytes(ci_token["Hash"])) == 32
    assert ci_token["CreateIndex"] == ci_token["ModifyIndex"] > p1["ModifyIndex"]


def test_token_without_policies_has_no_policies_key(admin: consul.Consul) -> None:
    token = admin.acl.token.create(description="bare")
    assert list(token) == [key for key in TOKEN_KEYS if key != "Policies"]


def test_token_read_returns_the_same_token(admin: consul.Consul, ci_token: dict[str, Any]) -> None:
    assert admin.acl.token.read(ci_token["AccessorID"]) == ci_token


def test_token_read_of_an_unknown_accessor_returns_none(admin: consul.Consul) -> None:
    assert admin.acl.token.read(UNKNOWN_ID) is None


def test_token_list_has_the_anonymous_root_configured_and_new_tokens(
    admin: consul.Consul, consul_agent: FakeConsulAgent, ci_token: dict[str, Any]
) -> None:
    accessors = {t["AccessorID"]: t["SecretID"] for t in admin.acl.token.list()}
    assert accessors == {
        ANONYMOUS_ACCESSOR: "anonymous",
        accessor_of(consul_agent, ROOT): ROOT,
        accessor_of(consul_agent, "deployer"): "deployer",
        ci_token["AccessorID"]: ci_token["SecretID"],
    }


def test_token_delete_returns_true_and_the_token_is_gone(
    admin: consul.Consul, ci_token: dict[str, Any]
) -> None:
    assert admin.acl.token.delete(ci_token["AccessorID"]) is True
    assert admin.acl.token.read(ci_token["AccessorID"]) is None


def test_deleted_token_can_no_longer_fire(
    admin: consul.Consul, make_client: Callable[..., consul.Consul], ci_token: dict[str, Any]
) -> None:
    admin.acl.token.delete(ci_token["AccessorID"])
    with pytest.raises(ConsulException) as caught:
        make_client(token=ci_token["SecretID"]).event.fire("deploy")
    assert str(caught.value) == "500 ACL not found"


def test_deleting_an_unknown_token_returns_true(admin: consul.Consul) -> None:
    # agent/consul/acl_endpoint_test.go TestACLEndpoint_TokenDelete "errors when token doesn't
    # exist": require.NoError.
    assert admin.acl.token.delete(UNKNOWN_ID) is True


def test_deleting_a_token_raw_answers_true_as_json(
    api: Transport, ci_token: dict[str, Any]
) -> None:
    reply = api.request("DELETE", f"/v1/acl/token/{ci_token['AccessorID']}?token=root")
    assert (reply.status, reply.body) == (200, b"true")
    assert reply.header("Content-Type") == JSON


def test_token_clone_copies_policies_with_a_new_description(
    admin: consul.Consul, ci_token: dict[str, Any]
) -> None:
    clone = admin.acl.token.clone(ci_token["AccessorID"], description="copy")
    assert list(clone) == TOKEN_KEYS
    assert clone["AccessorID"] not in (ci_token["AccessorID"], ci_token["SecretID"])
    assert clone["SecretID"] not in (ci_token["AccessorID"], ci_token["SecretID"])
    assert (clone["Description"], clone["Policies"]) == ("copy", ci_token["Policies"])


def test_token_clone_without_description_keeps_the_original_one(
    admin: consul.Consul, ci_token: dict[str, Any]
) -> None:
    assert admin.acl.token.clone(ci_token["AccessorID"])["Description"] == "ci"


# -- tokens made over HTTP, used on the event endpoints -----------------------------------------


def test_token_created_over_http_fires(
    make_client: Callable[..., consul.Consul],
    consul_agent: FakeConsulAgent,
    ci_token: dict[str, Any],
) -> None:
    event = make_client(token=ci_token["SecretID"]).event.fire("deploy", "v1")
    assert [(e.id, e.payload) for e in consul_agent.events] == [(event["ID"], b"v1")]


def test_token_created_over_http_may_fire_only_what_its_policy_allows(
    make_client: Callable[..., consul.Consul], ci_token: dict[str, Any]
) -> None:
    with pytest.raises(ACLPermissionDenied) as caught:
        make_client(token=ci_token["SecretID"]).event.fire("rollback")
    assert str(caught.value) == "Permission denied"


def test_token_whose_policy_only_reads_cannot_fire(
    admin: consul.Consul,
    make_client: Callable[..., consul.Consul],
    consul_agent: FakeConsulAgent,
) -> None:
    admin.acl.policy.create("readers", rules={"event": {"deploy": {"policy": "read"}}})
    token = admin.acl.token.create(policies_name=["readers"])
    with pytest.raises(ACLPermissionDenied) as caught:
        make_client(token=token["SecretID"]).event.fire("deploy")
    assert str(caught.value) == "Permission denied"
    assert consul_agent.fired == []


def test_token_linked_by_policy_id_fires(
    admin: consul.Consul, make_client: Callable[..., consul.Consul], p1: dict[str, Any]
) -> None:
    token = admin.acl.token.create(policies_id=[p1["ID"]])
    assert make_client(token=token["SecretID"]).event.fire("deploy")["Name"] == "deploy"


def test_token_created_over_http_reads_its_events_on_the_list(
    api: Transport, consul_agent: FakeConsulAgent, admin: consul.Consul
) -> None:
    admin.acl.policy.create("ro", rules={"event": {"deploy": {"policy": "read"}}})
    secret = admin.acl.token.create(policies_name=["ro"])["SecretID"]
    consul_agent.fire("deploy", token=ROOT)
    consul_agent.fire("other", token=ROOT)
    reply = api.get("/v1/event/list", headers=[("X-Consul-Token", secret)])
    assert [e["Name"] for e in reply.json()] == ["deploy"]
    assert reply.values("X-Consul-Results-Filtered-By-Acls") == ["true"]


def test_policy_created_with_hcl_rules_over_http_grants_the_fire(
    api: Transport, consul_agent: FakeConsulAgent
) -> None:
    created = api.put(
        "/v1/acl/policy",
        headers=[("X-Consul-Token", ROOT)],
        body=json.dumps({"Name": "hcl", "Rules": DEPLOYER_RULES}).encode(),
    )
    assert [key for key, _ in created.json_pairs()] == POLICY_KEYS
    assert created.json()["Rules"] == DEPLOYER_RULES
    token = api.put(
        "/v1/acl/token",
        headers=[("X-Consul-Token", ROOT)],
        body=json.dumps({"Policies": [{"Name": "hcl"}]}).encode(),
    ).json()
    reply = api.put("/v1/event/fire/deploy", headers=[("X-Consul-Token", token["SecretID"])])
    assert reply.status == 200, reply.body
    assert [e.name for e in consul_agent.events] == ["deploy"]


# -- refusals -----------------------------------------------------------------------------------


@pytest.mark.consul_agent(acl=None, management_token=None, tokens={})  # all ACL options off
@pytest.mark.parametrize(("method", "path"), ACL_ENDPOINTS)
def test_acl_endpoints_answer_401_when_acls_are_off(api: Transport, method: str, path: str) -> None:
    reply = api.request(method, f"{path}?token=root", body=b"{}" if method == "PUT" else None)
    assert_error(reply, 401, "ACL support disabled", policy="allow")


@pytest.mark.consul_agent(acl=None, management_token=None, tokens={})  # all ACL options off
def test_py_consul_raises_acl_disabled_when_acls_are_off(admin: consul.Consul) -> None:
    with pytest.raises(ACLDisabled) as caught:
        admin.acl.policy.list()
    assert str(caught.value) == "ACL support disabled"


@pytest.mark.consul_agent(acl=None, management_token=None, tokens={})  # all ACL options off
@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("POST", "/v1/acl/policies", "OPTIONS,GET"),
        ("GET", "/v1/acl/policy", "OPTIONS,PUT"),
        ("POST", f"/v1/acl/policy/{UNKNOWN_ID}", "OPTIONS,GET,PUT,DELETE"),
        ("DELETE", "/v1/acl/tokens", "OPTIONS,GET"),
        ("POST", f"/v1/acl/token/{UNKNOWN_ID}", "OPTIONS,GET,PUT,DELETE"),
    ],
)
def test_wrong_method_is_405_even_when_acls_are_off(
    api: Transport, method: str, path: str, allow: str
) -> None:
    reply = api.request(method, path)
    assert (reply.status, reply.body) == (405, f"method {method} not allowed".encode())
    assert reply.header("Allow") == allow
    assert reply.header("X-Consul-Default-Acl-Policy") == "allow"


@pytest.mark.parametrize(
    ("method", "path", "access"),
    [
        ("GET", "/v1/acl/policies", "read"),
        ("GET", f"/v1/acl/policy/{UNKNOWN_ID}", "read"),
        ("GET", "/v1/acl/tokens", "read"),
        ("GET", f"/v1/acl/token/{UNKNOWN_ID}", "read"),
        ("PUT", "/v1/acl/policy", "write"),
        ("PUT", "/v1/acl/token", "write"),
        ("DELETE", f"/v1/acl/token/{UNKNOWN_ID}", "write"),
        ("DELETE", f"/v1/acl/policy/{UNKNOWN_ID}", "write"),
    ],
)
def test_anonymous_requests_lack_acl_permissions(
    api: Transport, method: str, path: str, access: str
) -> None:
    # A body each endpoint decodes without complaint: the handler decodes before the RPC checks.
    bodies = {"/v1/acl/policy": {"Name": "p9"}, "/v1/acl/token": {"Description": "t"}}
    body = json.dumps(bodies[path]).encode() if method == "PUT" else None
    reply = api.request(method, path, body=body)
    assert_error(reply, 403, ANONYMOUS_LACKS.format(access=access))


def test_py_consul_anonymous_policy_list_is_acl_permission_denied(
    make_client: Callable[..., consul.Consul],
) -> None:
    with pytest.raises(ACLPermissionDenied) as caught:
        make_client().acl.policy.list()
    assert str(caught.value) == ANONYMOUS_LACKS.format(access="read")


def test_event_token_lacks_acl_write_and_the_text_names_its_accessor(
    make_client: Callable[..., consul.Consul], consul_agent: FakeConsulAgent
) -> None:
    with pytest.raises(ACLPermissionDenied) as caught:
        make_client(token="deployer").acl.token.create(description="x")
    accessor = accessor_of(consul_agent, "deployer")
    assert str(caught.value) == (
        f"Permission denied: token with AccessorID '{accessor}' lacks permission 'acl:write'"
    )


def test_read_only_builtin_policy_reads_but_does_not_write(
    admin: consul.Consul, make_client: Callable[..., consul.Consul], consul_agent: FakeConsulAgent
) -> None:
    token = admin.acl.token.create(policies_name=["builtin/global-read-only"])
    reader = make_client(token=token["SecretID"])
    assert "global-management" in {p["Name"] for p in reader.acl.policy.list()}
    with pytest.raises(ACLPermissionDenied) as caught:
        reader.acl.policy.create("nope")
    assert str(caught.value) == (
        f"Permission denied: token with AccessorID '{token['AccessorID']}' lacks permission "
        "'acl:write'"
    )


def test_unknown_token_on_an_acl_endpoint_is_403_acl_not_found(api: Transport) -> None:
    assert_error(api.get("/v1/acl/policies?token=ghost"), 403, "ACL not found")


def test_root_name_on_an_acl_endpoint_is_500(api: Transport) -> None:
    assert_error(api.get("/v1/acl/tokens?token=deny"), 500, "Cannot resolve root ACL")


def test_unknown_policy_read_raw_is_404_with_consuls_text(api: Transport) -> None:
    reply = api.get(f"/v1/acl/policy/{UNKNOWN_ID}?token=root")
    assert_error(reply, 404, "Requested policy does not exist: ACL not found")


def test_unknown_token_read_raw_is_404_with_consuls_text(api: Transport) -> None:
    reply = api.get(f"/v1/acl/token/{UNKNOWN_ID}?token=root")
    assert_error(reply, 404, "Requested token does not exist: ACL not found")


def test_duplicate_policy_name_raw_is_500(api: Transport) -> None:
    body = json.dumps({"Name": "p1", "Rules": ""}).encode()
    assert api.put("/v1/acl/policy?token=root", body=body).status == 200
    reply = api.put("/v1/acl/policy?token=root", body=body)
    assert_error(reply, 500, 'Invalid Policy: A Policy with Name "p1" already exists')


def test_policy_create_with_an_id_is_400_for_a_manager(api: Transport) -> None:
    body = json.dumps({"ID": UNKNOWN_ID, "Name": "p9"}).encode()
    reply = api.put("/v1/acl/policy?token=root", body=body)
    assert_error(reply, 400, "Cannot specify the ID when creating a new policy")


def test_policy_create_with_an_id_is_400_even_for_the_anonymous_token(api: Transport) -> None:
    body = json.dumps({"ID": UNKNOWN_ID, "Name": "p9"}).encode()
    reply = api.put("/v1/acl/policy", body=body)
    assert_error(reply, 400, "Cannot specify the ID when creating a new policy")


@pytest.mark.parametrize(
    ("path", "body"),
    [("/v1/acl/policy/", "Missing policy ID"), ("/v1/acl/token/", "Missing token AccessorID")],
)
def test_missing_id_is_400_even_for_the_anonymous_token(
    api: Transport, path: str, body: str
) -> None:
    assert_error(api.get(path), 400, body)


def test_deleting_the_requests_own_token_is_refused(
    admin: consul.Consul, consul_agent: FakeConsulAgent
) -> None:
    with pytest.raises(ConsulException) as caught:
        admin.acl.token.delete(accessor_of(consul_agent, ROOT))
    assert str(caught.value) == "500 Deletion of the request's authorization token is not permitted"
