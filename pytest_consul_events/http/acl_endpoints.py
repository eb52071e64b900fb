"""The ACL API that code under test uses to provision its own tokens (agent/acl_endpoint.go).

Policies (``/v1/acl/policy``, ``/v1/acl/policies``) and tokens (``/v1/acl/token``,
``/v1/acl/tokens``, ``/v1/acl/token/self``, ``.../clone``), as py-consul's ``acl.policy`` and
``acl.token`` call them. With ACLs off every endpoint answers 401 ``ACL support disabled``.
Reading needs ``acl:read`` and writing ``acl:write``: a management token (or, for reads, one
with the built-in read-only policy) has them, as the fake models no ``acl`` rules otherwise.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from typing import Any

from pytest_consul_events import messages
from pytest_consul_events.errors import ACLNotFoundError, ACLStoreError, ConsulError
from pytest_consul_events.gocompat.jsondecode import GoJSONError, decode_object
from pytest_consul_events.http import responses
from pytest_consul_events.http.call import Call, ShortBodyError
from pytest_consul_events.http.responses import Reply
from pytest_consul_events.model.acl import Policy, ResolvedACL, Token
from pytest_consul_events.model.agent import Agent

POLICY_PREFIX = "/v1/acl/policy/"
TOKEN_PREFIX = "/v1/acl/token/"

_POLICY_FIELDS = (
    "ID", "Name", "Description", "Rules", "Datacenters", "Hash", "CreateIndex", "ModifyIndex",
)  # fmt: skip
_TOKEN_FIELDS = (
    "AccessorID", "SecretID", "Description", "Policies", "Roles", "ServiceIdentities",
    "NodeIdentities", "TemplatedPolicies", "Local", "AuthMethod", "ExpirationTime",
    "ExpirationTTL", "CreateTime", "Hash", "CreateIndex", "ModifyIndex",
)  # fmt: skip
_POLICY_TYPE = "structs.ACLPolicy"
_TOKEN_TYPE = "structs.ACLToken"


class _Refused(Exception):
    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


def _enabled(agent: Agent) -> None:
    """Every ACL handler starts here: ``checkACLDisabled``.

    Raises:
        _Refused: with 401 ``ACL support disabled``.
    """
    if not agent.acl.enabled:
        raise _Refused(responses.text(401, messages.ACL_DISABLED))


def _authorize(call: Call, agent: Agent, access: str) -> ResolvedACL:
    """Check the request's token holds ``acl:<access>`` (the RPC's check, after the handler's
    own validation of the path and body).

    Raises:
        _Refused: with the resolution error, or a 403.
    """
    try:
        authz = agent.acl.resolve(call.token or agent.config.default_token)
    except ConsulError as exc:
        raise _Refused(responses.handle_error(exc)) from None
    token = authz.token
    allowed = token is not None and (
        token.management
        or (access == "read" and messages.GLOBAL_READ_ONLY_POLICY_ID in token.policy_ids)
    )
    if not allowed:
        accessor = "" if token is None else token.accessor_id
        if accessor == messages.ANONYMOUS_TOKEN_ACCESSOR_ID:
            text = messages.PERMISSION_DENIED_UNNAMED_ANONYMOUS.format(
                resource="acl", access=access
            )
        else:
            text = messages.PERMISSION_DENIED_UNNAMED.format(
                accessor=accessor, resource="acl", access=access
            )
        raise _Refused(responses.text(403, text))
    return authz


def _body(call: Call, fields: Iterable[str], go_type: str, failure: str) -> dict[str, Any]:
    try:
        return decode_object(call.read_body(any_framing=True) or b"", fields, go_type)
    except (GoJSONError, ShortBodyError) as exc:
        raise _Refused(responses.text(400, failure.format(error=exc))) from None


def _hash(*parts: str) -> str:
    digest = hashlib.blake2b(digest_size=32)
    for part in parts:
        digest.update(part.encode("utf-8", "surrogateescape"))
    return base64.b64encode(digest.digest()).decode()


def policy_json(policy: Policy) -> dict[str, Any]:
    """``structs.ACLPolicy`` as Consul encodes it (``Datacenters`` left out when empty)."""
    return {
        "ID": policy.id,
        "Name": policy.name,
        "Description": policy.description,
        "Rules": policy.rules,
        "Hash": _hash(policy.name, policy.description, policy.rules),
        "CreateIndex": policy.create_index,
        "ModifyIndex": policy.modify_index,
    }


def _policy_stub(policy: Policy) -> dict[str, Any]:
    return {
        "ID": policy.id,
        "Name": policy.name,
        "Description": policy.description,
        "Datacenters": None,
        "Hash": _hash(policy.name, policy.description, policy.rules),
        "CreateIndex": policy.create_index,
        "ModifyIndex": policy.modify_index,
    }


def token_json(agent: Agent, token: Token) -> dict[str, Any]:
    """``structs.ACLToken`` as Consul encodes it; policy names are looked up at read time."""
    body: dict[str, Any] = {
        "AccessorID": token.accessor_id,
        "SecretID": token.secret_id,
        "Description": token.description,
    }
    links = []
    for policy_id in token.policy_ids:
        policy = agent.acl.get_policy(policy_id)
        links.append({"ID": policy_id, "Name": "" if policy is None else policy.name})
    if links:
        body["Policies"] = links
    body["Local"] = token.local
    body["CreateTime"] = token.create_time
    body["Hash"] = _hash(token.description, "local" if token.local else "global", *token.policy_ids)
    body["CreateIndex"] = token.create_index
    body["ModifyIndex"] = token.modify_index
    return body


def _policy_links(document: dict[str, Any]) -> list[str]:
    links: list[str] = []
    for link in document.get("Policies") or ():
        if isinstance(link, dict):
            lowered = {str(k).lower(): v for k, v in link.items()}
            value = lowered.get("id") or lowered.get("name")
            if isinstance(value, str) and value:
                links.append(value)
    return links


def _guarded(handler: Any) -> Any:
    def run(call: Call, agent: Agent) -> Reply:
        try:
            reply: Reply = handler(call, agent)
        except _Refused as refused:
            return refused.reply
        except ConsulError as exc:
            return responses.handle_error(exc)
        return reply

    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run


# -- policies ----------------------------------------------------------------------------------


@_guarded
def list_policies(call: Call, agent: Agent) -> Reply:
    """``GET /v1/acl/policies``: every policy's stub, built-ins included, sorted by ID."""
    _enabled(agent)
    _authorize(call, agent, "read")
    stubs = [_policy_stub(p) for p in sorted(agent.acl.policies(), key=lambda p: p.id)]
    return responses.json_reply(stubs, pretty=call.pretty)


