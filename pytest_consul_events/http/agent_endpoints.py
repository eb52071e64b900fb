"""The agent and status endpoints clients call around events (agent/agent_endpoint.go,
agent/status_endpoint.go): who the agent is, its local services, and the leader."""

from __future__ import annotations

import ipaddress
from typing import Any

from pytest_consul_events import messages
from pytest_consul_events.errors import ConsulError, ServiceError
from pytest_consul_events.gocompat.jsondecode import GoJSONError, decode_object, json_type_name
from pytest_consul_events.http import responses
from pytest_consul_events.http.call import Call, ShortBodyError
from pytest_consul_events.http.responses import Reply
from pytest_consul_events.model.agent import Agent
from pytest_consul_events.model.services import Service

CONSUL_VERSION = "1.20.1"
"""The Consul version the fake reports in ``/v1/agent/self``."""
SERVER_RPC_PORT = 8300
SERF_LAN_PORT = 8301
GRPC_PORT = 8502
DEREGISTER_PREFIX = "/v1/agent/service/deregister/"

# agent/structs/service_definition.go: the fields a registration may carry (matched
# case-insensitively), plus the two snake_case aliases; anything else is an unknown field.
_SERVICE_FIELDS = (
    "Kind", "ID", "Name", "Tags", "Address", "TaggedAddresses", "Meta", "Port", "SocketPath",
    "Check", "Checks", "Weights", "Token", "EnableTagOverride", "Locality", "Proxy", "Connect",
    "enable_tag_override", "tagged_addresses",
)  # fmt: skip
# The anonymous struct Consul decodes into, as Go prints its type in an UnmarshalTypeError.
_SERVICE_DEFINITION_TYPE = (
    'struct { EnableTagOverrideSnake bool "json:\\"enable_tag_override\\""; '
    'TaggedAddressesSnake map[string]structs.ServiceAddress "json:\\"tagged_addresses\\""; '
    "*structs.Alias }"
)


def _rpc_address(call: Call) -> str:
    return f"{call.environ.get('SERVER_NAME', '127.0.0.1')}:{SERVER_RPC_PORT}"


def _member(call: Call, agent: Agent) -> dict[str, Any]:
    """The agent's serf LAN member, as ``serf.Member`` encodes (tags sorted, as a Go map)."""
    tags = {
        "acls": "0",
        "bootstrap": "1",
        "build": f"{CONSUL_VERSION}:",
        "dc": agent.datacenter,
        "ft_fs": "1",
        "ft_si": "1",
        "grpc_port": str(GRPC_PORT),
        "id": agent.node_id,
        "port": str(SERVER_RPC_PORT),
        "raft_vsn": "3",
        "role": "consul" if agent.config.server else "node",
        "segment": "",
        "vsn": "2",
        "vsn_max": "3",
        "vsn_min": "2",
        "wan_join_port": "8302",
    }
    return {
        "Name": agent.node_name,
        "Addr": call.environ.get("SERVER_NAME", "127.0.0.1"),
        "Port": SERF_LAN_PORT,
        "Tags": tags,
        "Status": 1,
        "ProtocolMin": 1,
        "ProtocolMax": 5,
        "ProtocolCur": 2,
        "DelegateMin": 2,
        "DelegateMax": 5,
        "DelegateCur": 4,
    }


def agent_self(call: Call, agent: Agent) -> Reply:
    """``GET /v1/agent/self``: configuration, coordinate, member, stats, meta and xDS.

    The keys and their order are Consul's; ``DebugConfig`` holds only a few of the 200-odd
    settings a real agent lists. ``Stats.consul.leader_addr`` equals ``/v1/status/leader``.
    With ACLs on, the token needs ``agent:read`` on the node name, checked first (a 403 with
    the long permission text, or ``ACL not found``).
    """
    try:
        agent.authorize_agent_read(call.token)
    except ConsulError as exc:
        return responses.handle_error(exc)
    body = {
        "Config": {
            "Datacenter": agent.datacenter,
            "PrimaryDatacenter": agent.datacenter,
            "NodeName": agent.node_name,
            "NodeID": agent.node_id,
            "Revision": "",
            "Server": agent.config.server,
            "Version": CONSUL_VERSION,
            "BuildDate": "1970-01-01T00:00:01Z",
        },
        "DebugConfig": {
            "Datacenter": agent.datacenter,
            "DevMode": agent.config.dev_mode,
            "NodeName": agent.node_name,
            "ServerMode": agent.config.server,
        },
        "Coord": {"Vec": [0, 0, 0, 0, 0, 0, 0, 0], "Error": 1.5, "Adjustment": 0, "Height": 1e-05},
        "Member": _member(call, agent),
        "Stats": {
            "agent": {
                "check_monitors": "0",
                "check_ttls": "0",
                "checks": "0",
                "services": str(len(agent.services)),
            },
            "build": {
                "prerelease": "",
                "revision": "",
                "version": CONSUL_VERSION,
                "version_metadata": "",
            },
            "consul": {
                "acl": "enabled" if agent.acl_enabled else "disabled",
                "bootstrap": "false",
                "known_datacenters": "1",
                "leader": "true" if agent.config.server else "false",
                "leader_addr": _rpc_address(call),
                "server": "true" if agent.config.server else "false",
            },
        },
        "Meta": {"consul-network-segment": "", "consul-version": CONSUL_VERSION},
        # The envoy versions a 1.20 agent lists are UNCONFIRMED; clients only read the keys.
        "xDS": {
            "SupportedProxies": {"envoy": ["1.31.2", "1.30.6", "1.29.9", "1.28.7"]},
            "Port": GRPC_PORT,
            "Ports": {"Plaintext": GRPC_PORT, "TLS": -1},
        },
    }
    return responses.json_reply(body, pretty=call.pretty)


