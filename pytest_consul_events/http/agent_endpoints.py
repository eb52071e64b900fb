"""The agent and status endpoints clients call around events (agent/agent_endpoint.go,
agent/status_endpoint.go): who the agent is, its local services, and the leader."""

from __future__ import annotations

import json
from typing import Any

from pytest_consul_events import messages
from pytest_consul_events.errors import ServiceError
from pytest_consul_events.http import responses
from pytest_consul_events.http.call import Call
from pytest_consul_events.http.responses import Reply
from pytest_consul_events.model.agent import Agent
from pytest_consul_events.model.services import Service

CONSUL_VERSION = "1.20.1"
"""The Consul version the fake reports in ``/v1/agent/self``."""
SERVER_RPC_PORT = 8300
SERF_LAN_PORT = 8301
DEREGISTER_PREFIX = "/v1/agent/service/deregister/"


def agent_self(call: Call, agent: Agent) -> Reply:
    """``GET /v1/agent/self``: the agent's configuration and serf member, as a dev server has."""
    host = call.environ.get("SERVER_NAME", "127.0.0.1")
    body = {
        "Config": {
            "Datacenter": agent.datacenter,
            "PrimaryDatacenter": agent.datacenter,
            "NodeName": agent.node_name,
            "NodeID": agent.node_id,
            "Revision": "",
            "Server": True,
            "Version": CONSUL_VERSION,
            "BuildDate": "1970-01-01T00:00:01Z",
        },
        "DebugConfig": {},
        "Coord": None,
        "Member": {
            "Name": agent.node_name,
            "Addr": host,
            "Port": SERF_LAN_PORT,
            "Tags": {
                "dc": agent.datacenter,
                "id": agent.node_id,
                "role": "consul",
                "port": str(SERVER_RPC_PORT),
                "build": CONSUL_VERSION + ":",
                "vsn": "2",
                "vsn_min": "2",
                "vsn_max": "3",
                "bootstrap": "1",
            },
            "Status": 1,
            "ProtocolMin": 1,
            "ProtocolMax": 5,
            "ProtocolCur": 2,
            "DelegateMin": 2,
            "DelegateMax": 5,
            "DelegateCur": 4,
        },
        "Stats": {},
        "Meta": {"consul-network-segment": "", "consul-version": CONSUL_VERSION},
    }
    return responses.json_reply(body, pretty=call.pretty)


def _service_json(service: Service, datacenter: str) -> dict[str, Any]:
    return {
        "ID": service.id,
        "Service": service.name,
        "Tags": list(service.tags),
        "Meta": dict(service.meta),
        "Port": service.port,
        "Address": service.address,
        "Weights": {"Passing": 1, "Warning": 1},
        "EnableTagOverride": service.enable_tag_override,
        "Datacenter": datacenter,
    }


def agent_services(call: Call, agent: Agent) -> Reply:
    """``GET /v1/agent/services``: the local services keyed by ID."""
    body = {sid: _service_json(s, agent.datacenter) for sid, s in sorted(agent.services.items())}
    return responses.json_reply(body, pretty=call.pretty)


def _field(document: dict[str, Any], *names: str) -> Any:
    """A field of a JSON object matched as Go's decoder does: exact name first, then any case."""
    for name in names:
        if name in document:
            return document[name]
    lowered = {name.lower() for name in names}
    for key, value in document.items():
        if key.lower() in lowered:
            return value
    return None


def register_service(call: Call, agent: Agent) -> Reply:
    """``PUT /v1/agent/service/register``: add or replace a local service; 200 with no body."""
    raw = call.read_body() or b""
    try:
        document = json.loads(raw) if raw else {}
    except ValueError as exc:
        return responses.text(400, messages.REQUEST_DECODE_FAILED.format(error=exc))
    if not isinstance(document, dict):
        return responses.text(
            400,
            messages.REQUEST_DECODE_FAILED.format(
                error="json: cannot unmarshal array into Go value of type structs.ServiceDefinition"
            ),
        )
    name = _field(document, "Name") or ""
    if not name:
        return responses.text(400, messages.MISSING_SERVICE_NAME)
    address = _field(document, "Address") or ""
    if address in ("0.0.0.0", "::", "[::]"):
        return responses.text(400, messages.INVALID_SERVICE_ADDRESS)
    try:
        agent.add_service(
            Service(
                name=str(name),
                id=str(_field(document, "ID") or ""),
                tags=tuple(str(t) for t in (_field(document, "Tags") or ())),
                port=int(_field(document, "Port") or 0),
                address=str(address),
                meta={str(k): str(v) for k, v in (_field(document, "Meta") or {}).items()},
                enable_tag_override=bool(
                    _field(document, "EnableTagOverride", "enable_tag_override") or False
                ),
            )
        )
    except ServiceError as exc:
        return responses.text(exc.status, exc.message)
    return responses.empty(200)


def deregister_service(call: Call, agent: Agent) -> Reply:
    """``PUT /v1/agent/service/deregister/<id>``: remove a local service; 200 with no body."""
    service_id = call.path[len(DEREGISTER_PREFIX) :]
    if not service_id:
        return responses.text(400, messages.MISSING_SERVICE_ID)
    try:
        agent.deregister_service(service_id)
    except ServiceError as exc:
        return responses.text(exc.status, exc.message)
    return responses.empty(200)


def status_leader(call: Call, agent: Agent) -> Reply:
    """``GET /v1/status/leader``: the server's RPC address as a JSON string."""
    host = call.environ.get("SERVER_NAME", "127.0.0.1")
    return responses.json_reply(f"{host}:{SERVER_RPC_PORT}", pretty=call.pretty)


def status_peers(call: Call, agent: Agent) -> Reply:
    """``GET /v1/status/peers``: the raft peers, this single server."""
    host = call.environ.get("SERVER_NAME", "127.0.0.1")
    return responses.json_reply([f"{host}:{SERVER_RPC_PORT}"], pretty=call.pretty)
