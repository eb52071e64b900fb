"""Consul's ACL system as far as user events (and ``/v1/agent/self``) need it: rules, tokens,
policies, decisions.

What this module reproduces (hashicorp/consul, modern CE):

* ``parse_rules`` is ``acl.NewPolicyFromSource``: the rules text goes through HCL v1's
  ``hcl.Decode`` (:mod:`pytest_consul_events.gocompat.hcl`, hashicorp/hcl v1.0.0, the version
  Consul vendors), which picks JSON when the first non-space character is ``{`` and the HCL v1
  grammar otherwise, decodes into Consul's ``PolicyRules`` struct (field names matched
  case-insensitively, unknown keys ignored), then ``PolicyRules.Validate`` checks every access
  level in a fixed order. All resource types are validated; the ``event``/``event_prefix`` and
  ``agent``/``agent_prefix`` rules are kept.
* Several policies on one token are merged key by key (exact and prefix rules separately) with
  ``takesPrecedenceOver``: ``deny`` > ``write`` > ``list`` > ``read``, compared on the raw text.
* ``PolicyAuthorizer`` is ``getPolicy``: an exact rule applies only to the whole name and wins;
  otherwise the longest matching prefix rule applies; otherwise the decision is *default*.
* ``ChainedAuthorizer`` asks each authorizer in turn; the first decision that is not *default*
  wins and an all-default chain denies. ``ACLStore.resolve`` chains the token's policies with
  the agent's ``default_policy`` (``allow`` => allow-all, ``deny`` => deny-all).
* ``ACLStore`` holds the agent's tokens and policies, with the built-in policies, the anonymous
  token and (optionally) the initial management token, and reproduces the checks and error texts
  of ``ACL.PolicySet``/``PolicyDelete`` and the token writer for the operations it offers.

Legacy (pre-1.4) rules, roles, service/node identities, expiry, namespaces and the agent
recovery token are not modelled.

Every error is one of :mod:`pytest_consul_events.errors` (all ``ConsulError``, so one ``except
ConsulError`` catches them), and every string Consul puts in one is a constant of
:mod:`pytest_consul_events.messages` (``# ACL system``).
"""

from __future__ import annotations

import datetime
import enum
import functools
import random
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Final, Literal, Protocol, TypeAlias, runtime_checkable

from pytest_consul_events import messages
from pytest_consul_events.errors import (
    ACLNotFoundError,
    ACLStoreError,
    InvalidPolicyError,
    PermissionDeniedError,
    RootACLError,
    RulesParseError,
)
from pytest_consul_events.gocompat import hcl
from pytest_consul_events.gocompat.strconv import go_bytes, go_quote
from pytest_consul_events.messages import (
    ANONYMOUS_TOKEN_ACCESSOR_ID,
    ANONYMOUS_TOKEN_DESCRIPTION,
    ANONYMOUS_TOKEN_SECRET,
    GLOBAL_MANAGEMENT_POLICY_ID,
)
from pytest_consul_events.model.event import new_event_id

__all__ = [
    "ANONYMOUS_TOKEN_ACCESSOR_ID",
    "ANONYMOUS_TOKEN_DESCRIPTION",
    "ANONYMOUS_TOKEN_SECRET",
    "GLOBAL_MANAGEMENT_POLICY_ID",
    "GLOBAL_MANAGEMENT_POLICY_RULES",
    "GLOBAL_READ_ONLY_POLICY_RULES",
    "RESERVED_ID_PREFIX",
    "ROOT_POLICY_NAMES",
    "ACLStore",
    "Authorizer",
    "ChainedAuthorizer",
    "Decision",
    "DecisionAuthorizer",
    "Policy",
    "PolicyAuthorizer",
    "ResolvedACL",
    "Rule",
    "Rules",
    "StaticAuthorizer",
    "Token",
    "access_level",
    "allow_all",
    "deny_all",
    "is_policy_valid",
    "manage_all",
    "merge_rules",
    "parse_rules",
    "permission_denied_message",
    "root_authorizer",
    "takes_precedence_over",
]

# ---------------------------------------------------------------------------------------------
# Consul data (hashicorp/consul). The strings Consul sends are in messages.py.
# ---------------------------------------------------------------------------------------------

# acl/static_authorizer.go RootAuthorizer: secrets that name a root policy
ROOT_POLICY_NAMES: Final = ("allow", "deny", "manage")
# agent/structs/acl.go: the prefix of reserved IDs and the rules of the built-in policies
RESERVED_ID_PREFIX: Final = "00000000-0000-0000-0000-0000000000"
GLOBAL_MANAGEMENT_POLICY_RULES: Final = """
acl = "write"
agent_prefix "" {
\tpolicy = "write"
}
event_prefix "" {
\tpolicy = "write"
}
key_prefix "" {
\tpolicy = "write"
}
keyring = "write"
node_prefix "" {
\tpolicy = "write"
}
operator = "write"
mesh = "write"
peering = "write"
query_prefix "" {
\tpolicy = "write"
}
service_prefix "" {
\tpolicy = "write"
\tintentions = "write"
}
session_prefix "" {
\tpolicy = "write"
}"""
GLOBAL_READ_ONLY_POLICY_RULES: Final = """
acl = "read"
agent_prefix "" {
\tpolicy = "read"
}
event_prefix "" {
\tpolicy = "read"
}
key_prefix "" {
\tpolicy = "read"
}
keyring = "read"
node_prefix "" {
\tpolicy = "read"
}
operator = "read"
mesh = "read"
peering = "read"
query_prefix "" {
\tpolicy = "read"
}
service_prefix "" {
\tpolicy = "read"
\tintentions = "read"
}
session_prefix "" {
\tpolicy = "read"
}"""