def agent_members(call: Call, agent: Agent) -> Reply:
    """``GET /v1/agent/members``: the LAN members this agent knows, here only itself."""
    return responses.json_reply([_member(call, agent)], pretty=call.pretty)


def _tagged_addresses(service: Service) -> dict[str, dict[str, Any]] | None:
    """Consul adds ``lan_``/``wan_`` addresses for an IP address (agent.go addServiceInternal)."""
    try:
        ip = ipaddress.ip_address(service.address)
    except ValueError:
        return None
    suffix = "ipv4" if ip.version == 4 else "ipv6"
    entry = {"Address": service.address, "Port": service.port}
    return {f"lan_{suffix}": dict(entry), f"wan_{suffix}": dict(entry)}


def _service_json(service: Service, datacenter: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ID": service.id,
        "Service": service.name,
        "Tags": list(service.tags),
        "Meta": dict(service.meta),
        "Port": service.port,
        "Address": service.address,
    }
    tagged = _tagged_addresses(service)
    if tagged:
        body["TaggedAddresses"] = tagged
    body["Weights"] = {"Passing": 1, "Warning": 1}
    body["EnableTagOverride"] = service.enable_tag_override
    body["Datacenter"] = datacenter
    return body


def agent_services(call: Call, agent: Agent) -> Reply:
    """``GET /v1/agent/services``: the local services keyed (and sorted) by ID."""
    body = {sid: _service_json(s, agent.datacenter) for sid, s in sorted(agent.services.items())}
    return responses.json_reply(body, pretty=call.pretty)


class _DecodeError(Exception):
    pass


def _typed(document: dict[str, Any], field: str, kind: type, go_type: str) -> Any:
    """A field's value if its JSON kind fits the Go type, else Go's UnmarshalTypeError text."""
    value = document.get(field)
    if value is None:
        return None
    ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    if kind is int and isinstance(value, float) and value.is_integer():
        ok = True
    if kind is int and ok and not -(2**63) <= value < 2**63:
        ok = False
    if not ok:
        shown = json_type_name(value)
        if kind is int and isinstance(value, (int, float)) and not isinstance(value, bool):
            shown = f"number {value}"
        raise _DecodeError(
            f"json: cannot unmarshal {shown} into Go struct field .{field} of type {go_type}"
        )
    return value


def _service_document(raw: bytes) -> dict[str, Any]:
    """The registration body's fields under their canonical names.

    Raises:
        _DecodeError: with Go's text for a syntax error, a non-object, or an unknown field.
    """
    try:
        return decode_object(raw, _SERVICE_FIELDS, _SERVICE_DEFINITION_TYPE)
    except GoJSONError as exc:
        raise _DecodeError(str(exc)) from None


def register_service(call: Call, agent: Agent) -> Reply:
    """``PUT /v1/agent/service/register``: add or replace a local service; 200 with no body.

    Checks are accepted and ignored: the fake keeps no health checks.
    """
    try:
        try:
            raw = call.read_body(any_framing=True) or b""
        except ShortBodyError as exc:
            raise _DecodeError(str(exc)) from None
        document = _service_document(raw)
        name = _typed(document, "Name", str, "string") or ""
        service_id = _typed(document, "ID", str, "string") or ""
        address = _typed(document, "Address", str, "string") or ""
        port = int(_typed(document, "Port", int, "int") or 0)
        tags = _typed(document, "Tags", list, "[]string") or []
        meta = _typed(document, "Meta", dict, "map[string]string") or {}
        override = _typed(document, "EnableTagOverride", bool, "bool") or bool(
            _typed(document, "enable_tag_override", bool, "bool")
        )
        if not all(isinstance(tag, str) for tag in tags):
            raise _DecodeError(
                "json: cannot unmarshal number into Go struct field .Tags of type string"
            )
        if not all(isinstance(v, str) for v in meta.values()):
            raise _DecodeError(
                "json: cannot unmarshal number into Go struct field .Meta of type string"
            )
    except _DecodeError as exc:
        return responses.text(400, messages.REQUEST_DECODE_FAILED.format(error=exc))
    if not name:
        return responses.text(400, messages.MISSING_SERVICE_NAME)
    if address in ("0.0.0.0", "::", "[::]"):
        return responses.text(400, messages.INVALID_SERVICE_ADDRESS)
    agent.add_service(
        Service(name=name, id=service_id, tags=tuple(tags), port=port, address=address,
                meta=meta, enable_tag_override=bool(override))
    )  # fmt: skip
    return responses.empty(200)


def deregister_service(call: Call, agent: Agent) -> Reply:
    """``PUT /v1/agent/service/deregister/<id>``: remove a local service; 200 with no body.

    An unknown (or empty) ID is 404 ``Unknown service ID "<id>". Ensure that ...``.
    """
    try:
        agent.deregister_service(call.path[len(DEREGISTER_PREFIX) :])
    except ServiceError as exc:
        return responses.text(exc.status, exc.message)
    return responses.empty(200)


def status_leader(call: Call, agent: Agent) -> Reply:
    """``GET /v1/status/leader``: the server's RPC address as a JSON string."""
    return responses.json_reply(_rpc_address(call), pretty=call.pretty)


def status_peers(call: Call, agent: Agent) -> Reply:
    """``GET /v1/status/peers``: the raft peers, this single server."""
    return responses.json_reply([_rpc_address(call)], pretty=call.pretty)