@_guarded
def create_policy(call: Call, agent: Agent) -> Reply:
    """``PUT /v1/acl/policy``: create a policy from ``Name``, ``Rules`` and ``Description``."""
    _enabled(agent)
    document = _body(call, _POLICY_FIELDS, _POLICY_TYPE, messages.POLICY_DECODE_FAILED)
    if document.get("ID"):
        return responses.text(400, messages.POLICY_ID_ON_CREATE)
    _authorize(call, agent, "write")
    policy = agent.acl.create_policy(
        str(document.get("Name") or ""),
        str(document.get("Rules") or ""),
        str(document.get("Description") or ""),
    )
    return responses.json_reply(policy_json(policy), pretty=call.pretty)


@_guarded
def policy_by_id(call: Call, agent: Agent) -> Reply:
    """``GET``, ``PUT`` and ``DELETE /v1/acl/policy/<id>``: read, update or delete a policy."""
    _enabled(agent)
    policy_id = call.path[len(POLICY_PREFIX) :]
    if not policy_id:
        return responses.text(400, messages.MISSING_POLICY_ID)
    if call.method == "GET":
        _authorize(call, agent, "read")
        policy = agent.acl.get_policy(policy_id)
        if policy is None:
            return responses.text(404, messages.POLICY_NOT_EXIST)
        return responses.json_reply(policy_json(policy), pretty=call.pretty)
    if call.method == "DELETE":
        _authorize(call, agent, "write")
        agent.acl.delete_policy(policy_id)
        return responses.json_reply(True, pretty=call.pretty)
    document = _body(call, _POLICY_FIELDS, _POLICY_TYPE, messages.POLICY_DECODE_FAILED)
    if document.get("ID") and document["ID"] != policy_id:
        return responses.text(400, messages.POLICY_ID_MISMATCH)
    _authorize(call, agent, "write")
    policy = agent.acl.update_policy(
        policy_id,
        name=str(document.get("Name") or ""),
        rules=str(document.get("Rules") or ""),
        description=str(document.get("Description") or ""),
    )
    return responses.json_reply(policy_json(policy), pretty=call.pretty)