def _go_lower(text: str) -> str:
    """Go's ``strings.ToLower`` (simple case mapping: U+0130 becomes a plain ``i``)."""
    return "".join("i" if char == "\u0130" else char.lower() for char in text)


def _is_go_uuid(text: str) -> bool:
    """hashicorp/go-uuid ``ParseUUID``: 36 chars, dashes at 8/13/18/23, hex elsewhere."""
    if len(text) != 36 or any(text[i] != "-" for i in (8, 13, 18, 23)):
        return False
    digits = text[0:8] + text[9:13] + text[14:18] + text[19:23] + text[24:36]
    return all(char in "0123456789abcdefABCDEF" for char in digits)


# ---------------------------------------------------------------------------------------------
# Decoding into Consul's PolicyRules and validating it (acl/policy.go)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _RuleSpec:
    """One ``[]*XxxRule`` field of ``acl.PolicyRules``."""

    block: str  # the hcl tag (and the name in validation messages)
    go_type: str
    key_field: str
    value_fields: tuple[str, ...]
    enterprise_rule: bool  # embeds acl.EnterpriseRule (printed by %#v)
    allow_list: bool  # isPolicyValid(..., allowList)


def _rule_specs(
    block: str, go_type: str, key_field: str, *, intentions: bool = False, ent: bool = False
) -> tuple[_RuleSpec, _RuleSpec]:
    values = ("Policy", "Intentions") if intentions else ("Policy",)
    allow_list = block == "key"
    return (
        _RuleSpec(block, go_type, key_field, values, ent, allow_list),
        _RuleSpec(f"{block}_prefix", go_type, key_field, values, ent, allow_list),
    )


_AGENT: Final = _rule_specs("agent", "acl.AgentRule", "Node")
_KEY: Final = _rule_specs("key", "acl.KeyRule", "Prefix", ent=True)
_NODE: Final = _rule_specs("node", "acl.NodeRule", "Name", ent=True)
_SERVICE: Final = _rule_specs("service", "acl.ServiceRule", "Name", intentions=True, ent=True)
_SESSION: Final = _rule_specs("session", "acl.SessionRule", "Node")
_EVENT: Final = _rule_specs("event", "acl.EventRule", "Event")
_QUERY: Final = _rule_specs("query", "acl.PreparedQueryRule", "Prefix")

# acl.PolicyRules, in declaration order: the order hcl decodes the fields in. A str is a plain
# string field (acl, keyring, operator, mesh, peering).
_POLICY_FIELDS: Final[tuple[str | _RuleSpec, ...]] = (
    "acl",
    *_AGENT,
    *_KEY,
    *_NODE,
    *_SERVICE,
    *_SESSION,
    *_EVENT,
    *_QUERY,
    "keyring",
    "operator",
    "mesh",
    "peering",
)

_RawRule: TypeAlias = dict[str, str]


@dataclass
class _RawPolicy:
    scalars: dict[str, str] = field(default_factory=dict)
    rules: dict[str, list[_RawRule]] = field(default_factory=dict)


def _decode_policy(root: hcl.ObjectList) -> _RawPolicy:
    """``hcl.DecodeObject`` into ``acl.PolicyRules``, field by field in declaration order."""
    raw = _RawPolicy()
    for policy_field in _POLICY_FIELDS:
        if isinstance(policy_field, str):
            value = hcl.decode_string_field(root, "root", policy_field)
            if value is not None:
                raw.scalars[policy_field] = value
            continue
        rules = hcl.decode_struct_list_field(
            root, "root", policy_field.block, policy_field.key_field, policy_field.value_fields
        )
        if rules is not None:
            raw.rules[policy_field.block] = rules
    return raw


def _go_struct(spec: _RuleSpec, rule: _RawRule) -> str:
    """``fmt.Sprintf("%#v", rule)`` for a ``*acl.XxxRule``."""
    parts = [f"{spec.key_field}:{go_quote(rule[spec.key_field])}"]
    parts += [f"{name}:{go_quote(rule[name])}" for name in spec.value_fields]
    if spec.enterprise_rule:
        parts.append("EnterpriseRule:acl.EnterpriseRule{}")
    return f"&{spec.go_type}{{{', '.join(parts)}}}"


_ACCESS_LEVELS: Final = ("deny", "read", "list", "write")


def is_policy_valid(policy: str, *, allow_list: bool) -> bool:
    """``isPolicyValid``: ``read``, ``write``, ``deny`` in any case; ``list`` only if allowed."""
    level = _go_lower(policy)
    return level in _ACCESS_LEVELS and (allow_list or level != "list")


def _validate(raw: _RawPolicy) -> None:
    scalar = raw.scalars.get("acl", "")
    if scalar and not is_policy_valid(scalar, allow_list=False):
        raise InvalidPolicyError(
            messages.INVALID_RULE_POLICY.format(resource="acl", rule=go_quote(scalar))
        )
    for policy_field in _POLICY_FIELDS:
        if isinstance(policy_field, str):
            continue
        for rule in raw.rules.get(policy_field.block, []):
            if not is_policy_valid(rule["Policy"], allow_list=policy_field.allow_list):
                text = messages.INVALID_RULE_POLICY.format(
                    resource=policy_field.block, rule=_go_struct(policy_field, rule)
                )
                raise InvalidPolicyError(text)
            intentions = rule.get("Intentions", "")
            if intentions and not is_policy_valid(intentions, allow_list=False):
                text = messages.INVALID_RULE_INTENTIONS.format(
                    resource=policy_field.block, rule=_go_struct(policy_field, rule)
                )
                raise InvalidPolicyError(text)
    for name in ("keyring", "operator", "mesh", "peering"):
        scalar = raw.scalars.get(name, "")
        if scalar and not is_policy_valid(scalar, allow_list=False):
            raise InvalidPolicyError(
                messages.INVALID_RULE_POLICY.format(resource=name, rule=go_quote(scalar))
            )