# -- tokens ------------------------------------------------------------------------------------


@_guarded
def list_tokens(call: Call, agent: Agent) -> Reply:
    """``GET /v1/acl/tokens``: every token, the anonymous one included."""
    _enabled(agent)
    _authorize(call, agent, "read")
    tokens = sorted(agent.acl.tokens(), key=lambda t: t.accessor_id)
    return responses.json_reply([token_json(agent, t) for t in tokens], pretty=call.pretty)


@_guarded
def create_token(call: Call, agent: Agent) -> Reply:
    """``PUT /v1/acl/token``: create a token linked to policies by ``ID`` or ``Name``."""
    _enabled(agent)
    document = _body(call, _TOKEN_FIELDS, _TOKEN_TYPE, messages.TOKEN_DECODE_FAILED)
    _authorize(call, agent, "write")
    token = agent.acl.create_token(
        accessor_id=document.get("AccessorID") or None,
        secret_id=document.get("SecretID") or None,
        policies=_policy_links(document),
        description=str(document.get("Description") or ""),
        local=bool(document.get("Local")),
    )
    return responses.json_reply(token_json(agent, token), pretty=call.pretty)


@_guarded
def token_self(call: Call, agent: Agent) -> Reply:
    """``GET /v1/acl/token/self``: the token the request carries."""
    if not agent.acl.enabled:
        return responses.text(401, messages.ACL_DISABLED)
    secret = call.token or agent.config.default_token
    try:
        authz = agent.acl.resolve(secret)
    except ACLNotFoundError:
        return responses.text(404, messages.TOKEN_SELF_NOT_EXIST)
    assert authz.token is not None
    return responses.json_reply(token_json(agent, authz.token), pretty=call.pretty)


@_guarded
def token_by_id(call: Call, agent: Agent) -> Reply:
    """``GET``, ``PUT``, ``DELETE /v1/acl/token/<accessor>`` and ``PUT .../<accessor>/clone``."""
    _enabled(agent)
    accessor = call.path[len(TOKEN_PREFIX) :]
    if not accessor:
        return responses.text(400, messages.MISSING_TOKEN_ID)
    if call.method == "PUT" and accessor.endswith("/clone"):
        return _clone(call, agent, accessor[: -len("/clone")])
    if call.method == "GET":
        _authorize(call, agent, "read")
        token = agent.acl.get_token(accessor)
        if token is None:
            return responses.text(404, messages.TOKEN_NOT_EXIST)
        return responses.json_reply(token_json(agent, token), pretty=call.pretty)
    if call.method == "DELETE":
        authz = _authorize(call, agent, "write")
        if authz.token is not None and authz.token.accessor_id.lower() == accessor.lower():
            return responses.text(500, messages.TOKEN_DELETE_OWN)
        agent.acl.delete_token(accessor)
        return responses.json_reply(True, pretty=call.pretty)
    document = _body(call, _TOKEN_FIELDS, _TOKEN_TYPE, messages.TOKEN_DECODE_FAILED)
    if document.get("AccessorID") and document["AccessorID"] != accessor:
        return responses.text(400, messages.TOKEN_ID_MISMATCH)
    _authorize(call, agent, "write")
    token = agent.acl.update_token(
        accessor,
        policies=_policy_links(document) if "Policies" in document else None,
        description=str(document["Description"]) if "Description" in document else None,
    )
    return responses.json_reply(token_json(agent, token), pretty=call.pretty)


def _clone(call: Call, agent: Agent, accessor: str) -> Reply:
    document = _body(call, _TOKEN_FIELDS, _TOKEN_TYPE, messages.TOKEN_DECODE_FAILED)
    _authorize(call, agent, "write")
    original = agent.acl.get_token(accessor)
    if original is None:
        return responses.text(403, messages.ACL_NOT_FOUND)
    try:
        token = agent.acl.create_token(
            policies=original.policy_ids,
            description=str(document.get("Description") or original.description),
            local=original.local,
        )
    except ACLStoreError as exc:
        return responses.handle_error(exc)
    return responses.json_reply(token_json(agent, token), pretty=call.pretty)