# ---------------------------------------------------------------------------------------------
# Rules, merging, decisions
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One ``event``/``agent`` (or ``_prefix``) block: the name or prefix, and the policy as
    written."""

    name: str
    policy: str

    @property
    def access(self) -> str:
        """The access level (``read``, ``write``, ``deny``...) the policy text stands for."""
        return _go_lower(self.policy)


@dataclass(frozen=True)
class Rules:
    """The rules of one policy (or of several merged) that the fake enforces, in source order:
    ``event`` rules for the event endpoints, ``agent`` rules (on node names) for
    ``/v1/agent/self``."""

    events: tuple[Rule, ...] = ()
    event_prefixes: tuple[Rule, ...] = ()
    agents: tuple[Rule, ...] = ()
    agent_prefixes: tuple[Rule, ...] = ()


@functools.lru_cache(maxsize=256)
def parse_rules(rules: str) -> Rules:
    """Parse a Consul policy document (HCL v1 or Consul's JSON form); return its event and
    agent rules.

    JSON is chosen exactly like hcl v1 does: when the first non-space character is ``{``;
    anything else is HCL. Both syntaxes accept every Consul resource type (``acl``, ``agent``,
    ``agent_prefix``, ``key``, ``key_prefix``, ``node``, ``node_prefix``, ``service``,
    ``service_prefix`` with ``intentions``, ``session``, ``session_prefix``, ``event``,
    ``event_prefix``, ``query``, ``query_prefix``, ``keyring``, ``operator``, ``mesh``,
    ``peering``); names match case-insensitively and unknown keys are ignored, as in Consul.
    Access levels are validated case-insensitively (``WRITE`` is ``write``); ``list`` is only
    valid for ``key``/``key_prefix``. The empty string is an empty policy.

    Quirks kept from hcl v1: the JSON parser stops at the first complete object (trailing text
    is ignored) and tolerates a missing ``}``; ``event { policy = "write" }`` (no label) is a
    rule for the event named ``policy``.

    Raises ``RulesParseError`` (``Failed to parse ACL rules: ...``) when the text is not valid
    HCL/JSON or does not decode into Consul's structure, including the few inputs on which
    Consul's Go code would panic (the message then names the Go panic), and
    ``InvalidPolicyError`` with Consul's exact text (``Invalid event policy:
    &acl.EventRule{Event:"foo", Policy:"nope"}``) for the first invalid access level, checked in
    Consul's order.
    """
    if rules == "":
        return Rules()
    try:
        raw = _decode_policy(hcl.decode(rules))
    except hcl.HCLError as failure:
        raise RulesParseError(messages.FAILED_TO_PARSE_RULES.format(error=failure)) from None
    except RecursionError:  # hcl.decode reports its own; this guards the decoding step
        text = messages.FAILED_TO_PARSE_RULES.format(error=hcl.NESTING_TOO_DEEP)
        raise RulesParseError(text) from None
    _validate(raw)

    def block(name: str, key: str) -> tuple[Rule, ...]:
        return tuple(Rule(r[key], r["Policy"]) for r in raw.rules.get(name, []))

    return Rules(
        events=block("event", "Event"),
        event_prefixes=block("event_prefix", "Event"),
        agents=block("agent", "Node"),
        agent_prefixes=block("agent_prefix", "Node"),
    )


def takes_precedence_over(new: str, existing: str) -> bool:
    """``takesPrecedenceOver``: deny > write > list > read, on the exact lowercase words.

    A policy written in another case (``WRITE``) is valid but loses to every lowercase level,
    and of two such the first one stays: that is what Consul's string comparison does.
    """
    for level in ("deny", "write", "list", "read"):
        if new == level:
            return True
        if existing == level:
            return False
    return False


def merge_rules(rule_sets: Iterable[Rules]) -> Rules:
    """Merge several policies' rules like ``MergePolicies``.

    Each kind (exact and prefix, event and agent) is merged separately, key by key: the first
    rule for a key is kept unless a later one ``takes_precedence_over`` it.
    """
    kinds = [kind.name for kind in fields(Rules)]
    merged: dict[str, dict[str, Rule]] = {kind: {} for kind in kinds}
    for rules in rule_sets:
        for kind in kinds:
            target = merged[kind]
            for rule in getattr(rules, kind):
                current = target.get(rule.name)
                if current is None or takes_precedence_over(rule.policy, current.policy):
                    target[rule.name] = rule
    return Rules(**{kind: tuple(merged[kind].values()) for kind in kinds})


def access_level(policy: str) -> str:
    """``AccessLevelFromString``: the lowercase level, or ``InvalidPolicyError``."""
    level = _go_lower(policy)
    if level not in _ACCESS_LEVELS:
        raise InvalidPolicyError(messages.INVALID_ACCESS_LEVEL.format(level=go_quote(policy)))
    return level


class Decision(enum.Enum):
    """An authorizer's answer: ``DEFAULT`` defers to the next authorizer of a chain."""

    ALLOW = "allow"
    DENY = "deny"
    DEFAULT = "default"


def _enforce(level: str, required: Literal["read", "write"]) -> Decision:
    if level == "write":
        return Decision.ALLOW
    if level in ("read", "list"):
        return Decision.ALLOW if required == "read" else Decision.DENY
    return Decision.DENY


@runtime_checkable
class Authorizer(Protocol):
    """What the HTTP layer needs: may this token read / fire the named user event, read the
    agent of the named node?"""

    def event_read(self, name: str) -> bool:
        """True when ``event:read`` on ``name`` is allowed."""
        ...

    def event_write(self, name: str) -> bool:
        """True when ``event:write`` on ``name`` is allowed."""
        ...

    def agent_read(self, node: str) -> bool:
        """True when ``agent:read`` on the node ``node`` is allowed."""
        ...


class DecisionAuthorizer(Protocol):
    """An authorizer that can also say *default* (a link of a ``ChainedAuthorizer``)."""

    def event_read_decision(self, name: str) -> Decision:
        """The decision for ``event:read`` on ``name``."""
        ...

    def event_write_decision(self, name: str) -> Decision:
        """The decision for ``event:write`` on ``name``."""
        ...

    def agent_read_decision(self, node: str) -> Decision:
        """The decision for ``agent:read`` on the node ``node``."""
        ...


class _BoolFromDecision:
    def event_read_decision(self, name: str) -> Decision:
        raise NotImplementedError

    def event_write_decision(self, name: str) -> Decision:
        raise NotImplementedError

    def agent_read_decision(self, node: str) -> Decision:
        raise NotImplementedError

    def agent_read(self, node: str) -> bool:
        """True only for an explicit allow (a *default* is not an allow)."""
        return self.agent_read_decision(node) is Decision.ALLOW

    def event_read(self, name: str) -> bool:
        """True only for an explicit allow (a *default* is not an allow)."""
        return self.event_read_decision(name) is Decision.ALLOW

    def event_write(self, name: str) -> bool:
        """True only for an explicit allow (a *default* is not an allow)."""
        return self.event_write_decision(name) is Decision.ALLOW


@dataclass(frozen=True)
class StaticAuthorizer(_BoolFromDecision):
    """``acl.AllowAll``/``DenyAll``/``ManageAll``: the same answer for every event."""

    name: str
    allow: bool
    manage: bool

    def event_read_decision(self, name: str) -> Decision:
        """Allow for allow-all and manage-all, deny for deny-all."""
        return Decision.ALLOW if self.allow else Decision.DENY

    def event_write_decision(self, name: str) -> Decision:
        """Allow for allow-all and manage-all, deny for deny-all."""
        return Decision.ALLOW if self.allow else Decision.DENY

    def agent_read_decision(self, node: str) -> Decision:
        """Allow for allow-all and manage-all, deny for deny-all."""
        return Decision.ALLOW if self.allow else Decision.DENY


_ALLOW_ALL: Final = StaticAuthorizer("allow", allow=True, manage=False)
_DENY_ALL: Final = StaticAuthorizer("deny", allow=False, manage=False)
_MANAGE_ALL: Final = StaticAuthorizer("manage", allow=True, manage=True)


def allow_all() -> StaticAuthorizer:
    """``acl.AllowAll()``: every event may be read and fired."""
    return _ALLOW_ALL


def deny_all() -> StaticAuthorizer:
    """``acl.DenyAll()``: nothing is allowed."""
    return _DENY_ALL


def manage_all() -> StaticAuthorizer:
    """``acl.ManageAll()``: everything is allowed (what disabled ACLs resolve to)."""
    return _MANAGE_ALL


def root_authorizer(name: str) -> StaticAuthorizer | None:
    """``acl.RootAuthorizer``: ``allow``/``deny``/``manage`` (exact case), else ``None``."""
    return {"allow": _ALLOW_ALL, "deny": _DENY_ALL, "manage": _MANAGE_ALL}.get(name)


def _levels(rules: tuple[Rule, ...]) -> dict[bytes, str]:
    return {go_bytes(r.name): access_level(r.policy) for r in rules}


class PolicyAuthorizer(_BoolFromDecision):
    """``policyAuthorizer`` for events and agents, built from (already merged) rules.

    An exact rule applies only to the whole name and then wins; otherwise the longest prefix
    rule that the name starts with applies; otherwise the decision is ``DEFAULT``. Names are
    compared as UTF-8 bytes, like Go's radix tree.
    """

    def __init__(self, rules: Rules) -> None:
        """Raises ``InvalidPolicyError`` if a rule's policy is not an access level."""
        self._events = (_levels(rules.events), _levels(rules.event_prefixes))
        self._agents = (_levels(rules.agents), _levels(rules.agent_prefixes))

    @classmethod
    def from_policies(cls, rule_sets: Iterable[Rules]) -> PolicyAuthorizer:
        """``NewPolicyAuthorizer``: merge the policies' rules, then build the authorizer."""
        return cls(merge_rules(rule_sets))

    @staticmethod
    def _level(tables: tuple[dict[bytes, str], dict[bytes, str]], name: str) -> str | None:
        exact, prefix = tables
        key = go_bytes(name)
        level = exact.get(key)
        if level is not None:
            return level
        for end in range(len(key), -1, -1):
            level = prefix.get(key[:end])
            if level is not None:
                return level
        return None

    def event_read_decision(self, name: str) -> Decision:
        """``EventRead``: the matching rule's decision for reading, or ``DEFAULT``."""
        level = self._level(self._events, name)
        return Decision.DEFAULT if level is None else _enforce(level, "read")

    def event_write_decision(self, name: str) -> Decision:
        """``EventWrite``: the matching rule's decision for firing, or ``DEFAULT``."""
        level = self._level(self._events, name)
        return Decision.DEFAULT if level is None else _enforce(level, "write")

    def agent_read_decision(self, node: str) -> Decision:
        """``AgentRead``: the matching agent rule's decision for reading, or ``DEFAULT``."""
        level = self._level(self._agents, node)
        return Decision.DEFAULT if level is None else _enforce(level, "read")


class ChainedAuthorizer(_BoolFromDecision):
    """``acl.ChainedAuthorizer``: the first non-default decision wins; all default => deny."""

    def __init__(self, chain: Sequence[DecisionAuthorizer]) -> None:
        self.chain: tuple[DecisionAuthorizer, ...] = tuple(chain)

    def _first(self, decisions: Iterator[Decision]) -> Decision:
        for decision in decisions:
            if decision is not Decision.DEFAULT:
                return decision
        return Decision.DENY

    def event_read_decision(self, name: str) -> Decision:
        """The first non-default ``event:read`` decision of the chain, else deny."""
        return self._first(a.event_read_decision(name) for a in self.chain)

    def event_write_decision(self, name: str) -> Decision:
        """The first non-default ``event:write`` decision of the chain, else deny."""
        return self._first(a.event_write_decision(name) for a in self.chain)

    def agent_read_decision(self, node: str) -> Decision:
        """The first non-default ``agent:read`` decision of the chain, else deny."""
        return self._first(a.agent_read_decision(node) for a in self.chain)


def permission_denied_message(accessor_id: str, resource: str, access: str, name: str) -> str:
    """The detailed ``PermissionDeniedError`` text for a named resource (``event``, ...)."""
    template = (
        messages.PERMISSION_DENIED_ANONYMOUS_DETAIL
        if accessor_id == ANONYMOUS_TOKEN_ACCESSOR_ID
        else messages.PERMISSION_DENIED_DETAIL
    )
    return template.format(accessor=accessor_id, resource=resource, access=access, name=name)


# ---------------------------------------------------------------------------------------------
# The agent's ACL state
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """An ACL policy: ``rules`` is the source text, ``parsed`` its event and agent rules."""

    id: str
    name: str
    description: str
    rules: str
    parsed: Rules = field(repr=False, compare=False)
    create_index: int = 0
    modify_index: int = 0


@dataclass(frozen=True)
class Token:
    """An ACL token. ``policy_ids`` are the linked policies (deduplicated, in link order)."""

    accessor_id: str
    secret_id: str
    description: str = ""
    policy_ids: tuple[str, ...] = ()
    local: bool = False
    create_index: int = 0
    modify_index: int = 0
    create_time: str = field(default="", compare=False)

    @property
    def management(self) -> bool:
        """True when the token links the built-in ``global-management`` policy."""
        return GLOBAL_MANAGEMENT_POLICY_ID in self.policy_ids


@dataclass(frozen=True)
class ResolvedACL(_BoolFromDecision):
    """What ``ACLStore.resolve`` returns: the decision chain and the token it came from.

    ``token`` is ``None`` when ACLs are disabled (every check is then allowed).
    """

    authorizer: DecisionAuthorizer
    token: Token | None

    @property
    def accessor_id(self) -> str:
        """The token's AccessorID, ``""`` when ACLs are disabled."""
        return "" if self.token is None else self.token.accessor_id

    def event_read_decision(self, name: str) -> Decision:
        """The chain's ``event:read`` decision (never ``DEFAULT`` for a resolved token)."""
        return self.authorizer.event_read_decision(name)

    def event_write_decision(self, name: str) -> Decision:
        """The chain's ``event:write`` decision (never ``DEFAULT`` for a resolved token)."""
        return self.authorizer.event_write_decision(name)

    def require_event_read(self, name: str) -> None:
        """``EventReadAllowed``: ``PermissionDeniedError`` (long text in ``detail``) if denied."""
        if not self.event_read(name):
            message = permission_denied_message(self.accessor_id, "event", "read", name)
            raise PermissionDeniedError(message)

    def require_event_write(self, name: str) -> None:
        """``EventWriteAllowed``: ``PermissionDeniedError`` (long text in ``detail``) if denied."""
        if not self.event_write(name):
            message = permission_denied_message(self.accessor_id, "event", "write", name)
            raise PermissionDeniedError(message)

    def agent_read_decision(self, node: str) -> Decision:
        """The chain's ``agent:read`` decision (never ``DEFAULT`` for a resolved token)."""
        return self.authorizer.agent_read_decision(node)

    def require_agent_read(self, node: str) -> None:
        """``AgentReadAllowed``: ``PermissionDeniedError`` (long text in ``detail``) if denied."""
        if not self.agent_read(node):
            message = permission_denied_message(self.accessor_id, "agent", "read", node)
            raise PermissionDeniedError(message)


_POLICY_NAME: Final = re.compile(r"[A-Za-z0-9\-_]+/?[A-Za-z0-9\-_]*")
_BUILTIN_POLICIES: Final = (
    (
        GLOBAL_MANAGEMENT_POLICY_ID,
        messages.GLOBAL_MANAGEMENT_POLICY_NAME,
        messages.GLOBAL_MANAGEMENT_POLICY_DESCRIPTION,
        GLOBAL_MANAGEMENT_POLICY_RULES,
    ),
    (
        messages.GLOBAL_READ_ONLY_POLICY_ID,
        messages.GLOBAL_READ_ONLY_POLICY_NAME,
        messages.GLOBAL_READ_ONLY_POLICY_DESCRIPTION,
        GLOBAL_READ_ONLY_POLICY_RULES,
    ),
)


def _is_valid_policy_name(name: str) -> bool:
    """``acl.IsValidPolicyName``: 1-128 chars, one optional ``/``, no ``builtin/`` prefix."""
    if not 1 <= len(go_bytes(name)) <= 128:
        return False
    if name.startswith(("/", "builtin/")):
        return False
    return _POLICY_NAME.fullmatch(name) is not None


def _now_rfc3339() -> str:
    """The current time as Go's ``time.Time`` marshals it in UTC (RFC 3339, trailing zeros cut)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    text = now.strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{now.microsecond:06d}".rstrip("0")
    return f"{text}.{fraction}Z" if fraction else f"{text}Z"


def _uuid_key(identifier: str) -> str:
    """The key of memdb's UUID indexes (AccessorID, policy ID): the hex is case-insensitive."""
    return identifier.lower()


class ACLStore:
    """The agent's ACL state: switches, built-in policies, tokens, and token resolution.

    ``enabled`` (default ``False``, like Consul) and ``default_policy`` may be changed at any
    time. The store starts with the built-in policies ``global-management`` and
    ``builtin/global-read-only``, the anonymous token (no policies) and, when
    ``initial_management`` is given, the ``Initial Management Token`` with that secret (any
    non-empty string: Consul only warns about a non-UUID one). All methods are thread-safe.

    ``bootstrapped`` says whether the ACL system has been bootstrapped, which decides the text
    of an unknown token's error (:meth:`resolve`). Consul records it once (the
    ``acl-token-bootstrap`` index that ``CanBootstrapACLToken`` reads, agent/consul/state/acl.go)
    when the first management token is made: by ``ACL.Bootstrap``, or by the leader from
    ``acl.tokens.initial_management`` (``initializeACLs`` in agent/consul/leader.go). Here it
    is set by the initial management token and by the first token made with
    :meth:`create_token` or :meth:`configure_token`: on a real cluster such tokens are made
    with the management token the bootstrap gave (with ``default_policy = "allow"`` the
    anonymous token could also make them before any bootstrap; the fake assumes the usual
    set-up, bootstrap first). It stays set until :meth:`reset`, as Consul's stays set when
    tokens are deleted.
    """

    def __init__(
        self,
        *,
        enabled: bool = False,
        default_policy: Literal["allow", "deny"] = "allow",
        initial_management: str | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """``rng`` supplies the bytes of generated IDs (``random.SystemRandom()`` if ``None``;
        a seeded ``random.Random`` makes them reproducible).

        Raises ``ValueError`` for a ``default_policy`` other than ``allow``/``deny`` or an
        empty ``initial_management``.
        """
        if initial_management == "":
            raise ValueError("initial_management must be a non-empty secret or None")
        self.enabled = enabled
        self.default_policy = default_policy
        self._initial_management = initial_management
        self._rng = random.SystemRandom() if rng is None else rng
        self._lock = threading.RLock()
        self._policies: dict[str, Policy] = {}
        self._tokens: dict[str, Token] = {}
        self._by_secret: dict[str, str] = {}
        self._index = 0
        self.bootstrapped = False
        self.reset()

    # -- switches --------------------------------------------------------------------------

    @property
    def default_policy(self) -> Literal["allow", "deny"]:
        """``acl.default_policy``: what a token's rules do not decide."""
        return self._default_policy

    @default_policy.setter
    def default_policy(self, value: Literal["allow", "deny"]) -> None:
        if value not in ("allow", "deny"):
            raise ValueError(f"default_policy must be 'allow' or 'deny', not {value!r}")
        self._default_policy: Literal["allow", "deny"] = value

    def reset(self) -> None:
        """Forget every user policy and token: back to the built-ins, the anonymous token and
        the configured initial management token (switches are left as they are)."""
        with self._lock:
            self._policies.clear()
            self._tokens.clear()
            self._by_secret.clear()
            self._index = 0
            for policy_id, name, description, rules in _BUILTIN_POLICIES:
                index = self._next_index()
                self._policies[policy_id] = Policy(
                    policy_id, name, description, rules, parse_rules(rules), index, index
                )
            self._store(
                Token(
                    ANONYMOUS_TOKEN_ACCESSOR_ID, ANONYMOUS_TOKEN_SECRET, ANONYMOUS_TOKEN_DESCRIPTION
                )
            )
            self.bootstrapped = False
            if self._initial_management is not None:
                self._store(
                    Token(
                        self._new_id(),
                        self._initial_management,
                        messages.INITIAL_MANAGEMENT_TOKEN_DESCRIPTION,
                        (GLOBAL_MANAGEMENT_POLICY_ID,),
                    )
                )
                self.bootstrapped = True

    # -- policies --------------------------------------------------------------------------

    def create_policy(self, name: str, rules: str, description: str = "") -> Policy:
        """Create a policy like ``ACL.PolicySet`` without an ID, and return it.

        Checks, in Consul's order: a name is set, the name is valid, no policy has this name
        (names compare case-insensitively), then the rules parse. Raises ``ACLStoreError`` for
        the name checks and ``RulesParseError``/``InvalidPolicyError`` for the rules.
        """
        with self._lock:
            if name == "":
                raise ACLStoreError(messages.POLICY_NO_NAME)
            if not _is_valid_policy_name(name):
                raise ACLStoreError(messages.POLICY_INVALID_NAME)
            if self._policy_by_name(name) is not None:
                raise ACLStoreError(messages.POLICY_NAME_EXISTS.format(name=go_quote(name)))
            parsed = parse_rules(rules)
            index = self._next_index()
            policy = Policy(self._new_id(), name, description, rules, parsed, index, index)
            self._policies[_uuid_key(policy.id)] = policy
            return policy

    def update_policy(
        self, policy_id: str, *, name: str, rules: str, description: str = ""
    ) -> Policy:
        """Replace a policy's name, rules and description like ``ACL.PolicySet`` with an ID.

        Raises ``ACLStoreError`` (``cannot find policy <id>``, a name problem, or a built-in
        policy's name or rules changed) and ``RulesParseError``/``InvalidPolicyError``.
        """
        with self._lock:
            current = self._policies.get(_uuid_key(policy_id))
            if current is None:
                raise ACLStoreError(messages.POLICY_NOT_FOUND.format(id=policy_id))
            if name == "":
                raise ACLStoreError(messages.POLICY_NO_NAME)
            if not _is_valid_policy_name(name) and name != current.name:
                raise ACLStoreError(messages.POLICY_INVALID_NAME)
            other = self._policy_by_name(name)
            if other is not None and other.id != current.id:
                raise ACLStoreError(messages.POLICY_NAME_EXISTS_UPDATE.format(name=go_quote(name)))
            if current.id == GLOBAL_MANAGEMENT_POLICY_ID and rules != current.rules:
                raise ACLStoreError(messages.POLICY_UPDATE_BUILTIN)
            policy = replace(
                current,
                name=name,
                description=description,
                rules=rules,
                parsed=parse_rules(rules),
                modify_index=self._next_index(),
            )
            self._policies[_uuid_key(policy.id)] = policy
            return policy

    def delete_policy(self, policy_id: str) -> str | None:
        """Delete a policy like ``ACL.PolicyDelete``; return its name, ``None`` if unknown.

        Raises ``ACLStoreError`` for a built-in policy. Tokens keep the link; a missing
        policy is skipped when a token is resolved, as in Consul.
        """
        with self._lock:
            policy = self._policies.get(_uuid_key(policy_id))
            if policy is None:
                return None
            if any(policy.id == builtin[0] for builtin in _BUILTIN_POLICIES):
                raise ACLStoreError(messages.POLICY_DELETE_BUILTIN.format(name=policy.name))
            del self._policies[_uuid_key(policy_id)]
            return policy.name

    def get_policy(self, policy_id: str) -> Policy | None:
        """The policy with this ID (hex compared case-insensitively), or ``None``."""
        with self._lock:
            return self._policies.get(_uuid_key(policy_id))

    def policies(self) -> list[Policy]:
        """Every policy, built-ins included."""
        with self._lock:
            return list(self._policies.values())

    def find_policy(self, name: str) -> Policy | None:
        """The policy with this name (compared case-insensitively, as Consul does), or ``None``."""
        with self._lock:
            return self._policy_by_name(name)

    def _policy_by_name(self, name: str) -> Policy | None:
        wanted = name.lower()
        for policy in self._policies.values():
            if policy.name.lower() == wanted:
                return policy
        return None

    # -- tokens ----------------------------------------------------------------------------

    def create_token(
        self,
        *,
        secret_id: str | None = None,
        accessor_id: str | None = None,
        policies: Sequence[str] = (),
        management: bool = False,
        description: str = "",
        local: bool = False,
    ) -> Token:
        """Create a token like the token writer's ``Create`` and return it.

        Missing IDs are generated (go-uuid style, never reserved, never in use). Given IDs must
        be go-uuid strings outside the reserved ``00000000-...-0000000000xx`` range and must not
        be in use as any token's AccessorID or SecretID. ``policies`` are policy IDs (strings
        in UUID form) or names; ``management=True`` adds the ``global-management`` policy.
        Links are deduplicated. Raises ``ACLStoreError`` with Consul's text on any failure.
        """
        with self._lock:
            if accessor_id is None:
                accessor_id = self._new_id()
            else:
                self._check_new_id(
                    accessor_id, messages.TOKEN_ACCESSOR_INVALID, messages.TOKEN_ACCESSOR_IN_USE
                )
            if secret_id is None:
                secret_id = self._new_id(exclude=_uuid_key(accessor_id))
            else:
                self._check_new_id(
                    secret_id, messages.TOKEN_SECRET_INVALID, messages.TOKEN_SECRET_IN_USE
                )
            links = [*policies, GLOBAL_MANAGEMENT_POLICY_ID] if management else list(policies)
            token = Token(accessor_id, secret_id, description, self._policy_links(links), local)
            self.bootstrapped = True  # see the class docstring
            return self._store(token)

    def update_token(
        self,
        accessor_id: str,
        *,
        policies: Sequence[str] | None = None,
        description: str | None = None,
    ) -> Token:
        """Change a token's policy links and/or description (the anonymous token too).

        Raises ``ACLStoreError`` (``AccessorID is not a valid UUID``, ``Cannot find token
        "..."``, or a policy-link error) like the token writer's ``Update``.
        """
        with self._lock:
            if not _is_go_uuid(accessor_id):
                raise ACLStoreError(messages.TOKEN_UPDATE_BAD_ACCESSOR)
            token = self._tokens.get(_uuid_key(accessor_id))
            if token is None:
                raise ACLStoreError(messages.TOKEN_NOT_FOUND.format(accessor=go_quote(accessor_id)))
            if policies is not None:
                token = replace(token, policy_ids=self._policy_links(policies))
            if description is not None:
                token = replace(token, description=description)
            return self._store(token)

    def delete_token(self, accessor_id: str) -> None:
        """Delete a token like ``ACL.TokenDelete``; unknown accessors are ignored.

        Raises ``ACLStoreError`` for an accessor that is not a UUID or for the anonymous token.
        """
        with self._lock:
            if not _is_go_uuid(accessor_id):
                raise ACLStoreError(messages.TOKEN_DELETE_BAD_ACCESSOR)
            if _uuid_key(accessor_id) == ANONYMOUS_TOKEN_ACCESSOR_ID:
                raise ACLStoreError(messages.TOKEN_DELETE_ANONYMOUS)
            token = self._tokens.pop(_uuid_key(accessor_id), None)
            if token is not None:
                del self._by_secret[token.secret_id]

    def get_token(self, accessor_id: str) -> Token | None:
        """The token with this AccessorID (hex compared case-insensitively), or ``None``."""
        with self._lock:
            return self._tokens.get(_uuid_key(accessor_id))

    def tokens(self) -> list[Token]:
        """Every token, the anonymous one included."""
        with self._lock:
            return list(self._tokens.values())

    # -- resolution ------------------------------------------------------------------------

    def resolve(self, secret: str) -> ResolvedACL:
        """Resolve a request's token secret like ``ACLResolver.ResolveToken``.

        * ACLs disabled: everything is allowed and the secret is ignored (even ``deny``).
        * ``allow``, ``deny``, ``manage``: ``RootACLError`` (``Cannot resolve root ACL``).
        * ``""``: the anonymous token (so is the secret ``anonymous``).
        * unknown secret: ``ACLNotFoundError``: ``ACL not found``, or, while the ACL system
          is not bootstrapped (no management token and no token made yet), Consul's longer
          ``ACL system must be bootstrapped ...: ACL not found`` (``ResolveIdentityFromToken``
          in agent/consul/acl_server.go wraps ``acl.ErrNotFound`` when
          ``CanBootstrapACLToken()`` is true).
        * otherwise the token's policies (sorted by ID, missing ones skipped) are merged and
          chained with the default policy (``allow`` => allow-all, ``deny`` => deny-all).
        """
        with self._lock:
            if not self.enabled:
                return ResolvedACL(_MANAGE_ALL, None)
            if root_authorizer(secret) is not None:
                raise RootACLError
            if secret == "":
                secret = ANONYMOUS_TOKEN_SECRET
            accessor = self._by_secret.get(secret)
            if accessor is None:
                if self.bootstrapped:
                    raise ACLNotFoundError
                raise ACLNotFoundError(
                    messages.ACL_NOT_BOOTSTRAPPED.format(error=messages.ACL_NOT_FOUND)
                )
            token = self._tokens[accessor]
            rule_sets = [
                self._policies[key].parsed
                for key in sorted({_uuid_key(pid) for pid in token.policy_ids})
                if key in self._policies
            ]
            default = _ALLOW_ALL if self.default_policy == "allow" else _DENY_ALL
            chain = ChainedAuthorizer((PolicyAuthorizer.from_policies(rule_sets), default))
            return ResolvedACL(chain, token)

    # -- helpers ---------------------------------------------------------------------------

    def configure_token(
        self, secret_id: str, *, policies: Sequence[str] = (), description: str = ""
    ) -> Token:
        """Add a token with any non-empty secret, as the agent's configuration can.

        Consul requires UUIDs for secrets created through its API, but tokens given in its
        configuration (``acl.tokens``) may be any string; tests read better with
        ``"deployer"`` than with a UUID. Raises ``ACLStoreError`` when the secret is in use
        or a policy link is unknown, ``ValueError`` for an empty secret.
        """
        if not secret_id:
            raise ValueError("a token secret must not be empty")
        with self._lock:
            if secret_id in self._by_secret:
                raise ACLStoreError(messages.TOKEN_SECRET_IN_USE)
            token = Token(self._new_id(), secret_id, description, self._policy_links(policies))
            self.bootstrapped = True  # see the class docstring
            return self._store(token)

    def _next_index(self) -> int:
        self._index += 1
        return self._index

    def _store(self, token: Token) -> Token:
        key = _uuid_key(token.accessor_id)
        previous = self._tokens.get(key)
        index = self._next_index()
        if previous is not None:
            del self._by_secret[previous.secret_id]
            token = replace(
                token,
                create_index=previous.create_index,
                create_time=previous.create_time,
                modify_index=index,
            )
        else:
            token = replace(
                token, create_index=index, modify_index=index, create_time=_now_rfc3339()
            )
        self._tokens[key] = token
        self._by_secret[token.secret_id] = key
        return token

    def _id_in_use(self, identifier: str) -> bool:
        return _uuid_key(identifier) in self._tokens or identifier in self._by_secret

    def _new_id(self, *, exclude: str = "") -> str:
        """``lib.GenerateUUID`` with the server's check: not reserved, not used anywhere.

        ``exclude`` keeps a new token's SecretID apart from the AccessorID just generated for
        it (Consul does not check that, but the odds of a clash are 2**-122 there).
        """
        while True:
            candidate = new_event_id(self._rng)
            if candidate.startswith(RESERVED_ID_PREFIX) or _uuid_key(candidate) == exclude:
                continue
            if self._id_in_use(candidate) or _uuid_key(candidate) in self._policies:
                continue
            return candidate

    def _check_new_id(self, identifier: str, invalid: str, in_use: str) -> None:
        if identifier.startswith(RESERVED_ID_PREFIX):
            raise ACLStoreError(invalid.format(reason=messages.UUID_RESERVED))
        if not _is_go_uuid(identifier):
            raise ACLStoreError(invalid.format(reason=messages.UUID_NOT_VALID))
        if self._id_in_use(identifier):
            raise ACLStoreError(in_use)

    def _policy_links(self, links: Iterable[str]) -> tuple[str, ...]:
        resolved: list[str] = []
        for link in links:
            if _is_go_uuid(link):
                policy = self._policies.get(_uuid_key(link))
                if policy is None:
                    raise ACLStoreError(messages.NO_SUCH_POLICY_ID.format(id=go_quote(link)))
            else:
                policy = self._policy_by_name(link)
                if policy is None:
                    raise ACLStoreError(messages.NO_SUCH_POLICY_NAME.format(name=go_quote(link)))
            if policy.id not in resolved:
                resolved.append(policy.id)
        return tuple(resolved)
